// Fragmentation (Qt Charts). Top: per size class at the chosen moment, where its span bytes go, as
// a share of them: objects in use, free slots, tail waste (the span's bytes past its last slot), for
// the classes holding the most span bytes (each labelled with its object size and span bytes). Bottom: over the session, the heap-wide fragmentation ratio
// (1 - HeapAlloc / HeapInuse) and free pages: all free (HeapIdle) vs the largest free run.
#pragma once
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChartView>
#include <QHorizontalPercentBarSeries>
#include <QLineSeries>
#include <QValueAxis>
#include <QWidget>

#include "snapshots.h"

namespace spanscope::ui {

class FragmentationView : public QWidget {
    Q_OBJECT
public:
    static constexpr int kMaxClasses = 10;
    explicit FragmentationView(QWidget* parent = nullptr);
    void setMoment(const MomentPtr& m);
    void setSeries(const SeriesPtr& s);
    // For tests: the categories shown and the values (bytes) of set i (0 in use, 1 free slots, 2 tail waste).
    QStringList categories() const;
    QList<qreal> values(int set) const;

private:
    QChartView* m_classView;
    QChart* m_classChart;
    QHorizontalPercentBarSeries* m_bars;
    QBarSet* m_sets[3];
    QBarCategoryAxis* m_catAxis;
    QValueAxis* m_bytesAxis;

    QChartView* m_timeView;
    QChart* m_timeChart;
    QLineSeries* m_ratio;
    QLineSeries* m_idle;
    QLineSeries* m_largest;
    QLineSeries* m_cursor;
    QValueAxis* m_tAxis;
    QValueAxis* m_pctAxis;
    QValueAxis* m_mibAxis;
    int64_t m_t = 0;
};

}  // namespace spanscope::ui
