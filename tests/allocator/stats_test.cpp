// Statistics add up: the MemStats buckets against a walk of the whole heap (validate) and against
// what the test itself allocated.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "spanscope/allocator.h"

using namespace spanscope;

TEST(Stats, BucketsAddUp) {
    std::vector<void*> ps;
    for (int i = 0; i < 50000; i++) ps.push_back(ssMalloc(static_cast<size_t>(8 + (i * 7) % 3000)));
    for (int i = 0; i < 20; i++) ps.push_back(ssMalloc(static_cast<size_t>(40000 + i * 10000)));
    MemStats st;
    readMemStats(&st);
    EXPECT_EQ(st.HeapSys, st.HeapInuse + st.HeapIdle);
    EXPECT_LE(st.HeapReleased, st.HeapIdle);
    EXPECT_EQ(st.Sys, st.HeapSys + st.MSpanSys + st.GCSys + st.OtherSys);
    EXPECT_LE(st.HeapAlloc, st.HeapInuse);
    char why[256] = "";
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;  // walks spans, pages and counters
    for (void* p : ps) ssFree(p);
}

TEST(Stats, MallocsAndFreesCountWhatWasDone) {
    sweepAll();
    MemStats a;
    readMemStats(&a);
    std::vector<void*> ps;
    for (int i = 0; i < 10000; i++) ps.push_back(ssMalloc(100));  // class 8: 112 B
    for (int i = 0; i < 10; i++) ps.push_back(ssMalloc(50000));   // large: 7 pages
    MemStats b;
    readMemStats(&b);
    EXPECT_EQ(b.Mallocs - a.Mallocs, 10010u);
    EXPECT_EQ(b.BySize[9].Mallocs - a.BySize[9].Mallocs, 10000u);
    EXPECT_EQ(b.HeapAlloc - a.HeapAlloc, 10000u * 112 + 10u * 7 * 8192);
    for (void* p : ps) ssFree(p);
    sweepAll();  // frees are counted when the sweep sees them, as Go counts at sweep
    MemStats c;
    readMemStats(&c);
    EXPECT_EQ(c.Frees - b.Frees, 10010u);
    EXPECT_EQ(c.HeapAlloc, a.HeapAlloc);
}

TEST(Stats, ScavengerReleasesFreePages) {
    std::vector<void*> ps;
    for (int i = 0; i < 200; i++) ps.push_back(ssMalloc(1 << 20));
    for (void* p : ps) ssFree(p);
    sweepAll();
    releaseFreeMemory();
    MemStats st;
    readMemStats(&st);
    EXPECT_GE(st.HeapReleased, 200u << 20);
    EXPECT_EQ(st.HeapIdle, st.HeapReleased) << "every free page was released";
    char why[256] = "";
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;
}

// Issue 11: when a malloc-mode heap empties, a sweep by a thread with no cache publishes frees at
// once while the allocating thread's counts are still batched: no counter may go below zero (or
// wrap to 2^64 - x, which once started sweep generations back to back), and emptying the heap
// must not start a burst of generations.
TEST(Stats, CountersStayNonNegativeWhenAMallocModeHeapEmpties) {
    constexpr int kCls = 13;  // 176 B: no other test here uses it
    sweepAll();
    MemStats start;
    readMemStats(&start);
    for (int round = 0; round < 4; round++) {
        std::vector<void*> ps;
        for (int i = 0; i < 50000; i++) ps.push_back(ssMalloc(170));
        for (void* p : ps) ssFree(p);
        MemStats seen;
        std::thread([&] {
            // No allocation on this thread: its sweeps publish at once, unbatched.
            sweepAll();
            readMemStats(&seen);
        }).join();
        EXPECT_LE(seen.BySize[kCls].Frees, seen.BySize[kCls].Mallocs) << "round " << round;
        EXPECT_LT(seen.HeapLive, uint64_t{1} << 48)
            << "heapLive wrapped below zero, round " << round;
        EXPECT_LT(seen.HeapAlloc, uint64_t{1} << 48) << "round " << round;
        EXPECT_LT(seen.HeapObjects, uint64_t{1} << 48) << "round " << round;
        EXPECT_LT(seen.NextSweep, uint64_t{1} << 40) << "round " << round;
    }
    sweepAll();
    MemStats end;
    readMemStats(&end);
    EXPECT_EQ(end.BySize[kCls].Mallocs, end.BySize[kCls].Frees) << "the class is empty again";
    EXPECT_EQ(end.BySize[kCls].Mallocs - start.BySize[kCls].Mallocs, 200000u);
    EXPECT_LE(end.HeapLive, start.HeapLive + (1 << 20));
    // 4 rounds of 8.6 MiB each: a generation per trigger distance (>= 2 MiB) plus the 2 forced
    // per sweepAll, not dozens.
    EXPECT_LE(end.NumSweepCycles - start.NumSweepCycles, 4u * (5 + 4));
    char why[256] = "";
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;
}
