// The heap map's pixels: a pure function (scene, layout, viewport, size) -> QImage, and the
// matching hit-test (pixel -> tile). HeapMapView only blits the image; tests call these directly.
//
// Under kGridScale pixels per page the pages are drawn into a one-value-per-page buffer and sampled
// per pixel (nearest neighbour); from kGridScale up each visible tile is filled as rectangles with
// separators at span starts and between rows.
// Cost is O(pixels + pages visible): a 4 GiB heap (524288 pages, 64 arenas) redraws in a few ms
// (tests/ui/heap_map_bench.cpp; the figure is in docs/BENCHMARKS.md).
#pragma once
#include <QImage>
#include <QPointF>
#include <QSize>
#include <optional>

#include "heap_map_layout.h"
#include "heap_scene.h"

namespace spanscope::ui {

inline constexpr double kGridScale = 4.0;

// Pixel = (cell - origin) * scale. scale is pixels per cell (page).
struct MapViewport {
    double scale = 1.0;
    QPointF origin;  // the cell coordinate at pixel (0, 0)
    QPointF toPixel(QPointF cell) const { return (cell - origin) * scale; }
    QPointF toCell(QPointF px) const { return origin + px / scale; }
};

// The viewport that shows the whole map centred in a view of this size.
MapViewport fitViewport(const HeapMapLayout& layout, QSize view);

struct RenderOptions {
    std::optional<uint64_t> highlightBase;  // outline the tile starting here (hover)
    bool labels = true;                     // arena labels, when they fit
};

// Tile colour: size-class colour shaded by occupancy; large, free and released pages their own.
QRgb tileColor(const Tile& t);

QImage renderHeapMap(const HeapScene& scene, const HeapMapLayout& layout, const MapViewport& vp,
                     QSize size, const RenderOptions& opts = {});

// Index into scene.tiles of the tile under pixel px, or nullopt (a gap, a label, unmapped space).
std::optional<size_t> hitTest(const HeapScene& scene, const HeapMapLayout& layout,
                              const MapViewport& vp, QPointF px);

}  // namespace spanscope::ui
