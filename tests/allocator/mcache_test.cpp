// mcache (allocator/mcache.cpp) on a private heap: nextFree hands out every slot of the cached
// span once, in order, then refills (Go's nextFree and refill); releaseAll hands every span back
// and publishes the thread's counts (Go's releaseAll).
#include "spanscope/detail/mcache.h"

#include <gtest/gtest.h>

#include <vector>

#include "test_heap.h"

namespace spanscope::detail {
namespace {

TEST(MCacheTest, NextFreeHandsOutEverySlotOnceThenRefills) {
    TestHeap t;
    const size_t n = classNelems(kTestClass, true);
    ASSERT_EQ(n, 128u);
    void* first = t.cache->nextFree(kTestSpc);
    ASSERT_NE(first, nullptr);
    MSpan* s = t.cache->alloc[kTestSpc];
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->owner, t.cache.get());
    EXPECT_EQ(s->whereNow(), SpanWhere::Cached);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first), s->base());
    for (size_t i = 1; i < n; i++)
        ASSERT_EQ(reinterpret_cast<uintptr_t>(t.cache->nextFree(kTestSpc)), s->base() + i * 64)
            << i;
    EXPECT_EQ(s->allocCount, n);
    EXPECT_EQ(MHeapTestPeer::spanCount(t.h()), 1u);
    // Full: the next one refills with a new span and hands the full one back to mcentral.
    void* p = t.cache->nextFree(kTestSpc);
    ASSERT_NE(p, nullptr);
    MSpan* s2 = t.cache->alloc[kTestSpc];
    EXPECT_NE(s2, s);
    EXPECT_EQ(spanOf(reinterpret_cast<uintptr_t>(p)), s2);
    EXPECT_EQ(s->owner, nullptr);
    EXPECT_EQ(s->whereNow(), SpanWhere::FullSwept);
    EXPECT_EQ(MHeapTestPeer::spanCount(t.h()), 2u);
    t.cache->releaseAll();
    EXPECT_EQ(t.stats().BySize[kTestClass].Mallocs, n + 1);
}

TEST(MCacheTest, ReleaseAllHandsBackEveryClassAndCountsWhatWasUsed) {
    TestHeap t;
    const int classes[] = {kTestClass, kTestClass + 2, kTestClass + 4};
    uint64_t bytes = 0;
    for (int c : classes) {
        for (int i = 0; i < 3; i++) ASSERT_NE(t.cache->nextFree(makeSpanClass(c, true)), nullptr);
        bytes += 3 * kClassToSize[c];
    }
    std::vector<MSpan*> spans;
    for (int c : classes) spans.push_back(t.cache->alloc[makeSpanClass(c, true)]);
    t.cache->releaseAll();
    for (int spc = 0; spc < kNumSpanClasses; spc++) EXPECT_EQ(t.cache->alloc[spc], nullptr);
    for (MSpan* s : spans) {
        EXPECT_EQ(s->owner, nullptr);
        EXPECT_EQ(s->whereNow(), SpanWhere::PartialSwept);  // room left: the next refill's
    }
    const MemStats st = t.stats();
    for (int c : classes) EXPECT_EQ(st.BySize[c].Mallocs, 3u) << c;
    // At refill heapLive counted the span's free slots; releaseAll took back the unused ones.
    EXPECT_EQ(st.HeapLive, bytes);
    EXPECT_EQ(st.HeapAlloc, bytes);
}

}  // namespace
}  // namespace spanscope::detail
