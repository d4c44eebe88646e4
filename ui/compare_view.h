// The compare window: two sessions side by side (GOGC 50 against 400, yesterday's build against
// today's). Timelines overlaid (heap in use, heap allocated and fragmentation of each), aligned
// at their starts or at the start of GC cycle n; the summary figures of both with deltas (cycles,
// pauses, peak heap, fragmentation); and per size class the deltas of spans, objects, bytes and
// waste at each session's end. The same figures as `spanscope-cli diff` (session::summaryFigures).
// Both sessions are read on a worker thread.
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
    // The offset (ns) subtracted from each side's times: 0, or the start of cycle n (if it has one).
    std::pair<int64_t, int64_t> offsets() const { return {m_offsetA, m_offsetB}; }
    CompareDataPtr data() const { return m_data; }
    QTableWidget* summaryTable() const { return m_summary; }
    QTableWidget* classTable() const { return m_classes; }
    QChartView* chart() const { return m_chartView; }

signals:
    void loaded();  // the data is shown (or the error)

private:
    void showData(const CompareDataPtr& d);
    void fillTables();
    void fillChart();
    QLabel* m_title;
    QComboBox* m_align;
    QSpinBox* m_cycle;
    QChartView* m_chartView;
    QValueAxis* m_x;
    QValueAxis* m_y;
    QTableWidget* m_summary;
    QTableWidget* m_classes;
    CompareDataPtr m_data;
    int64_t m_offsetA = 0, m_offsetB = 0;
    QThread* m_thread = nullptr;
};

}  // namespace spanscope::ui
