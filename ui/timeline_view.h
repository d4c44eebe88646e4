// The timeline (Qt Charts): heap live, heap goal (next sweep trigger), in spans, sys and released
// over time, on a y axis in the unit that fits (bytes to GiB: a 1 MiB heap gets a KiB axis); sweep
// generations as translucent bands, GC cycles as bands by phase (concurrent mark orange, the two
// stop-the-world pauses red, with a red tick at the top); a cursor the user drags (or clicks) to
// choose the moment every panel shows: it emits seek(t). Wheel zooms the time axis around the mouse
// (asks for detail with rangeRequested), double-click shows the whole session. In live mode the
// cursor follows the end while followEnd is on. Shift+drag selects a time range (a blue band):
// rangeSelected(t0, t1) when the mouse is released, rangeCleared() when a plain click or Escape
// removes it; the selection is the range every range-aware panel (range panel, flow view, flame
// graph) shows. Where a memory limit is set (GOMEMLIMIT, managed sessions), a dash-dot black line
// at the limit from the start of each cycle that ran under it, labelled with its value. A bounded
// recording (--max-size / --keep) dropped its beginning: the part before keptFrom is hatched grey,
// labelled "not kept", and the cursor stops at its edge.
#pragma once
#include <QChartView>
#include <QLineSeries>
#include <QPixmap>
#include <QValueAxis>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "snapshots.h"

namespace spanscope::ui {

class TimelineView : public QChartView {
    Q_OBJECT
public:
    explicit TimelineView(QWidget* parent = nullptr);

    void setSessionLength(int64_t endNs);  // the whole session: the default x range
    // Where records were dropped (SessionInfo::gaps): hatched, labelled bands.
    void setGaps(std::vector<session::DropGap> gaps);
    void setSeries(const SeriesPtr& s);  // heap samples and cycles
    void setCursorTime(int64_t tNs);     // move the cursor without emitting seek
    void setKeptFrom(int64_t tNs);       // a bounded recording's first kept moment (0: all)
    int64_t keptFrom() const { return m_keptFrom; }
    // Live: extends every line to tNs with the latest sample h (the series arrive at most once a
    // second, the moments four times as often).
    void setTail(int64_t tNs, const session::HeapSample& h);
    int64_t cursorTime() const { return m_cursor; }
    void setFollowEnd(bool on) { m_follow = on; }
    bool followEnd() const { return m_follow; }
    void resetZoom();
    std::pair<int64_t, int64_t> visibleRange() const { return {m_t0, m_t1}; }
    const QLineSeries* series(int i) const { return m_series[static_cast<size_t>(i)]; }
    static constexpr int kSeriesCount =
        5;  // sys, goal, released, in use, live (drawn in this order)
    // The memory limit drawn for time t (0: none there): the limit of the latest GC cycle started
    // at or before t, as the timeline paints it.
    uint64_t memoryLimitAt(int64_t tNs) const;
    // The selected range [t0, t1], if any; setSelection emits rangeSelected, clearSelection
    // rangeCleared (each only when the selection changes).
    std::optional<std::pair<int64_t, int64_t>> selection() const;
    void setSelection(int64_t t0, int64_t t1);
    void clearSelection();
    // Pixel x (in this widget) of time t, and back.
    double xOf(int64_t tNs) const;
    int64_t timeAt(double x) const;

signals:
    void seek(qint64 tNs);
    void rangeRequested(qint64 t0, qint64 t1);
    void userMovedCursor();  // the user took the cursor (live mode stops following)
    void rangeSelected(qint64 t0, qint64 t1);
    void rangeCleared();

protected:
    void drawForeground(QPainter* p, const QRectF& rect) override;
    void mousePressEvent(QMouseEvent*) override;
    void mouseMoveEvent(QMouseEvent*) override;
    void mouseReleaseEvent(QMouseEvent*) override;
    void mouseDoubleClickEvent(QMouseEvent*) override;
    void wheelEvent(QWheelEvent*) override;
    void keyPressEvent(QKeyEvent*) override;

private:
    void applyRange(int64_t t0, int64_t t1, bool request);
    void seekToX(double x);
    QChart* m_chart;
    QValueAxis* m_x;
    QValueAxis* m_y;
    std::vector<QLineSeries*> m_series;
    std::vector<QLineSeries*> m_bandKeys;  // empty series: the bands' legend entries
    SeriesPtr m_data;
    // drawForeground's cache of the cycles' bands, and what it was drawn for.
    struct BandKey {
        QRectF plot;
        int64_t t0 = 0, t1 = 0, end = 0;
        uint64_t series = 0;  // m_seriesVersion
        size_t cycles = 0, phases = 0;
        qreal dpr = 0;
        bool operator==(const BandKey&) const = default;
    };
    void paintBands(QPainter* p, const QRectF& plot) const;
    BandKey m_bandKey;
    uint64_t m_seriesVersion = 0;  // setSeries calls
    QPixmap m_bands;
    std::vector<session::DropGap> m_gaps;
    struct LimitSegment {  // the memory limit in force from t0 to t1 (the cycles' starts)
        int64_t t0, t1;
        uint64_t bytes;
    };
    std::vector<LimitSegment> m_limits;
    std::unordered_map<int64_t, std::pair<size_t, size_t>>
        m_phasesOfCycle;  // [first, last+1) in m_data->phases
    int64_t m_end = 0, m_t0 = 0, m_t1 = 0, m_cursor = 0, m_keptFrom = 0;
    bool m_dragging = false, m_follow = false, m_zoomed = false;
    bool m_tailShown = false;  // the series' last point is setTail's
    double m_unit = 1024.0 * 1024.0, m_ymax = 0;
    bool m_selecting = false,
         m_hasSelection = false;  // Shift+drag in progress; a range is selected
    int64_t m_selAnchor = 0, m_sel0 = 0, m_sel1 = 0;
};

}  // namespace spanscope::ui
