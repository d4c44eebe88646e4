// mheap (Go's mheap.go, malloc.go, mgcscavenge.go): arenas and the arena index, span allocation
// over the page allocator, the mcentrals, heap statistics, malloc-mode sweep generations and the
// background sweeper/scavenger thread. See spanscope/allocator.h for the overview.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "spanscope/allocator.h"
#include "spanscope/detail/intrusive_list.h"
#include "spanscope/detail/mcache.h"
#include "spanscope/detail/mcentral.h"
#include "spanscope/detail/mspan.h"
#include "spanscope/detail/pagealloc.h"
#include "spanscope/detail/pagesource.h"
#include "spanscope/detail/platform.h"

namespace spanscope::detail {

// Test hook (tests/allocator/gc_test.cpp): the background sweeper pauses this many microseconds
// between taking a span and sweeping it, widening the window in which a sweep is in flight.
extern std::atomic<uint32_t> g_bgSweepPauseUsForTests;
void pauseIfBackgroundSweeper();  // called by MCentral::sweepOne when the hook is set
// Test hook (gc_test.cpp's fork tests): called by MCentral::sweepOne with a span it has swept but
// not yet placed (its sweepgen still says "being swept"), the window a fork must not copy.
extern std::atomic<void (*)(MSpan*)> g_sweptHookForTests;

inline constexpr size_t kScavengeQuantum = 64 << 10;  // Go's scavengeQuantum: the unit of release
inline constexpr uintptr_t kArenaShift = 26;
inline constexpr uintptr_t kArenaBytes = uintptr_t{1} << kArenaShift;  // heapArenaBytes, 64 MiB
inline constexpr size_t kPagesPerArena = kArenaBytes / kPageSize;      // 8192
inline constexpr size_t kArenaIndexSize = size_t{1} << (PageAlloc::kAddrBits - kArenaShift);

// Go's heapArena: page -> span for one arena (every page of an in-use span points to it).
struct HeapArena {
    MHeap* heap;
    MSpan* spans[kPagesPerArena];
};

// The arena index (Go's mheap_.arenas, flat as on linux/amd64): static storage, zero until used.
extern HeapArena* g_arenaIndex[kArenaIndexSize];

// Go's spanOf: O(1), lock-free, null for any address the allocator does not own.
SPANSCOPE_INLINE MSpan* spanOf(uintptr_t p) {
    uintptr_t ai = p >> kArenaShift;
    if (SPANSCOPE_UNLIKELY(ai >= kArenaIndexSize)) return nullptr;
    HeapArena* a = __atomic_load_n(&g_arenaIndex[ai], __ATOMIC_ACQUIRE);
    if (SPANSCOPE_UNLIKELY(!a)) return nullptr;
    return __atomic_load_n(&a->spans[(p >> kPageShift) % kPagesPerArena], __ATOMIC_ACQUIRE);
}

// What the collector's pacer reads at every trigger check (MHeap::readPacerStats).
struct PacerHeapStats {
    uint64_t heapAlloc;    // bytes in objects (Go's totalAlloc - totalFree)
    uint64_t heapInUse;    // bytes in in-use spans
    uint64_t heapFree;     // free pages not released to the OS
    uint64_t mappedReady;  // mapped and not released: heap pages and metadata (Go's mappedReady)
};

struct ValidateFailure;  // validate.cpp
struct ValidateCounts;

class MHeap {
public:
    // source: where heap pages come from (the OS; a fake in tests, see pagesource.h).
    void init(bool managed, PageSource* source = &g_osPageSource);
    bool initialized() const { return m_initialized.load(std::memory_order_acquire); }

    // Span allocation (Go's allocSpan/freeSpan). allocSpan returns null when the OS refuses memory.
    MSpan* allocSpan(size_t npages, uint8_t spc, size_t alignPages = 1);
    void freeSpan(MSpan* s);
    // Large objects: one object per span, never cached.
    void* allocLarge(size_t size, size_t align, bool zero, bool noscan = true);
    void freeLarge(MSpan* s);
    // Grows a large span in place if the pages after it are free (realloc).
    bool growLargeInPlace(MSpan* s, size_t newNpages);

    MCentral& central(uint8_t spc) { return m_central[spc]; }
    uint32_t sweepgen() const { return m_sweepgen.load(std::memory_order_acquire); }

    // Malloc-mode sweep generations: a new one starts when heapLive passes the trigger (checked on
    // slow paths only); all spans then become unswept and are swept lazily (cacheSpan), by the
    // background sweeper, or by the next generation's start (finishSweep).
    void maybeStartCycle() {
        if (SPANSCOPE_UNLIKELY(heapLive() >= m_trigger.load(std::memory_order_relaxed))) {
            if (m_gcTrigger)
                m_gcTrigger();  // managed mode: Go's gcTrigger{kind: gcTriggerHeap}
            else
                startCycle(false);
        }
    }
    void startCycle(bool force);
    // Go's gcSweep: sweepgen += 2 swaps every mcentral's swept and unswept sets. Returns the new h.
    uint32_t bumpSweepgen();
    uint32_t bumpSweepgenExclusive();  // the same, with no background sweep in flight
    void startBackground();
    void wakeBackground();
    void forceCycle() { startCycle(true); }
    void finishSweep();
    bool sweepOne();
    void noteSwept(MSpan* s, size_t nfreed, bool emit = true);  // emit: a SpanSweep record
    void emitSweepProgress(bool done);  // done: the generation's (cycle's) sweep is complete
    // Counters batched per thread (in its mcache) and flushed every 64 KiB of heapLive change,
    // at releaseAll and by readMemStats, so refills do not all hit the same cache lines.
    // Inline: every refill and sweep makes several of these; the batch is the common case.
    void addHeapLive(int64_t d) {
        if (MCache* c = batchingCache()) {
            c->heapLiveDelta += d;
            if (c->heapLiveDelta >= kHeapLiveBatch || c->heapLiveDelta <= -kHeapLiveBatch)
                flushThreadStats(c);
            return;
        }
        m_heapLive.fetch_add(d, std::memory_order_relaxed);
    }
    void addMallocs(int cls, uint64_t n) {
        if (MCache* c = batchingCache())
            c->mallocs[cls] += n;
        else
            m_smallMallocs[cls].fetch_add(n, std::memory_order_relaxed);
    }
    void addFrees(int cls, uint64_t n) {
        if (MCache* c = batchingCache())
            c->frees[cls] += n;
        else
            m_smallFrees[cls].fetch_add(n, std::memory_order_relaxed);
    }
    void flushThreadStats(MCache* c);
    void flushRequested(MCache* c, uint8_t spc);  // one span class of c's requested bytes
    // Publishes c's heapLive change and one class's malloc and free counts: done when a span
    // leaves the cache, before any other thread can sweep it, so that no sweep publishes the
    // free of an object whose malloc (or heapLive share) is still in a thread's batch.
    void flushClassStats(MCache* c, int cls);

    // Scavenger: releases free pages (top-down) until retained <= goal or maxBytes are released.
    size_t scavenge(size_t maxBytes, bool force);
    // Releases every free page, and returns only once pages another thread's scavenge had in
    // flight are released too (Go's debug.FreeOSMemory is synchronous the same way).
    void releaseAllFree();
    size_t retainedGoal() const;  // called with m_lock held

    // Managed mode: the collector drives cycles and the pacer sets these.
    bool managed() const { return m_managed; }
    void setGCTrigger(void (*fn)()) { m_gcTrigger = fn; }
    // heapLive is the sum of every thread's published changes; a thread's unpublished batch (at
    // most kHeapLiveBatch) may hold additions whose matching subtractions another thread already
    // published, so the sum can dip below zero for a moment: it is kept signed and read clamped,
    // never as a wrapped 2^64 - x (which once started sweep generations back to back).
    uint64_t heapLive() const {
        int64_t v = m_heapLive.load(std::memory_order_relaxed);
        return v > 0 ? static_cast<uint64_t>(v) : 0;
    }
    void setHeapLive(uint64_t v) {
        m_heapLive.store(static_cast<int64_t>(v), std::memory_order_relaxed);
    }
    uint64_t trigger() const { return m_trigger.load(std::memory_order_relaxed); }
    void setTrigger(uint64_t v) { m_trigger.store(v, std::memory_order_relaxed); }
    // Managed mode: the pacer's heap goal (Go's NextGC), which MemStats.NextSweep reports there
    // (the trigger is 0 under a memory limit, and is not the goal anyway).
    void setGoal(uint64_t v) { m_goal.store(v, std::memory_order_relaxed); }
    void setScavengeGoal(uint64_t v) { m_scavGoal.store(v, std::memory_order_relaxed); }
    // Go's proportional sweep (gcPaceSweeper / deductSweepCredit): before a span is taken for
    // allocation, sweep enough pages that sweeping finishes before heapLive reaches the trigger.
    void paceSweeper(uint64_t trigger);
    void deductSweepCredit(size_t spanBytes);
    // Sweeps every unswept span without starting a generation. Another thread (the background
    // sweeper) may still be sweeping a span it took: use finishSweepExclusive where that matters.
    void sweepAllUnswept() {
        while (sweepOne()) {
        }
    }
    // Go's finishsweep_m, which also waits for sweeps in flight (sweep.active): every span swept
    // and none being swept by anyone when it returns. The world must be stopped, so that no
    // mutator is inside a sweep; the background sweeper holds m_cycleLock for each span it sweeps.
    void finishSweepExclusive();
    // Runs fn on every span in allspans, taking the heap lock for the walk (fn must not take it:
    // the collector's fork child re-scans marked objects with it, see remarkAfterFork).
    template <typename Fn>
    void forEachSpanLocked(Fn fn) {
        LockGuard g(m_lock);
        for (MSpan* s : m_allspans) fn(s);
    }

    void readStats(MemStats& st);
    void readPacerStats(PacerHeapStats& st);
    uint32_t walkSpans(void (*fn)(const SpanInfo&, void*), void* ctx);
    bool validate(char* why, size_t cap);

    // fork: take every lock in order (prepare), release them (parent, child).
    void lockAll();
    void unlockAll();
    // Sweeps in flight (Go's sweep.active, activeSweep.begin/end). The managed heap counts every
    // sweep, from taking an unswept span to placing it (or handing it to the mcache), behind a
    // gate: a thread that vanishes in a fork child mid-sweep leaves a span whose sweepgen still
    // says "being swept" while its marks may already be the allocation bits and cleared; swept
    // again there, every live object in it would be freed. So the fork's prepare closes the gate
    // (new sweeps wait) and waits for the count to reach zero (lockForFork). The managed heap
    // cannot count from the pop: a sweep waits at a closed gate, and must not wait holding the
    // mcentral lock that the fork's prepare takes next.
    // Malloc mode is not gated (a sweep it repeats in a child can only keep freed slots allocated)
    // and counts its sweeps from the pop, under the mcentral lock (claimSweep), so that sweepAll
    // can wait for the last of them (waitSweepsInFlight): its statistics then include every free
    // a sweep found. (One more atomic a refill: a build that counted only the background
    // sweeper's ran churn-mt at 1.003x these ops/s, 9 alternating runs, within noise.)
    void claimSweep() {  // the mcentral lock held, an unswept span just popped
        if (!m_managed) m_sweepers.enterUngated();
    }
    void beginSweep() {
        if (m_managed) m_sweepers.enter();
    }
    void endSweep() { m_sweepers.exit(); }
    void waitSweepsInFlight() const { m_sweepers.drain(); }
    // lockAll for fork: with m_cycleLock held (no background sweep or generation start in
    // flight), closes the sweep gate and waits for every sweep in flight, then takes the rest.
    // The sweeps finish first because they need the mcentral locks, the heap lock and the heap
    // profile's lock (whose prepare handler runs after this one, see
    // registerProfileForkHandlers). unlockAfterFork opens the gate again (parent and child).
    void lockForFork();
    void unlockAfterFork();
    bool sweepsHeldForFork() const {  // tests: a fork is waiting for (or past) the sweep gate
        return m_sweepers.closed();
    }
    void resetAfterFork();
    // In a fork child (one thread, locks free): finish what other threads were doing to spans
    // when fork() came (a span popped from a set, being uncached, allocated or freed), so that
    // every span is again in a set, cached by `keep`, large, or gone. Go never forks; C does.
    void repairAfterFork(const MCache* keep);

    SpinLock m_lock;  // Go's mheap.lock: pages, arenas, allspans, span and bitmap structs, stats

private:
    static constexpr int64_t kHeapLiveBatch = 64 << 10;
    // This thread's mcache if it batches this heap's counters (a live cache of this heap).
    MCache* batchingCache() const {
        MCache* c = &t_mcache;
        return c->state == CacheState::Live && c->heap == this ? c : nullptr;
    }

    friend class MHeapTestPeer;
    // validate()'s steps (validate.cpp): one span of allspans, then the page accounting.
    bool validateSpan(ValidateFailure& f, const MSpan* s, ValidateCounts& n);
    bool validatePageAccounting(ValidateFailure& f, size_t inUsePages);
    bool grow(size_t npages);
    HeapArena* newArena(uintptr_t base);
    static void* backgroundMain(void* arg);
    MSpan* newSpanStruct(size_t nwords);
    void releaseSpanLocked(MSpan* s);
    void freeSpanStruct(MSpan* s);

    std::atomic<bool> m_initialized{false};
    bool m_managed = false;
    PageSource* m_source = nullptr;  // set by init
    MCentral m_central[kNumSpanClasses];
    PageAlloc m_pages;
    // The page reserve (Go's per-P pageCache, kept per heap under m_lock): the free pages of one
    // 64-page block, taken from the page allocator at once, from which one-page spans are cut
    // without a search and four summary levels updated per span. Its pages count as free (and
    // released, per m_resReleased) in the statistics; the page allocator's bitmap shows them in
    // use.
    uintptr_t m_resBase = 0;
    uint64_t m_resPages = 0;     // bit i: page i of the block is free in the reserve
    uint64_t m_resReleased = 0;  // bit i: that page is released (reads as zero)
    uintptr_t allocFromReserveLocked(size_t* scav);
    void flushReserveLocked();
    FixAlloc m_spanAlloc;
    FixAlloc m_bitsAlloc[kMaxObjsPerSpan / 64 + 1];  // 4 bitmaps of n words, by n
    // Go's mheap_.allspans (a slice there): every span in use or being set up, under m_lock.
    using AllSpans = IntrusiveList<MSpan, &MSpan::allNext, &MSpan::allPrev>;
    AllSpans m_allspans;
    size_t m_spansByClass[kNumSizeClasses] =
        {};                                 // in-use spans by size class (0: large), under m_lock
    uintptr_t m_curBase = 0, m_curEnd = 0;  // reserved, not yet grown, in the current arena
    size_t m_arenaCount = 0;
    uintptr_t m_nextHint = 0;

    // Page accounting (bytes), under m_lock: every grown byte is in exactly one of the three.
    size_t m_heapInUse = 0, m_heapFree = 0, m_heapReleased = 0;
    size_t m_arenaMetaBytes = 0;
    size_t m_grownBytes = 0;  // every byte handed to the page allocator
    size_t m_largeAllocBytes = 0, m_largeFreeBytes = 0;
    uint64_t m_largeAllocs = 0, m_largeFrees = 0;
    uint64_t m_scavengedTotal = 0;
    size_t m_scavInFlight = 0;  // pages taken by the scavenger while it calls madvise

    std::atomic<uint32_t> m_sweepgen{0};
    std::atomic<int64_t> m_heapLive{0};  // read through heapLive()
    std::atomic<uint64_t> m_trigger{4 << 20};
    std::atomic<uint64_t> m_goal{0};  // managed mode: set by the pacer (0: malloc mode)
    std::atomic<uint64_t> m_lastHeapInUse{0};
    std::atomic<uint64_t> m_scavGoal{0};  // managed mode: set by the pacer (0: none yet)
    std::atomic<uint64_t> m_pagesSwept{0};
    std::atomic<uint32_t> m_sweepClass{0};  // sweepOne's cursor over the span classes
    std::atomic<uint64_t> m_quietSweeps{
        0};  // sweeps that freed nothing, since the last SweepProgress
    static constexpr uint64_t kQuietSweepBatch = 1024;
    std::atomic<uint64_t> m_sweepBasis{0}, m_liveBasis{0};
    std::atomic<double> m_sweepPagesPerByte{0};
    void (*m_gcTrigger)() = nullptr;  // heapInUse when the last sweep finished
    std::atomic<uint64_t> m_numCycles{0};
    std::atomic<bool> m_sweepDone{true};
    SpinLock m_cycleLock;
    std::atomic<uint64_t> m_smallMallocs[kNumSizeClasses] = {};
    std::atomic<uint64_t> m_smallFrees[kNumSizeClasses] = {};
    std::atomic<uint64_t> m_smallRequested[kNumSizeClasses] = {};
    std::atomic<uint64_t> m_largeRequested{0};
    std::atomic<int> m_bgState{0};  // 0 not started, 1 starting/running
    // Sweeps in flight (both modes), its gate closed while a fork is prepared (managed mode).
    ForkGate m_sweepers;
    std::atomic<uint32_t> m_bgWake{0};
};

extern MHeap g_mallocHeap;
extern MHeap g_gcHeap;  // the managed (garbage-collected) heap
uint32_t sweepPercent();

}  // namespace spanscope::detail
