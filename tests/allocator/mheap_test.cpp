// mheap (allocator/mheap.cpp) on a private heap with a fake page source: how it grows (arenas
// reserved, chunks mapped, as Go's mheap.grow), span allocation and freeing, coalescing of freed
// neighbours, the page -> span map, and a page source that refuses.
#include "spanscope/detail/mheap.h"

#include <gtest/gtest.h>

#include "test_heap.h"

namespace spanscope::detail {
namespace {

constexpr uint8_t kLargeClass = makeSpanClass(0, true);  // one object per span, any page count
constexpr size_t kChunk = PageAlloc::kChunkBytes;        // the unit of growth: 4 MiB

TEST(MHeapTest, FirstSpanReservesOneArenaAndMapsOneChunk) {
    TestHeap t;
    EXPECT_EQ(MHeapTestPeer::source(t.h()), &t.source);
    EXPECT_EQ(t.source.mappedBytes, 0u);  // init asks for nothing
    MSpan* s = t.h().allocSpan(4, kLargeClass);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(t.source.reserveCalls, 1u);
    EXPECT_EQ(t.source.reservedBytes, kArenaBytes);
    EXPECT_EQ(t.source.mappedBytes, kChunk);
    EXPECT_TRUE(t.source.owns(reinterpret_cast<void*>(s->base()), 4 * kPageSize));
    // Every page of the span maps to it; the page after it to nothing.
    for (size_t i = 0; i < 4; i++) EXPECT_EQ(spanOf(s->base() + i * kPageSize + 100), s);
    EXPECT_EQ(spanOf(s->end()), nullptr);
    const MemStats st = t.stats();
    EXPECT_EQ(st.HeapInuse, 4 * kPageSize);
    EXPECT_EQ(st.HeapSys, kChunk);
    EXPECT_EQ(MHeapTestPeer::spanCount(t.h()), 1u);
    t.h().freeSpan(s);
}

TEST(MHeapTest, GrowsOneChunkAtATimeWithinTheArena) {
    TestHeap t;
    const size_t pages = kChunk / kPageSize / 8;  // 512 KiB spans: eight fill a chunk
    MSpan* spans[9];
    for (int i = 0; i < 8; i++) ASSERT_NE(spans[i] = t.h().allocSpan(pages, kLargeClass), nullptr);
    EXPECT_EQ(t.source.mappedBytes, kChunk);
    EXPECT_EQ(t.stats().HeapIdle, 0u);
    ASSERT_NE(spans[8] = t.h().allocSpan(pages, kLargeClass), nullptr);
    EXPECT_EQ(t.source.mappedBytes, 2 * kChunk);
    EXPECT_EQ(t.source.reserveCalls, 1u);  // the same 64 MiB arena
    EXPECT_EQ(spans[8]->base(), spans[7]->end());
    // A span bigger than what is left of the arena reserves a new one.
    MSpan* big = t.h().allocSpan(kArenaBytes / kPageSize, kLargeClass);
    ASSERT_NE(big, nullptr);
    EXPECT_EQ(t.source.reserveCalls, 2u);
    for (MSpan* s : spans) t.h().freeSpan(s);
    t.h().freeSpan(big);
    EXPECT_EQ(MHeapTestPeer::spanCount(t.h()), 0u);
    EXPECT_EQ(t.stats().HeapInuse, 0u);
}

TEST(MHeapTest, FreedNeighboursCoalesceIntoOneRun) {
    TestHeap t;
    MSpan* a = t.h().allocSpan(4, kLargeClass);
    MSpan* b = t.h().allocSpan(4, kLargeClass);
    MSpan* c = t.h().allocSpan(4, kLargeClass);
    ASSERT_TRUE(a && b && c);
    ASSERT_EQ(b->base(), a->end());
    ASSERT_EQ(c->base(), b->end());
    const uintptr_t aBase = a->base(), cBase = c->base();
    t.h().freeSpan(a);
    t.h().freeSpan(c);
    EXPECT_EQ(spanOf(aBase), nullptr);
    EXPECT_TRUE(MHeapTestPeer::inAllSpans(t.h(), b));
    EXPECT_EQ(MHeapTestPeer::spanCount(t.h()), 1u);
    // a's 4 free pages are too few for 12 (b is in the way): lowest-address first fit takes c's.
    MSpan* x = t.h().allocSpan(12, kLargeClass);
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->base(), cBase);
    t.h().freeSpan(x);
    // With b gone, a, b and c are one free run of 12 pages (and more after it).
    t.h().freeSpan(b);
    MSpan* y = t.h().allocSpan(12, kLargeClass);
    ASSERT_NE(y, nullptr);
    EXPECT_EQ(y->base(), aBase);
    for (size_t i = 0; i < 12; i++) EXPECT_EQ(spanOf(aBase + i * kPageSize), y);
    EXPECT_EQ(t.source.mappedBytes, kChunk);  // nothing of this needed more memory
    t.h().freeSpan(y);
}

TEST(MHeapTest, RefusedGrowthIsOutOfMemoryAndLeavesTheHeapUsable) {
    TestHeap t(false, kArenaBytes);  // one arena and no more
    EXPECT_EQ(t.h().allocSpan(kArenaBytes / kPageSize + 1, kLargeClass), nullptr);
    EXPECT_EQ(t.source.refused, 1u);
    EXPECT_EQ(t.source.mappedBytes, 0u);
    MSpan* s = t.h().allocSpan(kArenaBytes / kPageSize, kLargeClass);  // exactly the arena
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(t.source.mappedBytes, kArenaBytes);
    EXPECT_EQ(t.h().allocSpan(1, kLargeClass), nullptr);  // full, and no more to be had
    EXPECT_EQ(t.source.refused, 2u);
    t.h().freeSpan(s);
    MSpan* again = t.h().allocSpan(1, kLargeClass);
    ASSERT_NE(again, nullptr);  // the freed pages, without asking the source again
    EXPECT_EQ(t.source.reserveCalls, 3u);
    t.h().freeSpan(again);
}

// The kernel refusing to back a reservation (more than memory and swap under its default
// overcommit): out of memory, the reservation given back, no arena made for it, the heap usable.
TEST(MHeapTest, AMappingTheSourceRefusesIsOutOfMemoryAndGivesTheReservationBack) {
    TestHeap t(false, 4 * kArenaBytes);
    t.source.refuseMaps = true;
    EXPECT_EQ(t.h().allocSpan(kArenaBytes / kPageSize + 1, kLargeClass), nullptr);
    EXPECT_EQ(t.source.releasedBytes, 2 * kArenaBytes);
    EXPECT_EQ(t.source.mappedBytes, 0u);
    t.source.refuseMaps = false;
    MSpan* s = t.h().allocSpan(1, kLargeClass);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(spanOf(s->base()), s);
    t.h().freeSpan(s);
}

TEST(MHeapTest, LargeObjectsCountTheirPagesAndGrowInPlace) {
    TestHeap t;
    void* p = t.h().allocLarge(3 * kPageSize + 1, kPageSize, true);
    ASSERT_NE(p, nullptr);
    MSpan* s = spanOf(reinterpret_cast<uintptr_t>(p));
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->npages, 4u);
    MemStats st = t.stats();
    EXPECT_EQ(st.BySize[0].Mallocs, 1u);
    EXPECT_EQ(st.HeapAlloc, 4 * kPageSize);
    ASSERT_TRUE(t.h().growLargeInPlace(s, 6));  // the pages after it are free
    EXPECT_EQ(spanOf(reinterpret_cast<uintptr_t>(p) + 5 * kPageSize), s);
    EXPECT_EQ(t.stats().HeapAlloc, 6 * kPageSize);
    t.h().freeLarge(s);
    st = t.stats();
    EXPECT_EQ(st.BySize[0].Frees, 1u);
    EXPECT_EQ(st.HeapAlloc, 0u);
    EXPECT_EQ(spanOf(reinterpret_cast<uintptr_t>(p)), nullptr);
}

}  // namespace
}  // namespace spanscope::detail
