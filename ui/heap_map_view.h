// The heap map widget: shows a HeapScene. paintEvent only blits an image made by renderHeapMap;
// the image is remade when the scene, the size, the zoom or the hovered span changes.
// Wheel zooms around the mouse, drag pans, double-click fits; hover shows the span in a tooltip;
// a click on a span emits spanClicked (the window opens the span inspector).
// HeapMapLegend (below the map) names the colours.
#pragma once
#include <QImage>
#include <QWidget>
#include <memory>
#include <optional>

#include "heap_map_renderer.h"
#include "snapshots.h"

namespace spanscope::ui {

class HeapMapView : public QWidget {
    Q_OBJECT
public:
    explicit HeapMapView(QWidget* parent = nullptr);
    void setMoment(const MomentPtr& m);  // nullptr clears
    void setSizeClasses(const std::vector<stream::ClassEntry>& classes) { m_classes = classes; }
    void fitToView();
    void zoomBy(double factor, QPointF aroundPx);
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
    void relayout();
    void rerender();
    MomentPtr m_moment;
    std::vector<stream::ClassEntry> m_classes;
    HeapMapLayout m_layout;
    MapViewport m_vp;
    bool m_fitted = true;  // keep fitting on resize until the user zooms or pans
    QImage m_image;
    std::optional<uint64_t> m_hoverBase;
    std::optional<QPoint> m_dragFrom;
    MapViewport m_dragVp;
    double m_renderMs = 0;
};

class HeapMapLegend : public QWidget {
    Q_OBJECT
public:
    explicit HeapMapLegend(QWidget* parent = nullptr);
    void setMoment(const MomentPtr& m);
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override { return {200, sizeHint().height()}; }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    std::vector<std::pair<int, uint32_t>> m_classes;  // (class, object size), largest span bytes first
    bool m_releasedEstimated = false;
};

}  // namespace spanscope::ui
