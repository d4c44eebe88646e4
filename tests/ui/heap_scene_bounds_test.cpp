// The heap map never trusts a session (issue 10): a keyframe span of 4184997889 pages, a
// heap_totals row claiming petabytes, a page size or arena size no heap has. The scene, the layout
// and the renderer stay bounded (they once grew the GUI to 15 GB and aborted it).
#include <gtest/gtest.h>

#include "heap_map_renderer.h"

using namespace spanscope;
using namespace spanscope::ui;

namespace {
constexpr uint64_t kPage = 8192, kArena = 64ull << 20, kBase = 0xc000000000;

session::SpanRecord span(uint64_t base, uint32_t npages) {
    session::SpanRecord r{};
    r.base = base;
    r.npages = npages;
    r.spanClass = 10 << 1 | 1;
    r.nelems = 64;
    r.state = 1;
    return r;
}

QImage draw(const HeapScene& scene) {
    const int perRow =
        HeapMapLayout::bestArenasPerRow(scene.arenas.size(), scene.pagesPerArena(), 4.0 / 3.0);
    const HeapMapLayout layout(scene.arenas, scene.pageSize, scene.arenaBytes, perRow);
    RenderOptions opts;
    opts.labels = false;
    return renderHeapMap(scene, layout, fitViewport(layout, QSize(320, 240)), QSize(320, 240),
                         opts);
}
}  // namespace

TEST(HeapSceneBounds, AHugeSpanIsBounded) {
    const HeapScene s = buildHeapScene({span(kBase, 1), span(kBase + kPage, 4184997889u)}, kPage,
                                       kArena, 4 * kArena, 0);
    EXPECT_LE(s.arenas.size(), 2 * 4096u);
    EXPECT_FALSE(draw(s).isNull());
}

TEST(HeapSceneBounds, AnAbsurdHeapSizeIsBounded) {
    const HeapScene s =
        buildHeapScene({span(kBase, 1)}, kPage, kArena, uint64_t{1} << 62, uint64_t{1} << 61);
    EXPECT_LE(s.arenas.size(), 2 * 4096u);
    EXPECT_FALSE(draw(s).isNull());
}

TEST(HeapSceneBounds, SpansOutsideTheAddressSpaceAreSkipped) {
    const HeapScene s =
        buildHeapScene({span(~uint64_t{0} - kPage, 100), span(kBase, 1)}, kPage, kArena, kArena, 0);
    for (const Tile& t : s.tiles) EXPECT_LT(t.base, uint64_t{1} << 48);
}

TEST(HeapSceneBounds, ImpossiblePageAndArenaSizesFallBackToTheDefaults) {
    const HeapScene s = buildHeapScene({span(kBase, 1)}, 3, uint64_t{1} << 50, kArena, 0);
    EXPECT_EQ(s.pageSize, 8192u);
    EXPECT_EQ(s.arenaBytes, 64ull << 20);
    EXPECT_FALSE(draw(s).isNull());
}
