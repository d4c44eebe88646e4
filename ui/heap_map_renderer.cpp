// renderHeapMap / hitTest (see heap_map_renderer.h). Fills rectangles straight into the image's
// scanlines: one to three rectangles per visible tile (first partial row, whole rows, last row).
#include "heap_map_renderer.h"

#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "palette.h"

namespace spanscope::ui {
namespace {

class Canvas {
public:
    // bits() once: QImage::scanLine() checks for a detach on every call.
    explicit Canvas(QImage& img)
        : m_bits(img.bits()), m_stride(img.bytesPerLine()), m_w(img.width()), m_h(img.height()) {}
    void fill(int x0, int y0, int x1, int y1, QRgb c) {  // [x0, x1) x [y0, y1), clipped
        x0 = std::max(x0, 0), y0 = std::max(y0, 0);
        x1 = std::min(x1, m_w), y1 = std::min(y1, m_h);
        if (x0 >= x1 || y0 >= y1) return;
        for (int y = y0; y < y1; y++) {
            auto* line = reinterpret_cast<QRgb*>(m_bits + qsizetype(y) * m_stride);
            std::fill(line + x0, line + x1, c);
        }
    }

private:
    uchar* m_bits;
    qsizetype m_stride;
    int m_w, m_h;
};

// Pixel edges of a cell range: at least one pixel wide, so that no tile vanishes when zoomed out.
inline std::pair<int, int> edges(double c0, double c1, double origin, double scale) {
    const int a = static_cast<int>(std::floor((c0 - origin) * scale));
    int b = static_cast<int>(std::floor((c1 - origin) * scale));
    if (b <= a) b = a + 1;
    return {a, b};
}

QString arenaLabel(uint64_t base, uint64_t bytes) {
    return QStringLiteral("arena 0x%1  (%2 MiB)").arg(base, 0, 16).arg(bytes >> 20);
}

}  // namespace

MapViewport fitViewport(const HeapMapLayout& layout, QSize view) {
    const QSize b = layout.bounds();
    MapViewport vp;
    if (view.isEmpty() || b.isEmpty()) return vp;
    vp.scale = std::min(double(view.width()) / b.width(), double(view.height()) / b.height());
    const double cx = b.width() / 2.0, cy = b.height() / 2.0;
    vp.origin = QPointF(cx - view.width() / 2.0 / vp.scale, cy - view.height() / 2.0 / vp.scale);
    return vp;
}

MapViewport fitViewportTo(QRectF cells, QSize view) {
    MapViewport vp;
    if (view.isEmpty() || cells.isEmpty()) return vp;
    vp.scale =
        std::min(double(view.width()) / cells.width(), double(view.height()) / cells.height());
    const QPointF c = cells.center();
    vp.origin =
        QPointF(c.x() - view.width() / 2.0 / vp.scale, c.y() - view.height() / 2.0 / vp.scale);
    return vp;
}

QRect usedCells(const HeapScene& scene, const HeapMapLayout& layout) {
    QRect r;
    for (size_t i = 0; i < layout.arenas().size(); i++) {
        const uint64_t base = layout.arenas()[i], end = base + scene.arenaBytes;
        const auto [t0, t1] = scene.tilesIn(base, end);
        if (t0 >= t1) continue;
        const uint64_t last = std::min(end, scene.tiles[t1 - 1].end(scene.pageSize));
        const uint64_t first = std::max(base, scene.tiles[t0].base);
        const uint64_t cols = uint64_t(layout.columns()), ps = scene.pageSize;
        const int rowFirst = int((first - base) / ps / cols),
                  rowEnd = int(((last - base) / ps + cols - 1) / cols);
        const QRect ar = layout.arenaRect(i);
        r |= QRect(ar.left(), ar.top() + rowFirst, ar.width(), std::max(1, rowEnd - rowFirst));
    }
    return r;
}

namespace {
// Shaded colours by (size class, occupancy in 64ths): one lookup per tile instead of float maths.
struct ShadeTable {
    QRgb c[kPaletteClasses][65];
    ShadeTable() {
        for (int k = 0; k < kPaletteClasses; k++)
            for (int o = 0; o <= 64; o++) c[k][o] = shadedColor(sizeClassColor(k), o / 64.0);
    }
};
const ShadeTable& shades() {
    static const ShadeTable t;
    return t;
}
}  // namespace

QRgb filteredColor(const Tile& t, int onlyClass) {
    if (onlyClass >= 0 && (t.kind == TileKind::Span || t.kind == TileKind::Large) &&
        t.sizeClass() != onlyClass)
        return colors::kFilteredOut;
    return tileColor(t);
}

QRgb tileColor(const Tile& t) {
    switch (t.kind) {
        case TileKind::Free:
            return colors::kFree;
        case TileKind::Released:
            return colors::kReleased;
        case TileKind::Large:
            return sizeClassColor(0);
        case TileKind::Span:
            break;
    }
    const int k = std::min(t.sizeClass(), kPaletteClasses - 1);
    const int o = t.nelems ? static_cast<int>(std::min<uint32_t>(
                                 64, (uint32_t{t.allocCount} * 64 + t.nelems / 2) / t.nelems))
                           : 0;
    return shades().c[k][o];
}

namespace {

// Calls f(col, row, n, rows, first) for the segments of tile t's pages within [lo, hi) of the
// arena starting at base: a partial first row, whole rows (merged when mergeRows), a partial last.
template <class F>
void forEachSegment(const Tile& t, uint64_t base, uint64_t lo, uint64_t hi, uint64_t ps,
                    uint64_t perRow, bool mergeRows, F&& f) {
    uint64_t p = (std::max(t.base, lo) - base) / ps;
    const uint64_t pend = (std::min(t.end(ps), hi) - base) / ps;
    bool first = true;
    while (p < pend) {
        const uint64_t row = p / perRow, col = p % perRow;
        const uint64_t n = std::min<uint64_t>(pend - p, perRow - col);
        uint64_t rows = 1;
        if (col == 0 && n == perRow && mergeRows) rows = (pend - p) / perRow;
        f(int(col), int(row), int(n), int(rows), first);
        p += n * rows;
        first = false;
    }
}

// Zoomed out (under 4 px per page): draw one value per page into a cell buffer covering the
// visible cells, then sample it for every pixel (nearest neighbour). The cost is one write per
// visible page plus one read per pixel, whatever the number of tiles.
void renderSampled(QImage& img, const HeapScene& scene, const HeapMapLayout& layout,
                   const MapViewport& vp, int onlyClass) {
    const double s = vp.scale;
    const int W = img.width(), H = img.height();
    const QRect all(QPoint(0, 0), layout.bounds());
    const QRect vis =
        QRect(QPoint(int(std::floor(vp.origin.x())), int(std::floor(vp.origin.y()))),
              QPoint(int(std::ceil(vp.origin.x() + W / s)), int(std::ceil(vp.origin.y() + H / s))))
            .intersected(all);
    if (vis.isEmpty()) return;
    const int cw = vis.width();
    // Bounded before it is allocated: the scene caps its arenas (buildHeapScene), this caps the
    // buffer whatever the layout says (256 MiB).
    constexpr size_t kMaxCells = size_t{1} << 26;
    if (size_t(cw) * size_t(vis.height()) > kMaxCells) return;
    std::vector<QRgb> cells(size_t(cw) * size_t(vis.height()), colors::kBackground);
    auto cellRow = [&](int cy) { return cells.data() + size_t(cy - vis.top()) * size_t(cw); };
    const uint64_t ps = scene.pageSize, perRow = uint64_t(layout.columns());
    for (size_t i = 0; i < layout.arenas().size(); i++) {
        const QRect ar = layout.arenaRect(i);
        const QRect arVis = ar.intersected(vis);
        if (arVis.isEmpty()) continue;
        for (int y = arVis.top(); y <= arVis.bottom(); y++)
            std::fill(cellRow(y) + (arVis.left() - vis.left()),
                      cellRow(y) + (arVis.right() + 1 - vis.left()), colors::kReserved);
        const int r0 = arVis.top() - ar.top(), r1 = arVis.bottom() + 1 - ar.top();
        const uint64_t base = layout.arenas()[i];
        const uint64_t lo = base + uint64_t(r0) * perRow * ps,
                       hi = base + uint64_t(r1) * perRow * ps;
        const auto [t0, t1] = scene.tilesIn(lo, hi);
        const int c0 = arVis.left() - ar.left(),
                  c1 = arVis.right() + 1 - ar.left();  // visible columns
        for (size_t ti = t0; ti < t1; ti++) {
            const Tile& t = scene.tiles[ti];
            const QRgb c = filteredColor(t, onlyClass);
            forEachSegment(t, base, lo, hi, ps, perRow, false,
                           [&](int col, int row, int n, int, bool) {
                               const int a = std::max(col, c0), b = std::min(col + n, c1);
                               if (a >= b) return;
                               QRgb* line = cellRow(ar.top() + row) + (ar.left() - vis.left());
                               std::fill(line + a, line + b, c);
                           });
        }
    }
    // Pixel -> cell, per column and per row.
    std::vector<int> xs(size_t(W), -1), ys(size_t(H), -1);
    for (int x = 0; x < W; x++) {
        const int cx = int(std::floor(vp.origin.x() + (x + 0.5) / s));
        if (cx >= vis.left() && cx <= vis.right()) xs[size_t(x)] = cx - vis.left();
    }
    for (int y = 0; y < H; y++) {
        const int cy = int(std::floor(vp.origin.y() + (y + 0.5) / s));
        if (cy >= vis.top() && cy <= vis.bottom()) ys[size_t(y)] = cy - vis.top();
    }
    uchar* bits = img.bits();
    const qsizetype stride = img.bytesPerLine();
    if (s >= 1.0) {  // a page per pixel or more: plain nearest neighbour
        for (int y = 0; y < H; y++) {
            if (ys[size_t(y)] < 0) continue;
            const QRgb* src = cells.data() + size_t(ys[size_t(y)]) * size_t(cw);
            auto* dst = reinterpret_cast<QRgb*>(bits + qsizetype(y) * stride);
            for (int x = 0; x < W; x++)
                if (xs[size_t(x)] >= 0) dst[x] = src[xs[size_t(x)]];
        }
        return;
    }
    // Several pages per pixel: a pixel shows a span if any of its pages holds one (else free, else
    // released, else unmapped), so that a lone span in a free area does not vanish when zoomed out.
    // Each visible page is still read once.
    auto rank = [](QRgb c) {
        return c == colors::kBackground ? 0
               : c == colors::kReserved ? 1
               : c == colors::kReleased ? 2
               : c == colors::kFree     ? 3
                                        : 4;
    };
    auto firstCell = [&](double o, int px) { return int(std::floor(o + px / s)); };
    std::vector<std::pair<int, int>> xr(static_cast<size_t>(W));  // the cells under each column
    for (int x = 0; x < W; x++) {
        const int cx0 = std::max(firstCell(vp.origin.x(), x), vis.left());
        xr[size_t(x)] = {
            cx0, std::min(std::max(firstCell(vp.origin.x(), x + 1), cx0 + 1), vis.right() + 1)};
    }
    for (int y = 0; y < H; y++) {
        const int cy0 = std::max(firstCell(vp.origin.y(), y), vis.top());
        const int cy1 =
            std::min(std::max(firstCell(vp.origin.y(), y + 1), cy0 + 1), vis.bottom() + 1);
        if (cy0 >= cy1) continue;
        auto* dst = reinterpret_cast<QRgb*>(bits + qsizetype(y) * stride);
        for (int x = 0; x < W; x++) {
            const auto [cx0, cx1] = xr[size_t(x)];
            if (cx0 >= cx1) continue;
            QRgb best = colors::kBackground;
            int bestRank = -1;
            for (int cy = cy0; cy < cy1 && bestRank < 4; cy++) {
                const QRgb* row = cellRow(cy) - vis.left();
                for (int cx = cx0; cx < cx1; cx++) {
                    const int r = rank(row[cx]);
                    if (r > bestRank) {
                        best = row[cx], bestRank = r;
                        if (r == 4) break;
                    }
                }
            }
            dst[x] = best;
        }
    }
}

// Zoomed in (4 px per page or more): few tiles are visible; fill each one's rectangles, with
// 1-pixel separators at span starts and between rows.
void renderTiles(QImage& img, const HeapScene& scene, const HeapMapLayout& layout,
                 const MapViewport& vp, int onlyClass) {
    Canvas cv(img);
    const double s = vp.scale, ox = vp.origin.x(), oy = vp.origin.y();
    const uint64_t ps = scene.pageSize, perRow = uint64_t(layout.columns());
    const double visTop = oy, visBottom = oy + img.height() / s;
    const double visLeft = ox, visRight = ox + img.width() / s;
    for (size_t i = 0; i < layout.arenas().size(); i++) {
        const QRect ar = layout.arenaRect(i);
        if (ar.right() + 1 < visLeft || ar.left() > visRight || ar.bottom() + 1 < visTop ||
            ar.top() > visBottom)
            continue;
        {
            auto [x0, x1] = edges(ar.left(), ar.left() + ar.width(), ox, s);
            auto [y0, y1] = edges(ar.top(), ar.top() + ar.height(), oy, s);
            cv.fill(x0, y0, x1, y1, colors::kReserved);
        }
        const int r0 = std::max(0, static_cast<int>(std::floor(visTop)) - ar.top());
        const int r1 = std::min(ar.height(), static_cast<int>(std::ceil(visBottom)) - ar.top() + 1);
        if (r0 >= r1) continue;
        const uint64_t base = layout.arenas()[i];
        const uint64_t lo = base + uint64_t(r0) * perRow * ps,
                       hi = base + uint64_t(r1) * perRow * ps;
        const auto [t0, t1] = scene.tilesIn(lo, hi);
        for (size_t ti = t0; ti < t1; ti++) {
            const Tile& t = scene.tiles[ti];
            const QRgb c = filteredColor(t, onlyClass);
            const bool startsHere = t.base >= lo;
            const bool filtered =
                onlyClass >= 0 && t.kind == TileKind::Span && t.sizeClass() != onlyClass;
            // Occupancy as a fill height: the class colour from the bottom, its empty shade above.
            const bool fill = t.kind == TileKind::Span && !filtered && t.nelems > 0;
            const QRgb full =
                fill ? sizeClassColor(std::min(t.sizeClass(), kPaletteClasses - 1)) : c;
            const QRgb empty = fill ? shadedColor(full, 0.0) : c;
            const double occ = fill ? std::min(1.0, double(t.allocCount) / t.nelems) : 1.0;
            const bool cached =
                t.kind == TileKind::Span && t.state == uint8_t(session::SpanState::Cached);
            forEachSegment(
                t, base, lo, hi, ps, perRow, false,
                [&](int col, int row, int n, int rows, bool first) {
                    const double cx = ar.left() + double(col), cy = ar.top() + double(row);
                    auto [x0, x1] = edges(cx, cx + double(n), ox, s);
                    auto [y0, y1] = edges(cy, cy + double(rows), oy, s);
                    if (fill) {
                        const int ym = y1 - 1 - static_cast<int>(std::lround((y1 - 1 - y0) * occ));
                        cv.fill(x0, y0, x1, ym, empty);
                        cv.fill(x0, ym, x1, y1, full);
                    } else {
                        cv.fill(x0, y0, x1, y1, c);
                    }
                    cv.fill(x0, y1 - 1, x1, y1, colors::kSeparator);  // row line
                    if (first && startsHere)
                        cv.fill(x0, y0, x0 + 1, y1, colors::kSeparator);  // span start
                    // A span cached in a thread's mcache gets a dot in its first page (its
                    // allocation count is as of caching: allocations from an mcache are not
                    // events).
                    if (first && startsHere && cached && s >= 8) {
                        const int d = std::max(3, int(s / 4));
                        cv.fill(x0 + 2, y0 + 2, x0 + 2 + d, y0 + 2 + d, colors::kCachedMark);
                    }
                });
        }
    }
}

}  // namespace

QImage renderHeapMap(const HeapScene& scene, const HeapMapLayout& layout, const MapViewport& vp,
                     QSize size, const RenderOptions& opts) {
    QImage img(size.expandedTo(QSize(1, 1)), QImage::Format_RGB32);
    img.fill(colors::kBackground);
    if (!(vp.scale > 0)) return img;
    const double s = vp.scale;
    if (s >= kGridScale)
        renderTiles(img, scene, layout, vp, opts.onlyClass);
    else
        renderSampled(img, scene, layout, vp, opts.onlyClass);

    // The hovered tile's outline (white) and the narrated one's (yellow).
    auto outline = [&](const Tile* t) {
        std::vector<QRectF> out;
        if (!t) return out;
        const int ai = layout.arenaIndexOf(t->base);
        if (ai < 0) return out;
        const QRect ar = layout.arenaRect(size_t(ai));
        const uint64_t base = layout.arenas()[size_t(ai)];
        forEachSegment(
            *t, base, base, base + scene.arenaBytes, scene.pageSize, uint64_t(layout.columns()),
            true, [&](int col, int row, int n, int rows, bool) {
                const QPointF a = vp.toPixel(QPointF(ar.left() + col, ar.top() + row));
                const QPointF b = vp.toPixel(QPointF(ar.left() + col + n, ar.top() + row + rows));
                out.push_back(QRectF(a, b));
            });
        return out;
    };
    std::vector<QRectF> highlight, focus, marked, taken, returned;
    auto runs = [&](const std::vector<PageRun>& in, std::vector<QRectF>* out) {
        for (const PageRun& p : in) {
            Tile t;
            t.base = p.base, t.npages = p.npages;
            auto r = outline(&t);
            out->insert(out->end(), r.begin(), r.end());
        }
    };
    runs(opts.taken, &taken);
    runs(opts.returned, &returned);
    for (size_t i : tilesHolding(scene, opts.marked)) {
        auto r = outline(&scene.tiles[i]);
        marked.insert(marked.end(), r.begin(), r.end());
    }
    if (opts.highlightBase)
        if (const Tile* t = scene.tileAt(*opts.highlightBase); t && t->base == *opts.highlightBase)
            highlight = outline(t);
    if (opts.focusAddr) focus = outline(scene.tileAt(*opts.focusAddr));
    const bool labels = opts.labels && HeapMapLayout::kGapY * s >= 12;
    if (labels || !highlight.empty() || !focus.empty() || !marked.empty() || !taken.empty() ||
        !returned.empty()) {
        QPainter painter(&img);
        if (!returned.empty()) {
            painter.setPen(QPen(QColor::fromRgb(kReturnedOutline), 2, Qt::DashLine));
            for (const QRectF& r : returned) painter.drawRect(r.adjusted(-1, -1, 1, 1));
        }
        if (!taken.empty()) {
            painter.setPen(QPen(QColor::fromRgb(kTakenOutline), 2));
            for (const QRectF& r : taken) painter.drawRect(r.adjusted(-1, -1, 1, 1));
        }
        if (!marked.empty()) {
            painter.setPen(QPen(QColor::fromRgb(colors::kMarked), 2));
            for (const QRectF& r : marked) painter.drawRect(r.adjusted(-1, -1, 1, 1));
        }
        if (!highlight.empty()) {
            painter.setPen(QPen(QColor::fromRgb(colors::kHighlight), 2));
            for (const QRectF& r : highlight) painter.drawRect(r.adjusted(-1, -1, 1, 1));
        }
        if (!focus.empty()) {
            painter.setPen(QPen(QColor::fromRgb(colors::kFocus), 3));
            for (const QRectF& r : focus) painter.drawRect(r.adjusted(-2, -2, 2, 2));
        }
        if (labels) {
            QFont f = painter.font();
            f.setPixelSize(std::clamp(static_cast<int>(HeapMapLayout::kGapY * s * 0.55), 9, 14));
            painter.setFont(f);
            painter.setPen(QColor::fromRgb(colors::kLabel));
            const QFontMetricsF fm(f);
            const QRectF image(QPointF(0, 0), QSizeF(size));
            for (size_t i = 0; i < layout.arenas().size(); i++) {
                const QRect lr = layout.labelRect(i), ar = layout.arenaRect(i);
                QRectF px(vp.toPixel(lr.topLeft()), vp.toPixel(lr.bottomRight() + QPoint(1, 1)));
                const QRectF arena(vp.toPixel(ar.topLeft()),
                                   vp.toPixel(ar.bottomRight() + QPoint(1, 1)));
                const QString text = arenaLabel(layout.arenas()[i], scene.arenaBytes);
                // A view fitted to the pages in use starts at the arena's first row: its label
                // would be cut off above the view. It then sticks to the top, over the tiles,
                // on a box of the background colour.
                if (px.bottom() - 2 - fm.height() < 0 && arena.bottom() > fm.height() &&
                    arena.intersects(image)) {
                    px = QRectF(arena.left(), 0, arena.width(), fm.height() + 4);
                    QColor box = QColor::fromRgb(colors::kBackground);
                    box.setAlpha(215);
                    painter.fillRect(
                        QRectF(px.left(), 0, std::min(px.width(), fm.horizontalAdvance(text) + 8),
                               px.height()),
                        box);
                    px.adjust(4, 0, 0, 0);
                }
                if (!px.intersects(image)) continue;
                painter.drawText(px.adjusted(0, 0, 0, -2), Qt::AlignLeft | Qt::AlignBottom, text);
            }
        }
    }
    return img;
}

std::vector<size_t> tilesHolding(const HeapScene& scene, const std::vector<uint64_t>& addrs) {
    std::vector<size_t> out;
    for (uint64_t a : addrs) {
        const Tile* t = scene.tileAt(a);
        if (!t || (t->kind != TileKind::Span && t->kind != TileKind::Large)) continue;
        const size_t i = size_t(t - scene.tiles.data());
        if (out.empty() || out.back() != i) out.push_back(i);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::optional<size_t> hitTest(const HeapScene& scene, const HeapMapLayout& layout,
                              const MapViewport& vp, QPointF px) {
    const auto addr = layout.addressAt(vp.toCell(px));
    if (!addr) return std::nullopt;
    const Tile* t = scene.tileAt(*addr);
    if (!t) return std::nullopt;
    return static_cast<size_t>(t - scene.tiles.data());
}

}  // namespace spanscope::ui
