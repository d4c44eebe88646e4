// mcentral (allocator/mcentral.cpp) on a private heap: cacheSpan takes a swept partial span, else
// sweeps an unswept one, else grows (Go's cacheSpan and mcentral.grow); uncacheSpan files a span
// by its room, and gives an empty one back to the heap; markDirty moves a full span whose frees
// reached the threshold to where the next refill sweeps it.
#include "spanscope/detail/mcentral.h"

#include <gtest/gtest.h>

#include "test_heap.h"

namespace spanscope::detail {
namespace {

TEST(MCentralTest, GrowsWhenItHasNoSpanAndGivesAnEmptyOneBack) {
    TestHeap t;
    MCentral& c = t.h().central(kTestSpc);
    MSpan* s = c.cacheSpan(t.h());
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->spanclass, kTestSpc);
    EXPECT_EQ(s->allocCount, 0u);
    EXPECT_EQ(s->nelems, 128u);
    EXPECT_EQ(MHeapTestPeer::spanCount(t.h()), 1u);
    EXPECT_EQ(t.source.mappedBytes, PageAlloc::kChunkBytes);
    c.uncacheSpan(t.h(), s);  // nothing allocated: back to the heap
    EXPECT_EQ(MHeapTestPeer::spanCount(t.h()), 0u);
    EXPECT_EQ(t.stats().HeapInuse, 0u);
}

TEST(MCentralTest, HandedBackPartialSpanIsTheNextRefill) {
    TestHeap t;
    for (int i = 0; i < 10; i++) ASSERT_NE(t.cache->nextFree(kTestSpc), nullptr);
    MSpan* s = t.cache->alloc[kTestSpc];
    t.cache->releaseAll();
    MCentral& c = t.h().central(kTestSpc);
    EXPECT_EQ(c.partialSwept(t.h().sweepgen()).first(), s);
    long swept = 0;
    EXPECT_EQ(c.cacheSpan(t.h(), &swept), s);
    EXPECT_EQ(swept, -1);  // taken as it was, no sweep on the way
    EXPECT_EQ(MHeapTestPeer::spanCount(t.h()), 1u);
    EXPECT_TRUE(c.partialSwept(t.h().sweepgen()).empty());
    c.uncacheSpan(t.h(), s);
    EXPECT_EQ(s->whereNow(), SpanWhere::PartialSwept);
}

TEST(MCentralTest, FullSpanIsRefilledOnlyOnceEnoughFreesMakeItWorthSweeping) {
    TestHeap t;
    for (int i = 0; i < 128; i++) ASSERT_NE(t.cache->nextFree(kTestSpc), nullptr);
    MSpan* s = t.cache->alloc[kTestSpc];
    t.cache->releaseAll();
    ASSERT_EQ(s->whereNow(), SpanWhere::FullSwept);
    MCentral& c = t.h().central(kTestSpc);
    ASSERT_EQ(s->sweepThreshold, 8u);  // a sixteenth of 128 slots (mallocSweepThreshold)
    for (size_t i = 0; i < 7; i++) remoteFree(t.h(), s, i * 16);
    EXPECT_EQ(s->whereNow(), SpanWhere::FullSwept);  // one short: not worth a sweep yet
    MSpan* fresh = c.cacheSpan(t.h());
    EXPECT_NE(fresh, s);
    c.uncacheSpan(t.h(), fresh);  // empty: back to the heap
    remoteFree(t.h(), s, 7 * 16);
    EXPECT_EQ(s->whereNow(), SpanWhere::FullUnswept);  // markDirty
    long swept = -1;
    EXPECT_EQ(c.cacheSpan(t.h(), &swept), s);
    EXPECT_EQ(swept, 8);  // swept on the way
    EXPECT_EQ(s->allocCount, 120u);
    EXPECT_FALSE(s->isAllocated(0));
    EXPECT_TRUE(s->isAllocated(1));
    EXPECT_EQ(t.stats().BySize[kTestClass].Frees, 8u);
    c.uncacheSpan(t.h(), s);
}

}  // namespace
}  // namespace spanscope::detail
