// The scavenger (allocator/mgcscavenge.cpp) on a private heap: free pages go back to the page
// source (Go's sysUnused), are counted as released, read as zero when used again, and fresh
// pages, never used, are not released twice.
#include <gtest/gtest.h>

#include <cstring>

#include "test_heap.h"

namespace spanscope::detail {
namespace {

constexpr uint8_t kLargeClass = makeSpanClass(0, true);

TEST(ScavengeTest, ReturnsFreedPagesToThePageSource) {
    TestHeap t;
    const size_t pages = 256;  // 2 MiB
    MSpan* s = t.h().allocSpan(pages, kLargeClass);
    ASSERT_NE(s, nullptr);
    memset(reinterpret_cast<void*>(s->base()), 0xab, pages * kPageSize);
    const uintptr_t base = s->base();
    // Fresh pages count as released until used: the rest of the chunk is released already.
    EXPECT_EQ(t.stats().HeapReleased, PageAlloc::kChunkBytes - pages * kPageSize);
    t.h().freeSpan(s);
    EXPECT_EQ(t.source.unusedBytes, 0u);  // freeing keeps the pages
    const size_t released = t.h().scavenge(SIZE_MAX, true);
    EXPECT_EQ(released, pages * kPageSize);  // only the used pages: the others never were
    EXPECT_EQ(t.source.unusedBytes, pages * kPageSize);
    const MemStats st = t.stats();
    EXPECT_EQ(st.HeapReleased, PageAlloc::kChunkBytes);
    EXPECT_EQ(st.HeapIdle, PageAlloc::kChunkBytes);
    EXPECT_EQ(t.h().scavenge(SIZE_MAX, true), 0u);  // nothing left to release
    // The same pages again: released, so known to be zero (no memset needed), and they are.
    MSpan* again = t.h().allocSpan(pages, kLargeClass);
    ASSERT_NE(again, nullptr);
    ASSERT_EQ(again->base(), base);
    EXPECT_EQ(again->needzero, 0);
    const auto* b = reinterpret_cast<const unsigned char*>(base);
    for (size_t i = 0; i < pages * kPageSize; i += 4096) EXPECT_EQ(b[i], 0) << i;
    t.h().freeSpan(again);
}

TEST(ScavengeTest, ReleasesAtMostWhatItIsAskedFor) {
    TestHeap t;
    MSpan* s = t.h().allocSpan(64, kLargeClass);  // 512 KiB
    ASSERT_NE(s, nullptr);
    t.h().freeSpan(s);
    EXPECT_EQ(t.h().scavenge(kScavengeQuantum, true), kScavengeQuantum);
    EXPECT_EQ(t.source.unusedBytes, kScavengeQuantum);
    EXPECT_EQ(t.h().scavenge(SIZE_MAX, true), 64 * kPageSize - kScavengeQuantum);
}

}  // namespace
}  // namespace spanscope::detail
