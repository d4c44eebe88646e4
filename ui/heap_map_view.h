// The heap map widget: shows a HeapScene. paintEvent only blits an image made by renderHeapMap;
// the image is remade when the scene, the size, the zoom or the hovered span changes.
// By default the map fits the address range the heap has mapped (a small heap also gets narrower
// rows: HeapMapLayout::bestColumns); setWholeArenas shows whole 64 MiB arenas instead.
// Wheel zooms around the mouse, drag pans, double-click fits; hover shows the span in a tooltip;
// a click on a span emits spanClicked (the window opens the span inspector). setClassFilter greys
// out every span of another class.
// While a time range is selected (setRange) the map shows the heap at the range's end, the spans
// taken from the heap in the range outlined in green and those returned to it in dashed red (the
// range's SpanChanges: as many as the range panel counts), under a RangeBanner saying so;
// setRange(nullptr) goes back to the cursor's moment.
// HeapMapLegend (below the map) names every colour; a click on a class selects it.
#pragma once
#include <QImage>
#include <QWidget>
#include <memory>
#include <optional>

#include "heap_map_renderer.h"
#include "range_banner.h"
#include "range_client.h"
#include "snapshots.h"

namespace spanscope::ui {

class HeapMapView : public QWidget {
    Q_OBJECT
public:
    explicit HeapMapView(QWidget* parent = nullptr);
    void setMoment(const MomentPtr& m);  // nullptr clears
    void setRange(const RangePtr& r);    // nullptr (or not ok): the moment again
    bool showsRange() const { return m_range != nullptr; }
    const MomentPtr& shownMoment() const { return m_moment; }  // the range's end or the cursor's
    RangeBanner* banner() const { return m_banner; }
    const RenderOptions& rangeOutlines() const { return m_rangeRuns; }  // taken and returned
    void setSizeClasses(const std::vector<stream::ClassEntry>& classes) { m_classes = classes; }
    void fitToView();
    void zoomBy(double factor, QPointF aroundPx);
    // Zooms in by factor (of the fitting scale) around the middle of the range in use.
    void zoomToMiddle(double factor);
    // Shows the span starting at base at about a third of the view (if it is in the scene).
    bool zoomToSpan(uint64_t base);
    void setWholeArenas(bool on);
    bool wholeArenas() const { return m_wholeArenas; }
    void setClassFilter(int sizeClass);  // -1: none
    // The presenter's narrated span (or page run): outlined in yellow; with zoomWhenSmall, the map
    // zooms to it once a moment shows it, if it is under 24 px across.
    void setFocus(std::optional<uint64_t> addr, bool zoomWhenSmall);
    std::optional<uint64_t> focus() const { return m_focus; }
    // The addresses whose spans are outlined in magenta (the profile's selected frame's sampled
    // objects); empty clears.
    void setMarkedAddresses(std::vector<uint64_t> addrs);
    const std::vector<uint64_t>& markedAddresses() const { return m_marked; }
    int classFilter() const { return m_onlyClass; }
    // Shows the map at this zoom (a multiple of the fitting scale) with this cell at the top left.
    void showAt(double zoom, QPointF topLeftCell);

    const HeapMapLayout& layout() const { return m_layout; }
    const MapViewport& viewport() const { return m_vp; }
    const QImage& image() const { return m_image; }
    const HeapScene* scene() const { return m_moment ? &m_moment->scene : nullptr; }
    // The tooltip text for the tile under pixel px of this widget (empty over nothing).
    QString describeAt(QPointF px) const;
    // The base address of the span (or large-object) tile under pixel px, if any.
    std::optional<uint64_t> spanAt(QPointF px) const;
    double lastRenderMs() const { return m_renderMs; }
    QSize sizeHint() const override { return {900, 560}; }

signals:
    void hovered(const QString& description);
    void spanClicked(quint64 base);  // a click (not a drag) on a span or large-object tile
    void shownMomentChanged();       // shownMoment() is another moment (the legend follows it)

protected:
    void paintEvent(QPaintEvent*) override;
    void resizeEvent(QResizeEvent*) override;
    void wheelEvent(QWheelEvent*) override;
    void mousePressEvent(QMouseEvent*) override;
    void mouseMoveEvent(QMouseEvent*) override;
    void mouseReleaseEvent(QMouseEvent*) override;
    void mouseDoubleClickEvent(QMouseEvent*) override;
    void leaveEvent(QEvent*) override;
    bool event(QEvent*) override;

private:
    void display(const MomentPtr& m);
    void placeBanner();
    void relayout();
    void rerender();
    MomentPtr m_moment;        // what the map shows: the cursor's moment, or the range's end
    MomentPtr m_cursorMoment;  // the latest setMoment
    RangePtr m_range;
    RenderOptions m_rangeRuns;  // taken and returned of m_range
    RangeBanner* m_banner;
    std::vector<stream::ClassEntry> m_classes;
    HeapMapLayout m_layout;
    MapViewport m_vp;
    bool m_fitted = true;  // keep fitting on resize until the user zooms or pans
    bool m_wholeArenas = false;
    std::optional<uint64_t> m_focus;
    std::vector<uint64_t> m_marked;
    bool m_focusZoomPending = false;
    int m_onlyClass = -1;
    int desiredColumns() const;
    MapViewport fittedViewport() const;
    QImage m_image;
    std::optional<uint64_t> m_hoverBase;
    std::optional<QPoint> m_dragFrom;
    MapViewport m_dragVp;
    double m_renderMs = 0;
};

// Every colour of the map, in rows that wrap to the width (the window puts it in a scroll area):
// the page states, the occupancy scale, then every size class present, largest first. A click on
// a class emits classClicked (again: -1, to clear the filter).
class HeapMapLegend : public QWidget {
    Q_OBJECT
public:
    explicit HeapMapLegend(QWidget* parent = nullptr);
    void setMoment(const MomentPtr& m);
    void setSelectedClass(int sizeClass);
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override { return {200, rowHeight() + 8}; }
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int w) const override;
    // The entries as laid out at width w: text and rectangle (for tests: nothing is cut).
    struct Entry {
        QRgb color;
        QString text;
        int sizeClass;  // -1: not a class
        QRect rect;
    };
    std::vector<Entry> entries(int w) const;

signals:
    void classClicked(int sizeClass);

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent*) override;

private:
    int rowHeight() const { return fontMetrics().height() + 6; }
    std::vector<std::pair<int, uint32_t>>
        m_classes;  // (class, object size), largest span bytes first
    bool m_releasedEstimated = false;
    int m_selected = -1;
};

}  // namespace spanscope::ui
