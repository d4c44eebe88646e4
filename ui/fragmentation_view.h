// Fragmentation (Qt Charts). Top: per size class at the chosen moment, where its span bytes go, as
// a share of them: bytes requested, slot padding (slot bytes beyond the request: internal waste),
// free slots, tail waste (the span's bytes past its last slot), for the classes holding the most
// span bytes (each labelled with its object size and span bytes). The requested share of the
// objects in use is the class's cumulative requested / (mallocs x size), from its counters. Bottom:
// over the session, the heap-wide fragmentation ratio (1 - HeapAlloc / HeapInuse) and free pages:
// all free (HeapIdle) vs the largest free run. While a time range is selected (setRange) the panel
// shows the range: a RangeBanner with the fragmentation's min / mean / max over it (the range
// panel's Fragmentation row, same figures), the per-class bars at the range's start and at its end
// one above the other (for the classes holding the most span bytes at either end), and the
// over-time chart zoomed to the range with the fragmentation in bytes (HeapInuse - HeapAlloc) drawn
// too. setRange(nullptr) goes back.
#pragma once
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChartView>
#include <QHorizontalPercentBarSeries>
#include <QLineSeries>
#include <QValueAxis>
#include <QWidget>

class QTabWidget;

#include "range_banner.h"
#include "range_client.h"
#include "snapshots.h"

namespace spanscope::ui {

// The share of a class's slot bytes that was asked for (1 when the session has no requested bytes).
double requestedShare(const session::ClassTotals& c);

class FragmentationView : public QWidget {
    Q_OBJECT
public:
    static constexpr int kMaxClasses = 10;
    static constexpr int kMaxRangeClasses = 6;  // two bars each
    static constexpr int kSets = 4;             // requested, slot padding, free slots, tail waste
    explicit FragmentationView(QWidget* parent = nullptr);
    void setMoment(const MomentPtr& m);
    void setSeries(const SeriesPtr& s);
    void setRange(const RangePtr& r);  // nullptr (or not ok): the moment again
    bool showsRange() const { return m_range != nullptr; }
    RangeBanner* banner() const { return m_banner; }
    QString classChartTitle() const { return m_classChart->title(); }
    std::pair<double, double> timeAxisRange() const { return {m_tAxis->min(), m_tAxis->max()}; }
    // For tests: the categories shown and the values (bytes) of set i (0 requested, 1 slot padding,
    // 2 free slots, 3 tail waste).
    QStringList categories() const;
    // The per-class chart's plot area and its category labels' font (tests: every label has room).
    QRectF classPlotArea() const { return m_classChart->plotArea(); }
    QFont classLabelsFont() const;
    // The over-time chart's plot area, its value axes' tick count and label font (tests: the value
    // labels have room, none elided to "…").
    QRectF timePlotArea() const { return m_timeChart->plotArea(); }
    int valueTicks() const { return m_pctAxis->tickCount(); }
    QFont valueLabelsFont() const { return m_pctAxis->labelsFont(); }
    // Presenter mode: only the per-class chart (the over-time chart's axes do not fit large type).
    void setOverTimeVisible(bool on) { m_timeView->setVisible(on); }
    QList<qreal> values(int set) const;
    // Compact (a small screen): the two charts are tabs ("At the cursor", "Over time") instead of
    // one above the other.
    void setCompact(bool on);
    bool compact() const { return m_compact; }

private:
    void showClasses(const std::vector<std::pair<QString, const session::ClassTotals*>>& rows);
    void showMomentClasses();
    int rowsThatFit() const;  // bars whose labels the per-class chart has the height for
    void showRangeClasses();
    void applyTimeAxis();
    RangeBanner* m_banner;
    MomentPtr m_moment;
    RangePtr m_range;
    SeriesPtr m_seriesData;
    QLineSeries* m_fragBytes;  // HeapInuse - HeapAlloc (MiB), shown over a range
    QChartView* m_classView;
    int m_rowsFit = -1;  // rowsThatFit() when the classes were last chosen for it
    QChart* m_classChart;
    QHorizontalPercentBarSeries* m_bars;
    QBarSet* m_sets[kSets];
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
    QTabWidget* m_tabs = nullptr;
    bool m_compact = false;
};

}  // namespace spanscope::ui
