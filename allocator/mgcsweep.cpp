// Sweeping (Go's mgcsweep.go): proportional sweep credit, sweeping one span at a time, sweep
// generations (malloc mode's own cycles; the managed heap's sweepgen bump at mark termination), and
// the background thread that sweeps and then scavenges (Go's bgsweep and bgscavenge in one).
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <cstdlib>

#include "spanscope/detail/emit.h"
#include "spanscope/detail/mcache.h"
#include "spanscope/detail/mheap.h"
#include "spanscope/detail/mprof.h"

namespace spanscope::detail {

std::atomic<uint32_t> g_bgSweepPauseUsForTests{0};
std::atomic<void (*)(MSpan*)> g_sweptHookForTests{nullptr};

namespace {
thread_local bool t_backgroundSweeper = false;
constexpr uint64_t kMinSweepDistance = 2 << 20;

uint64_t triggerFor(uint64_t live) {
    uint64_t d = live * sweepPercent() / 100;
    return live + (d > kMinSweepDistance ? d : kMinSweepDistance);
}
}  // namespace

uint32_t sweepPercent() {
    static uint32_t cached = 0;
    uint32_t v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v) return v;
    v = 25;
    if (const char* e = getenv("SPANSCOPE_SWEEP_PERCENT")) {
        long x = strtol(e, nullptr, 10);
        if (x > 0 && x < 100000) v = static_cast<uint32_t>(x);
    }
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    return v;
}

void MHeap::paceSweeper(uint64_t trigger) {
    uint64_t live = heapLive();
    uint64_t pagesInUse;
    {
        LockGuard g(m_lock);
        pagesInUse = m_heapInUse / kPageSize;
    }
    // sweepPagesPerByte = pages to sweep / bytes of runway left (at least 8 KiB), less 1 MiB.
    double runway =
        trigger > live + (1 << 20) ? static_cast<double>(trigger - live - (1 << 20)) : 0;
    if (runway < kPageSize) runway = kPageSize;
    m_sweepPagesPerByte.store(static_cast<double>(pagesInUse) / runway, std::memory_order_relaxed);
    m_sweepBasis.store(m_pagesSwept.load(std::memory_order_relaxed), std::memory_order_relaxed);
    m_liveBasis.store(live, std::memory_order_relaxed);
}

void MHeap::deductSweepCredit(size_t spanBytes) {
    if (m_sweepDone.load(std::memory_order_acquire)) return;
    double ratio = m_sweepPagesPerByte.load(std::memory_order_relaxed);
    if (ratio == 0) return;
    uint64_t live = heapLive() + spanBytes;
    uint64_t liveBasis = m_liveBasis.load(std::memory_order_relaxed);
    if (live <= liveBasis) return;
    double target = ratio * static_cast<double>(live - liveBasis);
    while (static_cast<double>(m_pagesSwept.load(std::memory_order_relaxed) -
                               m_sweepBasis.load(std::memory_order_relaxed)) < target)
        if (!sweepOne()) break;
}

void MHeap::noteSwept(MSpan* s, size_t nfreed, bool emit) {
    m_pagesSwept.fetch_add(s->npages, std::memory_order_relaxed);
    // Managed mode keeps Go's heapLive: it only grows between cycles and is reset to the marked
    // heap at mark termination. Malloc mode subtracts what sweeps free.
    if (nfreed && s->isLarge()) {  // managed mode: a dead large object found by the sweeper
        LockGuard g(m_lock);
        m_largeFrees++;
        m_largeFreeBytes += s->npages * kPageSize;
    } else if (nfreed) {
        addFrees(spanClassSize(s->spanclass), nfreed);
        if (!s->managed) addHeapLive(-static_cast<int64_t>(nfreed * s->elemsize));
    }
    if (!emit) return;
    if (nfreed) {
        SPANSCOPE_RECORD(
            spanSweep(s->spanclass, s->startAddr, s->npages, nfreed, s->allocCount, s->nelems));
        return;
    }
    // A sweep that frees nothing changes nothing a session shows: it is counted, and reported in
    // batches by SweepProgress, rather than recorded span by span (every generation sweeps every
    // span; most sweeps of a steady heap find nothing).
    if ((m_quietSweeps.fetch_add(1, std::memory_order_relaxed) + 1) % kQuietSweepBatch == 0)
        emitSweepProgress(false);
}

void MHeap::emitSweepProgress(bool done) {
    SPANSCOPE_RECORD(sweepProgress(done, m_pagesSwept.load(std::memory_order_relaxed),
                                   __atomic_load_n(&m_heapInUse, __ATOMIC_RELAXED) / kPageSize,
                                   m_quietSweeps.exchange(0, std::memory_order_relaxed),
                                   sweepgen()));
}

bool MHeap::sweepOne() {
    // Go's sweepClass cursor: start at the span class that had the last unswept span rather than
    // at class 0 (each empty class costs a lock round trip), wrapping once, so that "nothing left"
    // is only said after every class was looked at.
    const int first = static_cast<int>(m_sweepClass.load(std::memory_order_relaxed));
    for (int k = 0; k < kNumSpanClasses; k++) {
        const int i = (first + k) % kNumSpanClasses;
        if (m_central[i].sweepOne(*this)) {
            if (i != first) m_sweepClass.store(static_cast<uint32_t>(i), std::memory_order_relaxed);
            return true;
        }
    }
    if (!m_sweepDone.exchange(true, std::memory_order_acq_rel)) {
        // The generation is fully swept: heapLive is now close to the live heap (Go's heapMarked).
        uint64_t live = heapLive();
        if (!m_managed) m_trigger.store(triggerFor(live), std::memory_order_relaxed);
        {
            LockGuard g(m_lock);
            m_lastHeapInUse.store(m_heapInUse, std::memory_order_relaxed);
        }
        emitSweepProgress(true);
    }
    return false;
}

void MHeap::finishSweep() {
    while (sweepOne()) {
    }
}

void MHeap::startCycle(bool force) {
    if (force)
        m_cycleLock.lock();
    else if (!m_cycleLock.tryLock())
        return;  // another thread is starting one
    if (!force && heapLive() < m_trigger.load(std::memory_order_relaxed)) {
        m_cycleLock.unlock();
        return;
    }
    finishSweep();
    // Go's gcSweep: sweepgen += 2 swaps the swept and unswept sets of every mcentral.
    bumpSweepgen();
    m_sweepDone.store(false, std::memory_order_release);
    uint64_t live = heapLive();
    m_trigger.store(triggerFor(live), std::memory_order_relaxed);  // refined when sweeping ends
    // The generation's number (NumSweepCycles once it began), carried in the record so that a
    // session numbers its generations as the allocator does even when records were dropped.
    const uint64_t generation = m_numCycles.fetch_add(1, std::memory_order_relaxed) + 1;
    m_cycleLock.unlock();
    SPANSCOPE_RECORD(
        sweepCycle(sweepgen(), live, m_trigger.load(std::memory_order_relaxed), generation));
    startBackground();
    wakeBackground();
}

void MHeap::wakeBackground() {
    m_bgWake.fetch_add(1, std::memory_order_release);
    futexWake(&m_bgWake, 1);
}

uint32_t MHeap::bumpSweepgen() {
    for (auto& c : m_central) c.lock.lock();
    const uint32_t old = m_sweepgen.load(std::memory_order_relaxed);
    for (auto& c : m_central) {
        // Spans freed into unswept sets since finishSweep must stay unswept after the swap: move
        // them to the sets that are about to become the unswept ones.
        while (MSpan* s = c.partialUnswept(old).pop()) {
            s->sweepgen = old;
            c.partialSwept(old).push(s, SpanWhere::PartialSwept);
        }
        while (MSpan* s = c.fullUnswept(old).pop()) {
            s->sweepgen = old;
            c.fullSwept(old).push(s, SpanWhere::FullSwept);
        }
    }
    const uint32_t sg = old + 2;
    m_sweepgen.store(sg, std::memory_order_release);
    m_sweepDone.store(false, std::memory_order_release);
    for (auto& c : m_central) c.lock.unlock();
    return sg;
}

void pauseIfBackgroundSweeper() {
    if (!t_backgroundSweeper) return;
    const uint32_t us = g_bgSweepPauseUsForTests.load(std::memory_order_relaxed);
    timespec ts{static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
    nanosleep(&ts, nullptr);
}

void MHeap::finishSweepExclusive() {
    LockGuard g(m_cycleLock);
    sweepAllUnswept();
}

uint32_t MHeap::bumpSweepgenExclusive() {
    LockGuard g(m_cycleLock);
    return bumpSweepgen();
}

void MHeap::startBackground() {
    int expected = 0;
    if (!m_bgState.compare_exchange_strong(expected, 1)) return;
    AllocatorWorkScope own;  // pthread_create's TLS is the allocator's, not the caller's
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 << 10);
    if (pthread_create(&t, &attr, &MHeap::backgroundMain, this) != 0)
        m_bgState.store(0);
    else  // named by its creator: a new thread starts with the creator's name (a mark worker's, now
          // that any worker may end a mark), and naming itself would leave that window open
        pthread_setname_np(t, "spanscope-bg");  // it never exits, so t stays valid
    pthread_attr_destroy(&attr);
}

// Go's bgsweep and bgscavenge in one thread: sweep whatever is unswept, then release free pages
// toward the retained goal in 64 KiB steps, sleeping ~100x the time worked (about 1% of a CPU).
void* MHeap::backgroundMain(void* arg) {
    auto* h = static_cast<MHeap*>(arg);
    t_backgroundSweeper = true;
    for (;;) {
        uint32_t seen = h->m_bgWake.load(std::memory_order_acquire);
        // Each step holds the cycle lock, so validate() and a new generation see no span in flight.
        for (int swept = 0;; swept++) {
            h->m_cycleLock.lock();
            bool more = h->sweepOne();
            h->m_cycleLock.unlock();
            if (!more) break;
            if (swept % 10 == 9) sched_yield();  // Go's bgsweep yields every 10 spans
        }
        uint64_t t0 = nanotime();
        size_t released = 0;
        while (nanotime() - t0 < 1000000) {  // minScavWorkTime: 1 ms
            size_t r = h->scavenge(kScavengeQuantum, false);
            released += r;
            if (!r) break;
        }
        uint64_t worked = nanotime() - t0;
        uint64_t sleepNs = released ? worked * 100 : 50000000;  // idle: check again in 50 ms
        if (sleepNs < 1000000) sleepNs = 1000000;
        futexWait(&h->m_bgWake, seen, static_cast<long>(sleepNs));
    }
    return nullptr;
}

}  // namespace spanscope::detail
