// The compare window: two sessions side by side (GOGC 50 against 400, yesterday's build against
// today's). Timelines overlaid (heap in use and heap allocated of each), aligned at their starts or
// at the start of GC cycle n; below them the fragmentation of each session side by side, two charts
// on the same axes (the same aligned time range, the same MiB and % scales) so that their heights
// compare: the bytes in in-use spans that hold no object (HeapInuse - HeapAlloc) and the ratio
// 1 - HeapAlloc / HeapInuse, titled with the peak and mean `diff` prints; the summary figures of
// both with deltas (cycles, pauses, peak heap, fragmentation); and per size class the deltas of
// spans, objects, bytes and waste at each session's end. The same figures as `spanscope-cli diff`
// (session::summaryFigures). Both sessions are read on a worker thread.
#pragma once
#include <QChartView>
#include <QComboBox>
#include <QLabel>
#include <QSpinBox>
#include <QTableWidget>
#include <QValueAxis>
#include <QWidget>
#include <memory>

#include "spanscope/session_range.h"

namespace spanscope::ui {

struct CompareSide {  // one session's data, read once
    QString path;
    QString error;  // empty when read
    session::SessionSummary summary;
    std::vector<session::HeapSample> heap;  // decimated
    std::vector<session::GcCycle> cycles;
};
struct CompareData {
    CompareSide a, b;
    double ms = 0;  // time the worker took for both
};
using CompareDataPtr = std::shared_ptr<const CompareData>;

class CompareWindow : public QWidget {
    Q_OBJECT
public:
    explicit CompareWindow(const QString& a, const QString& b, QWidget* parent = nullptr);
    ~CompareWindow() override;
    enum class Align { Start, Cycle };
    void setAlignment(Align how, int cycle = 1);
    // The offset (ns) subtracted from each side's times: 0, or the start of cycle n (if it has
    // one).
    std::pair<int64_t, int64_t> offsets() const { return {m_offsetA, m_offsetB}; }
    CompareDataPtr data() const { return m_data; }
    QTableWidget* summaryTable() const { return m_summary; }
    QTableWidget* classTable() const { return m_classes; }
    QChartView* chart() const { return m_chartView; }
    // The whole compare window to PNG or SVG (export.h) at its size; the Export button asks where.
    bool exportTo(const QString& path, QString* err);
    // The fragmentation chart of side 0 (a) or 1 (b): series 0 bytes (MiB), series 1 ratio (%).
    QChartView* fragmentationChart(int side) const { return m_frag[side ? 1 : 0].view; }
    // (min, max) of a fragmentation chart's MiB axis (bytes true) or time axis (false).
    std::pair<double, double> fragmentationAxis(int side, bool bytes) const;

signals:
    void loaded();  // the data is shown (or the error)

private:
    void showData(const CompareDataPtr& d);
    void fillTables();
    void fillChart();
    void fillFragmentation();
    QLabel* m_title;
    QComboBox* m_align;
    QSpinBox* m_cycle;
    QChartView* m_chartView;
    QValueAxis* m_x;
    QValueAxis* m_y;
    struct FragChart {
        QChartView* view = nullptr;
        QValueAxis *x = nullptr, *mib = nullptr, *pct = nullptr;
    };
    FragChart m_frag[2];
    QTableWidget* m_summary;
    QTableWidget* m_classes;
    CompareDataPtr m_data;
    int64_t m_offsetA = 0, m_offsetB = 0;
    QThread* m_thread = nullptr;
};

}  // namespace spanscope::ui
