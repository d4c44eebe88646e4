// MHeap::validate (allocator/validate.cpp) on a private heap: a sound heap passes, and each kind
// of damage is reported with what is wrong (a span's slots, its ownership, its tag in an mcentral
// set, the span counts, the page accounting). Each test repairs the damage, so the heap's own
// validate at teardown passes again.
#include <gtest/gtest.h>

#include <string>

#include "test_heap.h"

namespace spanscope::detail {
namespace {

// validate's verdict: empty when the heap is sound, else its message.
std::string verdict(MHeap& h) {
    char why[256] = "";
    return h.validate(why, sizeof why) ? std::string() : std::string(why);
}

// A partly used span of the test class, handed back to mcentral.
MSpan* partialSpan(TestHeap& t) {
    for (int i = 0; i < 10; i++)
        if (!t.cache->nextFree(kTestSpc)) return nullptr;
    MSpan* s = t.cache->alloc[kTestSpc];
    t.cache->releaseAll();
    return s;
}

TEST(ValidateTest, ReportsASpanWhoseCountDisagreesWithItsBitmaps) {
    TestHeap t;
    MSpan* s = partialSpan(t);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(verdict(t.h()), "");
    s->allocCount++;
    EXPECT_NE(verdict(t.h()).find("allocCount 11 but 10 slots allocated"), std::string::npos)
        << verdict(t.h());
    s->allocCount--;
}

TEST(ValidateTest, ReportsOwnershipAndSetTagsThatDisagree) {
    TestHeap t;
    MSpan* s = partialSpan(t);
    ASSERT_NE(s, nullptr);
    s->owner = t.cache.get();
    EXPECT_NE(verdict(t.h()).find("uncached span"), std::string::npos) << verdict(t.h());
    s->owner = nullptr;
    s->setWhere(SpanWhere::FullSwept);  // while it sits in partialSwept
    EXPECT_NE(verdict(t.h()).find("found in set"), std::string::npos) << verdict(t.h());
    s->setWhere(SpanWhere::PartialSwept);
    EXPECT_EQ(verdict(t.h()), "");
}

TEST(ValidateTest, ReportsCountsAndPageAccountingThatDisagree) {
    TestHeap t;
    ASSERT_NE(partialSpan(t), nullptr);
    MHeapTestPeer::spansOfClass(t.h(), kTestClass)++;
    EXPECT_NE(verdict(t.h()).find("allspans holds 1 spans, count says 2"), std::string::npos)
        << verdict(t.h());
    MHeapTestPeer::spansOfClass(t.h(), kTestClass)--;
    MHeapTestPeer::heapInUse(t.h()) += kPageSize;
    EXPECT_NE(verdict(t.h()).find("HeapInuse"), std::string::npos) << verdict(t.h());
    MHeapTestPeer::heapInUse(t.h()) -= kPageSize;
    EXPECT_EQ(verdict(t.h()), "");
}

}  // namespace
}  // namespace spanscope::detail
