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
// The viewport that shows these cells as large as they fit, centred.
MapViewport fitViewportTo(QRectF cells, QSize view);
// The cells of the pages the heap has mapped (its spans and free pages), rows rounded out: the
// "address range in use" the map fits by default. Empty if the scene has no tiles.
QRect usedCells(const HeapScene& scene, const HeapMapLayout& layout);

// A run of pages outlined on the map (a span taken or returned in a time range).
struct PageRun {
    uint64_t base = 0;
    uint32_t npages = 0;
};
inline constexpr QRgb kTakenOutline = 0xff3ddc5a;  // spans taken from the heap in the range: green
inline constexpr QRgb kReturnedOutline =
    0xffff5a3c;  // spans returned to it in the range: red, dashed

struct RenderOptions {
    std::optional<uint64_t> highlightBase;  // outline the tile starting here (hover)
    bool labels = true;                     // arena labels, when they fit
    int onlyClass = -1;                 // >= 0: spans of other classes drawn grey (class filter)
    std::optional<uint64_t> focusAddr;  // outline the tile holding this address (the narrated span)
    std::vector<uint64_t> marked;       // outline the tiles holding these addresses (ascending):
                                        // the sampled objects of the profile's selected frame
    std::vector<PageRun> taken, returned;  // a time range's span changes (HeapMapView::setRange)
};

// Indices into scene.tiles of the tiles holding any of addrs (ascending), each once.
std::vector<size_t> tilesHolding(const HeapScene& scene, const std::vector<uint64_t>& addrs);

// Tile colour: size-class colour shaded by occupancy; large, free and released pages their own.
// Zoomed in (kGridScale px per page or more) a span's occupancy is a fill height instead: the
// bottom allocCount/nelems of each page in the class colour, the rest in its empty shade, so that
// the hue stays whole.
QRgb tileColor(const Tile& t);
// A span's colour under a class filter: its own if it is of class onlyClass, else grey.
QRgb filteredColor(const Tile& t, int onlyClass);

QImage renderHeapMap(const HeapScene& scene, const HeapMapLayout& layout, const MapViewport& vp,
                     QSize size, const RenderOptions& opts = {});

// Index into scene.tiles of the tile under pixel px, or nullopt (a gap, a label, unmapped space).
std::optional<size_t> hitTest(const HeapScene& scene, const HeapMapLayout& layout,
                              const MapViewport& vp, QPointF px);

}  // namespace spanscope::ui
