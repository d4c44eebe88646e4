// The malloc-mode API: sizes and slots, alignment, calloc/realloc semantics, reuse after sweep,
// spans going back to the heap, and misuse reports.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "spanscope/allocator.h"
#include "spanscope/detail/malloc_inline.h"
#include "spanscope/events.h"

using namespace spanscope;

TEST(Malloc, SlotIsExactlyTheGoClassSize) {
    for (size_t size : {1, 8, 9, 24, 33, 1000, 1017, 1025, 20000, 32768}) {
        void* p = ssMalloc(size);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(ssUsableSize(p), kClassToSize[mallocSizeToClass(size)]) << size;
        EXPECT_EQ(mallocSizeToClass(size), size > 16 && size <= 24 ? 4 : sizeToClass(size)) << size;
        memset(p, 0xab, size);
        ssFree(p);
    }
    void* big = ssMalloc(32769);
    EXPECT_EQ(ssUsableSize(big), 40960u) << "large objects are page-rounded";
    ssFree(big);
}

TEST(Malloc, SlotsAreConsecutiveWithNoHeader) {
    std::vector<char*> ps;
    for (int i = 0; i < 8; i++) ps.push_back(static_cast<char*>(ssMalloc(48)));
    int adjacent = 0;
    for (int i = 1; i < 8; i++) adjacent += ps[i] - ps[i - 1] == 48;
    EXPECT_GE(adjacent, 6) << "objects of a span are handed out at base + i*size";
    for (char* p : ps) {
        EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u) << "48 is a multiple of 16";
        ssFree(p);
    }
}

TEST(Malloc, AlignmentFollowsSlotAddresses) {
    for (size_t align : {16, 32, 64, 256, 4096, 8192, 16384, 65536, 1 << 20}) {
        for (size_t size : {1, 100, 5000, 70000}) {
            void* p = ssAlignedAlloc(align, size);
            ASSERT_NE(p, nullptr);
            EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << align << " " << size;
            EXPECT_GE(ssUsableSize(p), size);
            memset(p, 1, size);
            ssFree(p);
        }
    }
}

// C's rule: a block is aligned for every object with a fundamental alignment that fits in it, so
// 16-aligned from 16 bytes on (max_align_t); 17..24 bytes take the 32-byte class for it.
TEST(Malloc, EverySizeUpTo64KiBIsAlignedThroughEveryEntryPoint) {
    void* (*const entries[])(size_t) = {
        [](size_t n) { return ssMalloc(n); },
        [](size_t n) { return ssCalloc(1, n); },
        [](size_t n) { return ssRealloc(nullptr, n); },
        [](size_t n) { return ssRealloc(ssMalloc(1), n); },
        [](size_t n) { return ssAlignedAlloc(16, n); },
        [](size_t n) { return ssAlignedAlloc(8, n); },
    };
    int e = 0;
    for (auto alloc : entries) {
        size_t bad = 0;
        for (size_t n = 1; n <= 65536; n++) {
            void* p = alloc(n);
            ASSERT_NE(p, nullptr) << "entry " << e << " size " << n;
            const uintptr_t want = n >= 16 ? 16 : 8;
            const size_t u = ssUsableSize(p);
            const size_t slot = n <= kMaxSmallSize ? kClassToSize[mallocSizeToClass(n)]
                                                   : (n + kPageSize - 1) / kPageSize * kPageSize;
            if (reinterpret_cast<uintptr_t>(p) % want != 0 || u < n || (e < 4 && u != slot)) {
                if (bad++ < 3)
                    ADD_FAILURE() << "entry " << e << " size " << n << ": " << p << " usable " << u;
            }
            ssFree(p);
        }
        EXPECT_EQ(bad, 0u) << "entry " << e;
        e++;
    }
    void* p20 = ssMalloc(20);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p20) % 16, 0u);
    ssFree(p20);
}

TEST(Malloc, CallocZeroesAndChecksOverflow) {
    for (int round = 0; round < 3; round++) {
        std::vector<unsigned char*> ps;
        for (int i = 0; i < 200; i++) {
            auto* p = static_cast<unsigned char*>(ssMalloc(100));
            memset(p, 0xff, 100);
            ps.push_back(p);
        }
        for (auto* p : ps) ssFree(p);
        sweepAll();  // the dirty slots become reusable
        for (int i = 0; i < 200; i++) {
            auto* p = static_cast<unsigned char*>(ssCalloc(10, 10));
            for (int k = 0; k < 100; k++) ASSERT_EQ(p[k], 0);
            ssFree(p);
        }
    }
    errno = 0;
    EXPECT_EQ(ssCalloc(SIZE_MAX / 2, 3), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    auto* big = static_cast<unsigned char*>(ssCalloc(1, 1 << 20));
    for (int k = 0; k < (1 << 20); k += 4096) ASSERT_EQ(big[k], 0);
    ssFree(big);
}

TEST(Malloc, ReallocKeepsContentsAndStaysInPlaceWhenTheClassFits) {
    char* p = static_cast<char*>(ssMalloc(20));
    strcpy(p, "hello, spanscope");
    EXPECT_EQ(ssRealloc(p, 24), p) << "20 and 24 share malloc mode's 32-byte class";
    EXPECT_EQ(ssRealloc(p, 32), p);
    char* q = static_cast<char*>(ssRealloc(p, 5000));
    EXPECT_STREQ(q, "hello, spanscope");
    char* r = static_cast<char*>(ssRealloc(q, 100000));
    EXPECT_STREQ(r, "hello, spanscope");
    char* s = static_cast<char*>(ssRealloc(r, 200000));  // large: grows in place when pages follow
    EXPECT_STREQ(s, "hello, spanscope");
    EXPECT_EQ(ssRealloc(s, 0), nullptr) << "glibc frees and returns NULL";
    void* n = ssRealloc(nullptr, 10);
    EXPECT_NE(n, nullptr);
    ssFree(n);
}

TEST(Malloc, FreedSlotsAreReusedAfterSweep) {
    std::set<void*> first;
    std::vector<void*> ps;
    for (int i = 0; i < 1000; i++) ps.push_back(ssMalloc(64));
    first.insert(ps.begin(), ps.end());
    for (void* p : ps) ssFree(p);
    ps.clear();
    for (int i = 0; i < 1000; i++) ps.push_back(ssMalloc(64));
    size_t reused = 0;
    for (void* p : ps) reused += first.count(p);
    EXPECT_GT(reused, 500u) << "the mcache sweeps its own span when it runs out";
    for (void* p : ps) ssFree(p);
}

// The free cache (glibc's tcache): a thread's frees of a class, up to kFreeCacheDepth of them, come
// back first, most recent first; the counters count them freed and allocated at once.
TEST(Malloc, FreeCacheHandsBackTheLastFreesFirst) {
    sweepAll();  // no sweep of an earlier generation left to count frees meanwhile
    std::vector<void*> ps;
    for (int i = 0; i < detail::kFreeCacheDepth + 3; i++) ps.push_back(ssMalloc(48));
    MemStats before{}, freed{}, again{};
    readMemStats(&before);
    for (void* p : ps) ssFree(p);
    readMemStats(&freed);
    EXPECT_GE(freed.Frees - before.Frees, uint64_t{detail::kFreeCacheDepth});
    EXPECT_LE(freed.HeapObjects + detail::kFreeCacheDepth, before.HeapObjects);
    // The first kFreeCacheDepth frees filled the cache (the rest went to their span).
    for (int i = 0; i < detail::kFreeCacheDepth; i++)
        EXPECT_EQ(ssMalloc(40), ps[detail::kFreeCacheDepth - 1 - i]) << i;
    readMemStats(&again);
    EXPECT_EQ(again.Mallocs - freed.Mallocs, uint64_t{detail::kFreeCacheDepth});
    for (int i = 0; i < detail::kFreeCacheDepth; i++) ssFree(ps[i]);
    // Only slots of 16..1024 bytes are cached: an 8-byte slot and a 2 KiB one go to their spans.
    void* small = ssMalloc(8);
    void* big = ssMalloc(2048);
    readMemStats(&before);
    ssFree(small);
    ssFree(big);
    readMemStats(&freed);
    EXPECT_EQ(freed.Frees, before.Frees) << "counted when their spans are swept, not now";
}

// A thread that the free cache serves alone never refills, where counters are published
// otherwise: they are published every kFreeCacheStatsBatch operations of a class, so another
// thread (the probe's sampler) sees them move while the thread runs.
TEST(Malloc, CountersKeepUpWithAThreadServedByItsFreeCache) {
    MemStats before{}, during{};
    readMemStats(&before);
    std::atomic<int> stage{0};
    constexpr uint64_t kRounds = 100000;
    std::thread t([&] {
        void* p = ssMalloc(64);
        for (uint64_t i = 0; i < kRounds; i++) {
            ssFree(p);
            p = ssMalloc(64);
        }
        stage.store(1);
        while (stage.load() != 2) std::this_thread::yield();
        ssFree(p);
    });
    while (stage.load() != 1) std::this_thread::yield();
    readMemStats(&during);
    stage.store(2);
    t.join();
    static_assert(detail::kFreeCacheStatsBatch < kRounds / 10);
    EXPECT_GE(during.Mallocs - before.Mallocs, kRounds * 9 / 10);
    EXPECT_GE(during.Frees - before.Frees, kRounds * 9 / 10);
}

namespace {
// Slots allocated in the small spans as their bitmaps say (the counters count a cached object
// freed already; the spans do not until the cache gives it back).
uint64_t allocatedSlots() {
    uint64_t n = 0;
    walkSpans(
        [](const SpanInfo& s, void* ctx) {
            if (s.spanClass >> 1) *static_cast<uint64_t*>(ctx) += s.allocCount;
        },
        &n);
    return n;
}
}  // namespace

// The cache goes back to the spans when its thread exits (and at flushThreadCache and each new
// sweep generation): after a sweep the spans hold what they held before, as do the counters, and
// the heap validates.
TEST(Malloc, FreeCacheIsGivenBackToTheSpans) {
    sweepAll();
    MemStats base{}, st{};
    readMemStats(&base);
    const uint64_t slots = allocatedSlots();
    std::thread([] {
        std::vector<void*> v;
        for (int i = 0; i < 200; i++) v.push_back(ssMalloc(16 + 16 * static_cast<size_t>(i % 40)));
        for (void* p : v) ssFree(p);
    }).join();
    sweepAll();
    readMemStats(&st);
    EXPECT_EQ(allocatedSlots(), slots) << "cached objects never given back to their spans";
    EXPECT_EQ(st.HeapObjects, base.HeapObjects);
    EXPECT_EQ(st.HeapAlloc, base.HeapAlloc);
    char why[256] = "";
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;
}

// A 1 KiB object lives in a 4-page span of 32 slots (Go's span for the class is one page of 8),
// which asks for a sweep at 4 of its slots (mallocSweepThreshold). Churning the class replaces
// objects through refills that each hand out that batch, and the heap's counters and validate()
// stay exact.
TEST(Malloc, SmallClassSpansAreEnlargedAndChurnStaysConsistent) {
    void* p = ssMalloc(1000);
    const detail::MSpan* s = detail::spanOf(reinterpret_cast<uintptr_t>(p));
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->npages, 4u);
    EXPECT_EQ(s->nelems, 32u);
    EXPECT_EQ(s->sweepThreshold, 4u);
    ssFree(p);

    sweepAll();
    MemStats before;
    readMemStats(&before);
    std::vector<void*> ps;
    for (int i = 0; i < 3200; i++) ps.push_back(ssMalloc(1000));
    uint64_t x = 12345;
    for (int step = 0; step < 20000; step++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        void*& q = ps[(x >> 33) % ps.size()];
        ssFree(q);
        q = ssMalloc(1000);
        memset(q, 0x5a, 1000);
    }
    char why[256] = "";
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;
    for (void* q : ps) ssFree(q);
    sweepAll();
    MemStats after;
    readMemStats(&after);
    EXPECT_EQ(after.Mallocs - before.Mallocs, 3200u + 20000u);
    EXPECT_EQ(after.Frees - before.Frees, 3200u + 20000u);
    EXPECT_EQ(after.HeapAlloc, before.HeapAlloc);
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;
}

TEST(Malloc, EmptySpansGoBackToTheHeap) {
    sweepAll();
    MemStats before;
    readMemStats(&before);
    std::vector<void*> ps;
    for (int i = 0; i < 100000; i++) ps.push_back(ssMalloc(256));
    MemStats mid;
    readMemStats(&mid);
    EXPECT_GE(mid.HeapInuse - before.HeapInuse, 100000u * 256);
    for (void* p : ps) ssFree(p);
    sweepAll();
    MemStats after;
    readMemStats(&after);
    EXPECT_LT(after.HeapInuse, before.HeapInuse + (1u << 20))
        << "spans with no live object are freed";
    char why[256] = "";
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;
}

TEST(Malloc, ManySizesValidate) {
    std::vector<void*> ps;
    for (size_t s = 1; s < 40000; s += 37) ps.push_back(ssMalloc(s));
    for (size_t i = 0; i < ps.size(); i += 2) ssFree(ps[i]);
    char why[256] = "";
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;
    sweepAll();
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;
    for (size_t i = 1; i < ps.size(); i += 2) ssFree(ps[i]);
    sweepAll();
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;
}

using MallocDeathTest = testing::Test;

// A rundown (walkSpans) taken at any moment agrees with the records: by the time a span's SpanFree
// is stamped, the walk no longer lists the span. Were it stamped before the span left the walk's
// view, a rundown in between would list a span whose free comes before it, and a replay (which
// rebuilds the span table from the rundown) would keep that span for good.
TEST(Malloc, AFreedSpanIsGoneFromTheWalkWhenItsRecordIsStamped) {
#if !SPANSCOPE_EVENTS
    GTEST_SKIP() << "built without events";
#else
    static uintptr_t s_base;
    static int s_frees, s_listed;
    s_frees = s_listed = 0;
    void* big = ssMalloc(1 << 20);
    ASSERT_NE(big, nullptr);
    s_base = reinterpret_cast<uintptr_t>(big);
    setEventSink(
        [](const Event& e, void*) {
            if (e.kind != EventKind::SpanFree || e.addr != s_base) return;
            s_frees++;
            walkSpans([](const SpanInfo& s, void*) { s_listed += s.base == s_base; }, nullptr);
        },
        nullptr);
    ssFree(big);
    setEventSink(nullptr, nullptr);
    EXPECT_EQ(s_frees, 1);
    EXPECT_EQ(s_listed, 0) << "the walk listed a span whose SpanFree was already stamped";
#endif
}

TEST(Malloc, SweepCycleRecordsCarryTheGenerationNumber) {
    // Each SweepCycle record's d is the generation it begins, as NumSweepCycles counts them, so a
    // session numbers its generations as the allocator does even where records were dropped.
#if !SPANSCOPE_EVENTS
    GTEST_SKIP() << "built without events";
#else
    static std::vector<uint64_t> s_numbers;
    s_numbers.clear();
    setEventSink(
        [](const Event& e, void*) {
            if (e.kind == EventKind::SweepCycle) s_numbers.push_back(e.d);
        },
        nullptr);
    // sweepAll starts generations of its own (forced), with some objects to sweep in between.
    std::vector<void*> live;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 1000; i++) live.push_back(ssMalloc(256));
        sweepAll();
    }
    setEventSink(nullptr, nullptr);
    MemStats st;
    readMemStats(&st);
    for (void* p : live) ssFree(p);
    ASSERT_GE(s_numbers.size(), 3u) << "the churn did not start three sweep generations";
    for (size_t i = 1; i < s_numbers.size(); i++) EXPECT_EQ(s_numbers[i], s_numbers[i - 1] + 1);
    EXPECT_GE(s_numbers.front(), 1u);
    EXPECT_EQ(s_numbers.back(), st.NumSweepCycles) << "the last record began the last generation";
#endif
}

// Remote frees batched per bitmap word: a thread's run of frees into one word of a span it does
// not cache is held, the span still showing the objects allocated, and published with one OR when
// a free goes elsewhere or the thread's caches are flushed. 8-byte objects: no free cache.
TEST(Malloc, ARunOfRemoteFreesIsHeldThenPublishedTogether) {
    std::vector<void*> ps;
    for (int i = 0; i < 256; i++) ps.push_back(ssMalloc(8));
    // Ten objects of one span and one bitmap word (the main thread's cached span: remote for t).
    const detail::MSpan* s = nullptr;
    size_t word = 0;
    std::vector<void*> run;
    for (void* p : ps) {
        const detail::MSpan* sp = detail::spanOf(reinterpret_cast<uintptr_t>(p));
        const size_t w = sp->objIndex(reinterpret_cast<uintptr_t>(p)) / 64;
        if (sp != s || w != word) run.clear(), s = sp, word = w;
        run.push_back(p);
        if (run.size() == 10) break;
    }
    ASSERT_EQ(run.size(), 10u);
    auto bit = [&](void* p) {
        return uint64_t{1} << (s->objIndex(reinterpret_cast<uintptr_t>(p)) % 64);
    };
    std::thread([&] {
        ssFree(ssMalloc(8));  // a live cache: the batch opens with it
        for (void* p : run) ssFree(p);
        for (void* p : run)
            EXPECT_FALSE(__atomic_load_n(&s->freeBits[word], __ATOMIC_ACQUIRE) & bit(p))
                << "held in the thread's batch";
        flushThreadCache();
        for (void* p : run)
            EXPECT_TRUE(__atomic_load_n(&s->freeBits[word], __ATOMIC_ACQUIRE) & bit(p))
                << "published";
    }).join();
    for (void* p : ps)
        if (std::find(run.begin(), run.end(), p) == run.end()) ssFree(p);
}

// A fork child has only the forking thread: the batches other threads held are published in it
// (the program freed those objects), and its heap is consistent.
TEST(Malloc, AForkChildPublishesTheBatchesOfThreadsItLeftBehind) {
    std::vector<void*> ps;
    for (int i = 0; i < 256; i++) ps.push_back(ssMalloc(8));
    const detail::MSpan* s = detail::spanOf(reinterpret_cast<uintptr_t>(ps[0]));
    std::vector<void*> run;  // objects of ps[0]'s span and bitmap word
    const size_t word = s->objIndex(reinterpret_cast<uintptr_t>(ps[0])) / 64;
    for (void* p : ps)
        if (detail::spanOf(reinterpret_cast<uintptr_t>(p)) == s &&
            s->objIndex(reinterpret_cast<uintptr_t>(p)) / 64 == word && run.size() < 8)
            run.push_back(p);
    ASSERT_GE(run.size(), 2u);
    uint64_t mask = 0;
    for (void* p : run) mask |= uint64_t{1} << (s->objIndex(reinterpret_cast<uintptr_t>(p)) % 64);
    std::atomic<int> step{0};
    std::thread t([&] {
        ssFree(ssMalloc(8));
        for (void* p : run) ssFree(p);  // held in this thread's batch
        step = 1;
        while (step.load() != 2) std::this_thread::yield();
    });
    while (step.load() != 1) std::this_thread::yield();
    ASSERT_EQ(__atomic_load_n(&s->freeBits[word], __ATOMIC_ACQUIRE) & mask, 0u) << "held";
    const pid_t pid = fork();
    if (pid == 0) {
        const bool published =
            (__atomic_load_n(&s->freeBits[word], __ATOMIC_ACQUIRE) & mask) == mask;
        _exit(published && validateHeap() ? 0 : 1);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child's heap";
    EXPECT_EQ(__atomic_load_n(&s->freeBits[word], __ATOMIC_ACQUIRE) & mask, 0u)
        << "the parent's batch is still its thread's";
    step = 2;
    t.join();
    for (void* p : ps)
        if (std::find(run.begin(), run.end(), p) == run.end()) ssFree(p);
}

// Batched or not, every free is counted once the thread is gone (its exit publishes the batch).
TEST(Malloc, RemoteFreesOfAThreadThatExitsAreAllCounted) {
    sweepAll();
    MemStats before{}, after{};
    readMemStats(&before);
    std::vector<void*> ps;
    for (int i = 0; i < 3000; i++) ps.push_back(ssMalloc(i % 3 ? 8 : 2000));
    std::thread([&] {
        ssFree(ssMalloc(8));
        for (void* p : ps) ssFree(p);
    }).join();
    sweepAll();
    readMemStats(&after);
    EXPECT_EQ(after.Frees - before.Frees, after.Mallocs - before.Mallocs);
    EXPECT_EQ(after.HeapAlloc, before.HeapAlloc);
    char why[256] = "";
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;
}

// Within the address space but beyond what the machine can back: null and ENOMEM from every
// entry point, at once (a 64 TiB request once made a million arenas' metadata and hung), and the
// heap goes on.
TEST(Malloc, ARequestNoMachineCanBackIsOutOfMemory) {
    for (size_t huge : {size_t{1} << 46, size_t{1} << 44}) {
        errno = 0;
        EXPECT_EQ(ssMalloc(huge), nullptr);
        EXPECT_EQ(errno, ENOMEM);
        errno = 0;
        EXPECT_EQ(ssCalloc(1, huge), nullptr);
        EXPECT_EQ(errno, ENOMEM);
        errno = 0;
        EXPECT_EQ(ssAlignedAlloc(1 << 20, huge), nullptr);
        EXPECT_EQ(errno, ENOMEM);
        void* p = ssMalloc(100);
        memset(p, 7, 100);
        errno = 0;
        EXPECT_EQ(ssRealloc(p, huge), nullptr);
        EXPECT_EQ(errno, ENOMEM);
        EXPECT_EQ(static_cast<unsigned char*>(p)[99], 7) << "the block is left as it was";
        ssFree(p);
    }
    void* q = ssMalloc(1 << 20);
    ASSERT_NE(q, nullptr);
    ssFree(q);
}

TEST(MallocDeathTest, DoubleFreeIsReported) {
    EXPECT_DEATH(
        {
            void* p = ssMalloc(32);
            ssFree(p);
            ssFree(p);
        },
        "spanscope: free\\(\\): double free");
}

TEST(MallocDeathTest, DoubleFreeFromAnotherThreadIsReported) {
    EXPECT_DEATH(
        {
            void* p = ssMalloc(32);
            std::thread([p] { ssFree(p); }).join();
            std::thread([p] { ssFree(p); }).join();
        },
        "double free");
}

// A free held in one thread's batch and made again by another: found when the second batch is
// published (the first one was, at its thread's exit).
TEST(MallocDeathTest, ADoubleFreeAcrossTwoBatchesIsReported) {
    EXPECT_DEATH(
        {
            void* p = ssMalloc(8);
            std::thread([p] {
                ssFree(ssMalloc(8));
                ssFree(p);
            }).join();
            std::thread([p] {
                ssFree(ssMalloc(8));
                ssFree(p);
                flushThreadCache();
            }).join();
        },
        "double free");
}

TEST(MallocDeathTest, ADoubleFreeInsideABatchIsReported) {
    EXPECT_DEATH(
        {
            void* p = ssMalloc(8);
            std::thread([p] {
                ssFree(ssMalloc(8));
                ssFree(p);
                ssFree(p);
            }).join();
        },
        "double free");
}

// A free of an object that waits in a thread's free cache, from another thread: the object's
// key word says it is cached (the cache's own thread would find it in its list).
TEST(MallocDeathTest, DoubleFreeOfACachedObjectFromAnotherThreadIsReported) {
    EXPECT_DEATH(
        {
            void* p = ssMalloc(32);
            ssFree(p);
            std::thread([p] { ssFree(p); }).join();
        },
        "double free \\(the object is in a thread's free cache\\)");
}

// A write through a dangling pointer over a cached object's link (stored XOR its address >> 12,
// glibc's safe-linking) decodes to a misaligned address, which malloc reports.
TEST(MallocDeathTest, AFreeCacheLinkOverwrittenAfterFreeIsReported) {
    EXPECT_DEATH(
        {
            flushThreadCache();
            void* a = ssMalloc(80);
            void* b = ssMalloc(80);
            ssFree(a);
            ssFree(b);
            *static_cast<uintptr_t*>(b) = 1 ^ (reinterpret_cast<uintptr_t>(b) >> 12);
            ssMalloc(80);
        },
        "corrupted free cache");
}

TEST(MallocDeathTest, ForeignPointerIsReported) {
    static int notOurs;
    EXPECT_DEATH(ssFree(&notOurs), "invalid pointer \\(not allocated by spanscope\\)");
}

TEST(MallocDeathTest, InteriorPointerIsReported) {
    EXPECT_DEATH(
        {
            char* p = static_cast<char*>(ssMalloc(64));
            ssFree(p + 8);
        },
        "not the start of an object");
}

TEST(MallocDeathTest, LargeDoubleFreeIsReported) {
    EXPECT_DEATH(
        {
            void* p = ssMalloc(100000);
            ssFree(p);
            ssFree(p);
        },
        "spanscope: free\\(\\)");
}
