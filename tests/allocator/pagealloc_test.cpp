// Page allocator: lowest-address first fit, coalescing, summaries, scavenged accounting, checked
// against a simple reference bitmap on random operation sequences.
#include "spanscope/detail/pagealloc.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "spanscope/detail/platform.h"

using namespace spanscope;
using namespace spanscope::detail;

namespace {
// A heap region placed at a fixed, chunk-aligned address far from anything else.
struct Fixture {
    PageAlloc pa;
    uintptr_t base;
    size_t pages;
    explicit Fixture(size_t chunks) {
        pa.init();
        base = reinterpret_cast<uintptr_t>(
            sysReserve(chunks * PageAlloc::kChunkBytes, PageAlloc::kChunkBytes, nullptr));
        pages = chunks * PageAlloc::kChunkPages;
        pa.grow(base, chunks * PageAlloc::kChunkBytes);
    }
};
}  // namespace

namespace spanscope::detail {
// Reaches the chunk bitmaps and the two leaf summaries (declared a friend in pagealloc.h).
class PageAllocTestPeer {
public:
    static uint64_t* inUse(PageAlloc& pa, uintptr_t addr) {
        return pa.chunk(addr >> PageAlloc::kChunkShift)->inUse;
    }
    static uint64_t fast(const PageAlloc& pa, uintptr_t addr) {
        return pa.leafSummary(addr >> PageAlloc::kChunkShift);
    }
    static uint64_t reference(const PageAlloc& pa, uintptr_t addr) {
        return pa.leafSummaryReference(addr >> PageAlloc::kChunkShift);
    }
};
}  // namespace spanscope::detail

// The word-at-a-time leaf summary equals the page-by-page one on bitmaps of every shape: empty,
// full, single pages and runs at word edges, sparse and dense random words.
TEST(PageAlloc, WordAtATimeLeafSummaryMatchesPageByPage) {
    Fixture f(1);
    uint64_t* bits = PageAllocTestPeer::inUse(f.pa, f.base);
    constexpr size_t kWords = PageAlloc::kChunkPages / 64;
    std::mt19937_64 rng(9);
    const uint64_t shapes[] = {0,
                               ~0ull,
                               1,
                               1ull << 63,
                               0x8000000000000001ull,
                               0x00ff00ff00ff00ffull,
                               0xfffffffffffffffeull,
                               0x7fffffffffffffffull,
                               0x0000000100000000ull};
    for (int round = 0; round < 20000; round++) {
        for (size_t w = 0; w < kWords; w++) {
            switch (rng() % 4) {
                case 0:
                    bits[w] = shapes[rng() % (sizeof shapes / sizeof shapes[0])];
                    break;
                case 1:
                    bits[w] = rng() & rng() & rng();
                    break;  // sparse
                case 2:
                    bits[w] = rng() | rng() | rng();
                    break;  // dense
                default:
                    bits[w] = rng();
                    break;
            }
        }
        ASSERT_EQ(PageAllocTestPeer::fast(f.pa, f.base), PageAllocTestPeer::reference(f.pa, f.base))
            << "round " << round;
    }
}

TEST(PageAlloc, FreshMemoryIsFreeAndReleased) {
    Fixture f(2);
    EXPECT_EQ(f.pa.countFreePages(), f.pages);
    EXPECT_EQ(f.pa.countScavengedPages(), f.pages);
    size_t scav = 0;
    uintptr_t a = f.pa.alloc(3, &scav);
    EXPECT_EQ(a, f.base);
    EXPECT_EQ(scav, 3u);
    EXPECT_EQ(f.pa.countScavengedPages(), f.pages - 3);
    EXPECT_TRUE(f.pa.checkSummaries());
}

TEST(PageAlloc, LowestAddressFirstFitAndCoalescing) {
    Fixture f(1);
    size_t scav;
    uintptr_t a = f.pa.alloc(4, &scav), b = f.pa.alloc(4, &scav), c = f.pa.alloc(4, &scav);
    EXPECT_EQ(b, a + 4 * kPageSize);
    EXPECT_EQ(c, b + 4 * kPageSize);
    f.pa.free(a, 4);
    f.pa.free(b, 4);                     // coalesces with a
    EXPECT_EQ(f.pa.alloc(8, &scav), a);  // the merged run is reused, lowest first
    EXPECT_EQ(f.pa.alloc(1, &scav), c + 4 * kPageSize);
    EXPECT_TRUE(f.pa.checkSummaries());
}

TEST(PageAlloc, RunsSpanningChunks) {
    Fixture f(4);  // 2048 pages
    size_t scav;
    uintptr_t a = f.pa.alloc(100, &scav);
    uintptr_t big = f.pa.alloc(700, &scav);  // crosses into the second chunk
    EXPECT_EQ(big, a + 100 * kPageSize);
    uintptr_t huge = f.pa.alloc(800, &scav);
    EXPECT_EQ(huge, big + 700 * kPageSize);
    EXPECT_EQ(f.pa.alloc(1000, &scav), 0u) << "only 448 pages are left";
    f.pa.free(big, 700);
    EXPECT_EQ(f.pa.alloc(600, &scav), big);
    EXPECT_EQ(f.pa.largestFreeRun(), f.pages - 1600);  // the tail beats the 100-page hole
    EXPECT_TRUE(f.pa.checkSummaries());
}

TEST(PageAlloc, AlignedAndExact) {
    Fixture f(2);
    size_t scav;
    f.pa.alloc(3, &scav);
    uintptr_t a = f.pa.allocAligned(5, 64, &scav);
    EXPECT_EQ(a % (64 * kPageSize), 0u);
    EXPECT_TRUE(f.pa.allocExact(a + 5 * kPageSize, 2, &scav));
    EXPECT_FALSE(f.pa.allocExact(a + 6 * kPageSize, 2, &scav));
    EXPECT_TRUE(f.pa.checkSummaries());
}

TEST(PageAlloc, ScavengeCandidatesComeFromTheTop) {
    Fixture f(1);
    size_t scav;
    uintptr_t a = f.pa.alloc(f.pages, &scav);  // touch everything: no page is released any more
    EXPECT_EQ(f.pa.countScavengedPages(), 0u);
    f.pa.free(a, 10);
    f.pa.free(a + 100 * kPageSize, 20);
    uintptr_t base = 0;
    EXPECT_EQ(f.pa.findScavengeCandidate(8, &base), 8u);
    EXPECT_EQ(base, a + 112 * kPageSize);  // top 8 pages of the higher free run
    f.pa.allocExact(base, 8, &scav);
    f.pa.free(base, 8);
    f.pa.markScavenged(base, 8);
    EXPECT_EQ(f.pa.countScavengedPages(), 8u);
    EXPECT_EQ(f.pa.findScavengeCandidate(64, &base), 12u);
    EXPECT_EQ(base, a + 100 * kPageSize);
}

TEST(PageAlloc, RandomOperationsMatchReferenceModel) {
    Fixture f(4);
    std::vector<char> used(f.pages, 0);
    struct Run {
        uintptr_t base;
        size_t n;
    };
    std::vector<Run> runs;
    std::mt19937_64 rng(42);
    for (int step = 0; step < 4000; step++) {
        if (runs.empty() || rng() % 3) {
            size_t n = rng() % 8 == 0 ? 1 + rng() % 700 : 1 + rng() % 16;
            // Reference: lowest fit in the model.
            size_t expect = SIZE_MAX, run = 0;
            for (size_t i = 0; i < f.pages; i++) {
                run = used[i] ? 0 : run + 1;
                if (run == n) {
                    expect = i + 1 - n;
                    break;
                }
            }
            size_t scav;
            uintptr_t got = f.pa.alloc(n, &scav);
            if (expect == SIZE_MAX) {
                ASSERT_EQ(got, 0u);
                continue;
            }
            ASSERT_EQ(got, f.base + expect * kPageSize) << "step " << step << " n " << n;
            for (size_t i = 0; i < n; i++) used[expect + i] = 1;
            runs.push_back({got, n});
        } else {
            size_t k = rng() % runs.size();
            f.pa.free(runs[k].base, runs[k].n);
            size_t first = (runs[k].base - f.base) / kPageSize;
            for (size_t i = 0; i < runs[k].n; i++) used[first + i] = 0;
            runs.erase(runs.begin() + static_cast<long>(k));
        }
        if (step % 200 == 0) {
            ASSERT_TRUE(f.pa.checkSummaries()) << step;
        }
    }
    size_t freeModel = 0;
    for (char u : used) freeModel += !u;
    EXPECT_EQ(f.pa.countFreePages(), freeModel);
}

// The page reserve's block (takeBlock64): every free page of the 64-page block holding the lowest
// free page, with its released bits, taken at once; returnBlock64 puts back exactly what is left.
TEST(PageAlloc, TakeBlockHandsOverTheLowestBlocksFreePages) {
    Fixture f(1);
    size_t scav;
    uintptr_t a =
        f.pa.alloc(130, &scav);        // pages 0..129 in use: block 2 (pages 128..191) has 62 free
    f.pa.free(a + 70 * kPageSize, 1);  // page 70 (block 1) is free again, and not released
    uintptr_t base = 0;
    uint64_t pages = 0, released = 0;
    ASSERT_TRUE(f.pa.takeBlock64(&base, &pages, &released));
    EXPECT_EQ(base, a + 64 * kPageSize);
    EXPECT_EQ(pages, uint64_t{1} << 6);
    EXPECT_EQ(released, 0u);
    EXPECT_EQ(f.pa.countFreePages(), f.pages - 130);
    ASSERT_TRUE(f.pa.takeBlock64(&base, &pages, &released));
    EXPECT_EQ(base, a + 128 * kPageSize);
    EXPECT_EQ(pages, ~uint64_t{3});
    EXPECT_EQ(released, ~uint64_t{3}) << "fresh pages are released";
    EXPECT_EQ(f.pa.countFreePages(), f.pages - 192);
    EXPECT_EQ(f.pa.countScavengedPages(), f.pages - 192);
    EXPECT_TRUE(f.pa.checkSummaries());
    // Use two pages of the block, give the rest back: they are free and released again.
    f.pa.returnBlock64(base, pages & ~uint64_t{0xc}, released & ~uint64_t{0xc});
    EXPECT_EQ(f.pa.countFreePages(), f.pages - 132);
    EXPECT_EQ(f.pa.countScavengedPages(), f.pages - 132);
    EXPECT_EQ(f.pa.alloc(1, &scav), a + 132 * kPageSize);
    EXPECT_EQ(scav, 1u);
    EXPECT_TRUE(f.pa.checkSummaries());
}

TEST(PageAlloc, TakeBlockFailsWhenNothingIsFree) {
    Fixture f(1);
    size_t scav;
    f.pa.alloc(f.pages, &scav);
    uintptr_t base = 0;
    uint64_t pages = 0, released = 0;
    EXPECT_FALSE(f.pa.takeBlock64(&base, &pages, &released));
}
