// The sweeper (allocator/mgcsweep.cpp, mspan.cpp's sweeps) on a private heap: a new sweep
// generation makes every span unswept; sweeping frees the slots that were freed (malloc mode) or
// left unmarked (managed mode), counts them, and gives a span with nothing left back to the heap
// (Go's sweepone and mspan.sweep).
#include <gtest/gtest.h>

#include "test_heap.h"

namespace spanscope::detail {
namespace {

// A full span of the test class in heap t, handed back to mcentral.
MSpan* fullSpan(TestHeap& t) {
    for (int i = 0; i < 128; i++)
        if (!t.cache->nextFree(kTestSpc)) return nullptr;
    MSpan* s = t.cache->alloc[kTestSpc];
    t.cache->releaseAll();
    return s;
}

TEST(SweepTest, SweepFreesTheFreedSlotsAndCountsThem) {
    TestHeap t;
    MSpan* s = fullSpan(t);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(s->sweepThreshold, 8u);
    for (size_t i = 0; i < 128; i += 19) remoteFree(t.h(), s, i);  // 7 frees: below threshold
    EXPECT_EQ(s->allocCount, 128u);  // nothing is reused before a sweep
    const uint64_t liveBefore = t.stats().HeapLive;
    const uint32_t sg = t.h().bumpSweepgenExclusive();
    EXPECT_EQ(s->sweepgen, sg - 2);  // unswept now
    t.h().sweepAllUnswept();
    EXPECT_EQ(s->sweepgen, sg);
    EXPECT_EQ(s->allocCount, 128u - 7);
    for (size_t i = 0; i < 128; i++) EXPECT_EQ(s->isAllocated(i), i % 19 != 0) << i;
    EXPECT_EQ(s->whereNow(), SpanWhere::FullSwept);  // 7 free slots: fewer than the 8 it takes
    const MemStats st = t.stats();
    EXPECT_EQ(st.BySize[kTestClass].Frees, 7u);
    EXPECT_EQ(st.HeapLive, liveBefore - 7 * 64);
    EXPECT_EQ(st.HeapObjects, 128u - 7);
}

TEST(SweepTest, SpanWithNothingLeftGoesBackToTheHeap) {
    TestHeap t;
    MSpan* s = fullSpan(t);
    ASSERT_NE(s, nullptr);
    const uintptr_t base = s->base();
    for (size_t i = 0; i < 128; i++) remoteFree(t.h(), s, i);
    EXPECT_EQ(s->whereNow(), SpanWhere::FullUnswept);
    t.h().sweepAllUnswept();  // the background sweeper's work, without a new generation
    EXPECT_EQ(spanOf(base), nullptr);
    EXPECT_EQ(MHeapTestPeer::spanCount(t.h()), 0u);
    const MemStats st = t.stats();
    EXPECT_EQ(st.HeapInuse, 0u);
    EXPECT_EQ(st.BySize[kTestClass].Frees, 128u);
    EXPECT_EQ(st.HeapObjects, 0u);
}

TEST(SweepTest, ManagedSweepFreesUnmarkedSlots) {
    TestHeap t(/*managed=*/true);
    for (int i = 0; i < 50; i++) ASSERT_NE(t.cache->nextFree(kTestSpc), nullptr);
    MSpan* s = t.cache->alloc[kTestSpc];
    t.cache->releaseAll();
    ASSERT_TRUE(s->managed);
    // What a mark phase would leave: the even slots reachable.
    for (size_t i = 0; i < 50; i += 2) s->gcmarkBits[i / 64] |= uint64_t{1} << (i % 64);
    const uint32_t sg = t.h().bumpSweepgenExclusive();  // Go's gcSweep at mark termination
    t.h().sweepAllUnswept();
    EXPECT_EQ(s->sweepgen, sg);
    EXPECT_EQ(s->allocCount, 25u);
    for (size_t i = 0; i < 50; i++) EXPECT_EQ(s->isAllocated(i), i % 2 == 0) << i;
    for (size_t w = 0; w < s->nwords; w++) EXPECT_EQ(s->gcmarkBits[w], 0u);  // next marks white
    EXPECT_EQ(t.stats().BySize[kTestClass].Frees, 25u);
    // The next cycle with nothing marked frees the rest and the span.
    t.h().bumpSweepgenExclusive();
    t.h().sweepAllUnswept();
    EXPECT_EQ(MHeapTestPeer::spanCount(t.h()), 0u);
    EXPECT_EQ(t.stats().BySize[kTestClass].Frees, 50u);
}

}  // namespace
}  // namespace spanscope::detail
