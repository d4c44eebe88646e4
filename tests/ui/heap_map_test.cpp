// Tests of the heap map's pure functions: palette, scene building (free and released runs),
// layout (pages <-> cells), the renderer's pixels, and hit-testing.
#include <gtest/gtest.h>

#include <set>

#include "heap_map_renderer.h"
#include "palette.h"
#include "snapshots.h"

using namespace spanscope;
using namespace spanscope::ui;

namespace {
constexpr uint64_t kPage = 8192, kArena = 64ull << 20, kBase = 0xc000000000;

session::SpanRecord span(uint64_t base, uint32_t npages, int sizeClass, uint16_t nelems,
                         uint16_t used, session::SpanState st = session::SpanState::PartialSwept) {
    session::SpanRecord r{};
    r.base = base;
    r.npages = npages;
    r.spanClass = static_cast<uint8_t>(sizeClass << 1 | 1);
    r.nelems = nelems;
    r.allocCount = used;
    r.state = static_cast<uint8_t>(st);
    return r;
}

// A: page 0, class 10 half full; B: page 2, class 5 full; L: pages 128..132, large.
// Mapped: 512 pages; released: the top 128.
HeapScene knownScene() {
    std::vector<session::SpanRecord> spans = {
        span(kBase + 128 * kPage, 5, 0, 1, 1, session::SpanState::Large),
        span(kBase, 1, 10, 64, 32),
        span(kBase + 2 * kPage, 1, 5, 170, 170, session::SpanState::FullSwept),
    };
    return buildHeapScene(spans, kPage, kArena, 512 * kPage, 128 * kPage);
}
}  // namespace

TEST(Palette, SixtyEightDistinctColours) {
    std::set<QRgb> seen;
    for (int c = 0; c < kPaletteClasses; c++) seen.insert(sizeClassColor(c));
    EXPECT_EQ(seen.size(), size_t(kPaletteClasses));
    EXPECT_EQ(sizeClassColor(-1), sizeClassColor(0));
    EXPECT_EQ(sizeClassColor(999), sizeClassColor(0));
}

// The palette is perceptual and colour-blind-safe (palette.h): distances in OKLab, each the
// smallest under normal, protan and deutan vision.
TEST(Palette, ClassesDifferForEveryViewer) {
    // The measure itself: identical colours are 0 apart; red and green, far apart to most
    // viewers, are close to a red-green colour-blind one; black and white stay far apart.
    EXPECT_EQ(perceivedDistance(0xffff0000, 0xffff0000), 0.0);
    EXPECT_LT(perceivedDistance(0xffcc3333, 0xff559933), 0.1);
    EXPECT_GT(perceivedDistance(0xff000000, 0xffffffff), 0.9);
    // Neighbouring classes (the ones most often side by side) differ clearly, the next but one too.
    for (int c = 1; c + 1 < kPaletteClasses; c++)
        EXPECT_GE(perceivedDistance(sizeClassColor(c), sizeClassColor(c + 1)), 0.10)
            << "classes " << c << ", " << c + 1;
    for (int c = 1; c + 2 < kPaletteClasses; c++)
        EXPECT_GE(perceivedDistance(sizeClassColor(c), sizeClassColor(c + 2)), 0.06)
            << "classes " << c << ", " << c + 2;
    // No two classes look the same to anyone.
    for (int a = 0; a < kPaletteClasses; a++)
        for (int b = 0; b < a; b++)
            EXPECT_GE(perceivedDistance(sizeClassColor(a), sizeClassColor(b)), 0.015)
                << "classes " << a << ", " << b;
    // None is mistaken for the colours of pages without spans or of the outlines, and those
    // differ from one another ("released" and "not mapped" were once nearly the same dark).
    for (int c = 0; c < kPaletteClasses; c++)
        for (QRgb other : kReservedColors)
            EXPECT_GE(perceivedDistance(sizeClassColor(c), other), 0.06) << "class " << c;
    for (QRgb a : {colors::kReserved, colors::kFree, colors::kReleased, colors::kFilteredOut})
        for (QRgb b : {colors::kReserved, colors::kFree, colors::kReleased, colors::kFilteredOut})
            if (a != b) {
                EXPECT_GE(perceivedDistance(a, b), 0.08) << std::hex << a << " vs " << b;
            }
    // Every class stands out on the dark map (and on a projector's grey black) by a wide margin.
    for (int c = 0; c < kPaletteClasses; c++)
        EXPECT_GE(perceivedDistance(sizeClassColor(c), colors::kReserved), 0.15) << "class " << c;
}

TEST(Palette, OccupancyShadesFromDimToFull) {
    const QRgb c = sizeClassColor(7);
    EXPECT_EQ(shadedColor(c, 1.0), c);
    const QColor empty = QColor::fromRgb(shadedColor(c, 0.0)),
                 half = QColor::fromRgb(shadedColor(c, 0.5));
    EXPECT_LT(empty.value(), half.value());
    EXPECT_LT(half.value(), QColor::fromRgb(c).value());
    EXPECT_EQ(shadedColor(c, -3), shadedColor(c, 0));
    EXPECT_EQ(shadedColor(c, 7), c);
}

TEST(HeapScene, FreeAndReleasedRunsFillTheGaps) {
    const HeapScene s = knownScene();
    ASSERT_EQ(s.arenas, std::vector<uint64_t>{kBase});
    // A, free(1), B, free(3..127), L, free(133..383), released(384..511)
    ASSERT_EQ(s.tiles.size(), 7u);
    EXPECT_EQ(s.tiles[0].base, kBase);
    EXPECT_EQ(s.tiles[0].kind, TileKind::Span);
    EXPECT_EQ(s.tiles[1].kind, TileKind::Free);
    EXPECT_EQ(s.tiles[1].npages, 1u);
    EXPECT_EQ(s.tiles[2].base, kBase + 2 * kPage);
    EXPECT_EQ(s.tiles[3].npages, 125u);
    EXPECT_EQ(s.tiles[4].kind, TileKind::Large);
    EXPECT_EQ(s.tiles[5].kind, TileKind::Free);
    EXPECT_EQ(s.tiles[5].npages, 384u - 133u);
    EXPECT_EQ(s.tiles[6].kind, TileKind::Released);
    EXPECT_EQ(s.tiles[6].base, kBase + 384 * kPage);
    EXPECT_EQ(s.tiles[6].npages, 128u);
    EXPECT_TRUE(s.releasedEstimated);
    uint64_t pages = 0;
    for (const Tile& t : s.tiles) pages += t.npages;
    EXPECT_EQ(pages, 512u);  // every mapped page exactly once

    EXPECT_EQ(s.tileAt(kBase + 100)->base, kBase);
    EXPECT_EQ(s.tileAt(kBase + 130 * kPage + 5)->kind, TileKind::Large);
    EXPECT_EQ(s.tileAt(kBase + 600 * kPage), nullptr);  // beyond what is mapped
    auto [a, b] = s.tilesIn(kBase + kPage, kBase + 129 * kPage);
    EXPECT_EQ(a, 1u);
    EXPECT_EQ(b, 5u);
}

TEST(HeapScene, ArenasFromSpansAndGrowth) {
    // Spans in arenas 0 and 3, 130 MiB grown from arena 0: arenas 0, 1, 2 (grown into) and 3.
    std::vector<session::SpanRecord> spans = {span(kBase, 1, 3, 256, 10),
                                              span(kBase + 3 * kArena, 1, 3, 256, 10)};
    const HeapScene s = buildHeapScene(spans, kPage, kArena, 130ull << 20, 0);
    EXPECT_EQ(s.arenas, (std::vector<uint64_t>{kBase, kBase + kArena, kBase + 2 * kArena,
                                               kBase + 3 * kArena}));
    // Mapped: up to 130 MiB from arena 0's base; arena 3's free pages are not counted as mapped.
    EXPECT_EQ(s.tiles.back().base, kBase + 3 * kArena);
    EXPECT_EQ(s.tiles[s.tiles.size() - 2].end(kPage), kBase + (130ull << 20));
    // Free runs never cross an arena boundary.
    for (const Tile& t : s.tiles) EXPECT_EQ(t.base / kArena, (t.end(kPage) - 1) / kArena);
    EXPECT_FALSE(s.releasedEstimated);
}

TEST(HeapScene, EmptyAndOverlappingInput) {
    EXPECT_TRUE(buildHeapScene({}, kPage, kArena, 0, 0).tiles.empty());
    std::vector<session::SpanRecord> spans = {span(kBase, 4, 3, 256, 10),
                                              span(kBase + kPage, 1, 3, 256, 10)};
    const HeapScene s = buildHeapScene(spans, kPage, kArena, 0, 0);
    ASSERT_EQ(s.tiles.size(), 1u);  // the overlapping span is dropped, not drawn twice
}

TEST(HeapMapLayout, CellsAndAddressesRoundTrip) {
    const HeapMapLayout l({kBase, kBase + kArena, kBase + 5 * kArena}, kPage, kArena, 2);
    EXPECT_EQ(l.rowsPerArena(), 64);
    EXPECT_EQ(l.arenaRect(0), QRect(HeapMapLayout::kGapX, HeapMapLayout::kGapY, 128, 64));
    EXPECT_EQ(l.arenaRect(2).top(), HeapMapLayout::kGapY * 2 + 64);
    for (uint64_t a : {kBase, kBase + 129 * kPage, kBase + kArena + 8191 * kPage,
                       kBase + 5 * kArena + 77 * kPage}) {
        const auto cell = l.cellOf(a);
        ASSERT_TRUE(cell);
        const auto back = l.addressAt(QPointF(*cell) + QPointF(0.5, 0.5));
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, a);
    }
    EXPECT_EQ(*l.cellOf(kBase + 129 * kPage),
              QPoint(HeapMapLayout::kGapX + 1, HeapMapLayout::kGapY + 1));
    EXPECT_FALSE(l.cellOf(kBase + 3 * kArena));                          // not shown
    EXPECT_FALSE(l.addressAt(QPointF(1, 1)));                            // margin
    EXPECT_FALSE(l.addressAt(QPointF(HeapMapLayout::kGapX + 130, 20)));  // gap between arenas
    EXPECT_EQ(HeapMapLayout::bestArenasPerRow(1, 8192, 2.0), 1);
    EXPECT_EQ(HeapMapLayout::bestArenasPerRow(64, 8192, 1.0),
              6);  // 64 square-ish arenas in a square view
    EXPECT_EQ(HeapMapLayout::bestArenasPerRow(4, 8192, 100.0), 4);  // a very wide view: one row
}

// The renderer's pixels at a known viewport: 4 px per page from the map's origin.
TEST(HeapMapRenderer, KnownTilesHaveKnownColours) {
    const HeapScene s = knownScene();
    const HeapMapLayout l(s.arenas, kPage, kArena, 1);
    MapViewport vp;
    vp.scale = 4;
    const QImage img = renderHeapMap(s, l, vp, QSize(600, 400));
    auto pixelOfPage = [&](uint64_t page) {
        const QPoint cell = *l.cellOf(kBase + page * kPage);
        return img.pixel(cell.x() * 4 + 2,
                         cell.y() * 4 + 1);  // inside the cell, off the separators
    };
    // A: class 10, half full: occupancy as a fill height, the class colour from the bottom of the
    // cell (rows 1-2 of 4, the last being the separator), its empty shade above (row 0).
    EXPECT_EQ(pixelOfPage(0), sizeClassColor(10));
    {
        const QPoint cell = *l.cellOf(kBase);
        EXPECT_EQ(img.pixel(cell.x() * 4 + 2, cell.y() * 4), shadedColor(sizeClassColor(10), 0.0));
        EXPECT_EQ(img.pixel(cell.x() * 4 + 2, cell.y() * 4 + 2), sizeClassColor(10));
    }
    EXPECT_EQ(pixelOfPage(1), colors::kFree);
    EXPECT_EQ(pixelOfPage(2), sizeClassColor(5));    // B: full
    EXPECT_EQ(pixelOfPage(128), sizeClassColor(0));  // L: large
    EXPECT_EQ(pixelOfPage(132), sizeClassColor(0));
    EXPECT_EQ(pixelOfPage(300), colors::kFree);
    EXPECT_EQ(pixelOfPage(400), colors::kReleased);
    EXPECT_EQ(pixelOfPage(600), colors::kReserved);  // arena space not mapped
    EXPECT_EQ(img.pixel(1, 1), colors::kBackground);
    // Span boundaries: the first column of a tile's first cell is a separator at this zoom.
    const QPoint b = *l.cellOf(kBase + 2 * kPage);
    EXPECT_EQ(img.pixel(b.x() * 4, b.y() * 4 + 1), colors::kSeparator);
    EXPECT_EQ(img.pixel(b.x() * 4 + 2, b.y() * 4 + 3), colors::kSeparator);  // row line

    // Hit-testing the same pixels.
    auto hit = [&](uint64_t page) {
        const QPoint cell = *l.cellOf(kBase + page * kPage);
        auto i = hitTest(s, l, vp, QPointF(cell.x() * 4 + 2, cell.y() * 4 + 2));
        return i ? s.tiles[*i].base : 0;
    };
    EXPECT_EQ(hit(0), kBase);
    EXPECT_EQ(hit(2), kBase + 2 * kPage);
    EXPECT_EQ(hit(131), kBase + 128 * kPage);
    EXPECT_EQ(hit(450), kBase + 384 * kPage);
    EXPECT_EQ(hit(1000), 0u);
    EXPECT_FALSE(hitTest(s, l, vp, QPointF(1, 1)));
}

TEST(HeapMapRenderer, CachedSpansCarryADotWhenZoomedIn) {
    std::vector<session::SpanRecord> spans = {span(kBase, 1, 10, 64, 0, session::SpanState::Cached),
                                              span(kBase + kPage, 1, 10, 64, 0)};
    const HeapScene s = buildHeapScene(spans, kPage, kArena, 2 * kPage, 0);
    const HeapMapLayout l(s.arenas, kPage, kArena, 1);
    MapViewport vp;
    vp.scale = 10;
    const QImage img = renderHeapMap(s, l, vp, QSize(2000, 800));
    const QPoint a = *l.cellOf(kBase) * 10, b = *l.cellOf(kBase + kPage) * 10;
    EXPECT_EQ(img.pixel(a + QPoint(3, 3)), colors::kCachedMark);
    EXPECT_EQ(img.pixel(b + QPoint(3, 3)), tileColor(s.tiles[1]));
    EXPECT_EQ(img.pixel(a + QPoint(7, 7)), tileColor(s.tiles[0]));
}

TEST(HeapMapRenderer, ZoomedOutSpansWinOverFreePages) {
    const HeapScene s = knownScene();
    const HeapMapLayout l(s.arenas, kPage, kArena, 1);
    const MapViewport vp = fitViewport(l, QSize(100, 60));  // well under a pixel per page
    ASSERT_LT(vp.scale, 1.0);
    const QImage img = renderHeapMap(s, l, vp, QSize(100, 60));
    bool large = false;
    for (int y = 0; y < img.height(); y++)
        for (int x = 0; x < img.width(); x++) large |= img.pixel(x, y) == sizeClassColor(0);
    EXPECT_TRUE(large);
}

TEST(HeapMapRenderer, HighlightAndPanning) {
    const HeapScene s = knownScene();
    const HeapMapLayout l(s.arenas, kPage, kArena, 1);
    MapViewport vp;
    vp.scale = 8;
    RenderOptions o;
    o.highlightBase = kBase + 128 * kPage;
    const QImage plain = renderHeapMap(s, l, vp, QSize(400, 300));
    const QImage lit = renderHeapMap(s, l, vp, QSize(400, 300), o);
    EXPECT_NE(plain, lit);
    // Panning by whole cells moves the picture by scale pixels.
    MapViewport moved = vp;
    moved.origin = QPointF(2, 1);
    const QImage m =
        renderHeapMap(s, l, moved, QSize(400, 300), RenderOptions{std::nullopt, false});
    const QImage p = renderHeapMap(s, l, vp, QSize(400, 300), RenderOptions{std::nullopt, false});
    EXPECT_EQ(m.pixel(100, 100), p.pixel(116, 108));
}

// Fit to the range in use: a 4 MiB heap in one 64 MiB arena gets narrower rows and a viewport
// on its pages only; the class filter greys the other classes; the narrated span gets an outline.
TEST(HeapMapRenderer, FitsTheRangeInUseAndFiltersAClass) {
    const HeapScene s = knownScene();                     // 512 pages mapped
    EXPECT_EQ(HeapMapLayout::bestColumns(512, 1.6), 32);  // 32 x 16 cells in a 1.6:1 view
    EXPECT_EQ(HeapMapLayout::bestColumns(1 << 20, 1.6), HeapMapLayout::kColumns);
    const HeapMapLayout l(s.arenas, kPage, kArena, 1, 32);
    const QRect used = usedCells(s, l);
    EXPECT_EQ(used.width(), 32);
    EXPECT_EQ(used.height(), 16);
    const QSize view(800, 500);
    const MapViewport vp = fitViewportTo(QRectF(used), view);
    EXPECT_DOUBLE_EQ(vp.scale, std::min(800.0 / 32, 500.0 / 16));
    const QImage all = renderHeapMap(s, l, vp, view);
    RenderOptions only5;
    only5.onlyClass = 5;
    const QImage filtered = renderHeapMap(s, l, vp, view, only5);
    auto px = [&](const QImage& img, uint64_t page, double down) {
        const QPointF p = vp.toPixel(QPointF(*l.cellOf(kBase + page * kPage)) + QPointF(0.5, down));
        return img.pixel(p.toPoint());
    };
    EXPECT_EQ(px(all, 0, 0.8), sizeClassColor(10));
    EXPECT_EQ(px(filtered, 0, 0.8), colors::kFilteredOut);    // class 10 under a class-5 filter
    EXPECT_EQ(px(filtered, 2, 0.5), sizeClassColor(5));       // class 5 keeps its colour
    EXPECT_EQ(px(filtered, 128, 0.5), colors::kFilteredOut);  // large objects too
    EXPECT_EQ(px(filtered, 300, 0.5), colors::kFree);         // free pages are not spans
    RenderOptions focus;
    focus.focusAddr = kBase + 2 * kPage + 100;  // inside B
    const QImage outlined = renderHeapMap(s, l, vp, view, focus);
    const QPointF b = vp.toPixel(QPointF(*l.cellOf(kBase + 2 * kPage)));
    auto focusLeftOf = [&](const QImage& img) {  // the outline runs just left of the tile
        for (int dx = -6; dx <= 0; dx++)
            if (const QColor c = QColor::fromRgb(img.pixel((b + QPointF(dx, 10)).toPoint()));
                c.red() > 200 && c.green() > 150 && c.blue() < 100)  // the outline's yellow
                return true;
        return false;
    };
    EXPECT_TRUE(focusLeftOf(outlined));
    EXPECT_FALSE(focusLeftOf(all));
}

TEST(Snapshots, DecimateKeepsPeaksAndBounds) {
    std::vector<session::HeapSample> in(10000);
    for (size_t i = 0; i < in.size(); i++) {
        in[i].tNs = int64_t(i) * 1000;
        in[i].heapInuse = i == 5000 ? 999999 : i;
    }
    const auto out = decimate(in, 100);
    EXPECT_LE(out.size(), 102u);
    EXPECT_EQ(out.front().tNs, 0);
    EXPECT_EQ(out.back().tNs, in.back().tNs);
    uint64_t peak = 0;
    for (const auto& s : out) peak = std::max(peak, s.heapInuse);
    EXPECT_EQ(peak, 999999u);
    EXPECT_EQ(decimate(in, 20000).size(), in.size());
}

TEST(Snapshots, ClassTotalsFromSpans) {
    std::vector<stream::ClassEntry> classes(68);
    classes[5] = {48, 1, 170};
    classes[10] = {128, 1, 64};
    const std::vector<session::SpanRecord> spans = {
        span(kBase, 1, 10, 64, 32), span(kBase + 2 * kPage, 1, 5, 170, 170),
        span(kBase + 128 * kPage, 5, 0, 1, 1, session::SpanState::Large)};
    const auto t = computeClassTotals(spans, classes, kPage);
    EXPECT_EQ(t[10].spans, 1u);
    EXPECT_EQ(t[10].objects, 32u);
    EXPECT_EQ(t[10].bytesInUse, 32u * 128);
    EXPECT_EQ(t[10].freeSlotBytes, 32u * 128);
    EXPECT_EQ(t[10].tailWaste, 0u);
    EXPECT_EQ(t[5].tailWaste, 8192u - 170 * 48);
    EXPECT_EQ(t[0].spanBytes, 5 * kPage);
    EXPECT_EQ(t[0].objects, 1u);
}

// A view fitted to the pages in use starts at the first arena's first row, where its label (in the
// rows above) would be cut off: the label then sticks to the top of the view, on a dark box.
TEST(HeapMapRenderer, FirstArenaLabelStaysInAViewFittedToThePagesInUse) {
    const HeapScene s = knownScene();
    const HeapMapLayout l(s.arenas, kPage, kArena, 1, 32);
    const QSize view(800, 300);  // wide: the 16 used rows fill the height
    const MapViewport vp = fitViewportTo(QRectF(usedCells(s, l)), view);
    ASSERT_LT(vp.toPixel(QPointF(l.labelRect(0).bottomLeft())).y(), 12)
        << "the label row is above the view";
    const QImage with = renderHeapMap(s, l, vp, view);
    const QImage without = renderHeapMap(s, l, vp, view, RenderOptions{std::nullopt, false});
    const QPoint corner = vp.toPixel(QPointF(l.arenaRect(0).topLeft())).toPoint() + QPoint(1, 1);
    EXPECT_NE(with.pixel(corner), without.pixel(corner)) << "the label's box over span A's tile";
    EXPECT_LT(QColor::fromRgb(with.pixel(corner)).lightness(), 60) << "the label's dark box";
    int glyph = 0;  // the label's light text in the box
    for (int y = 0; y < 22; y++)
        for (int x = corner.x(); x < corner.x() + 200; x++)
            if (QColor::fromRgb(with.pixel(x, y)) != QColor::fromRgb(without.pixel(x, y)) &&
                QColor::fromRgb(with.pixel(x, y)).lightness() > 150)
                glyph++;
    EXPECT_GT(glyph, 30);
}
