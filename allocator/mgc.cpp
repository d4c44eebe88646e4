// The garbage collection cycle (Go's mgc.go): sweep termination, concurrent mark with a background
// worker and assists, mark termination, concurrent sweep; runtime.GC; gctrace and the GCPhase
// events. See mgc.h for how the collector is split, spanscope/gc.h and docs/ARCHITECTURE.md.
//
//   _GCoff --gcStart: STW1 "sweep termination"--> _GCmark (barrier on, allocate black, worker +
//   assists) --gcMarkDone: STW2 "mark termination"--> _GCoff (sweepgen += 2, sweep lazily)
#include "mgc.h"

#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "spanscope/detail/emit.h"
#include "spanscope/detail/mheap.h"
#include "spanscope/detail/mprof.h"

namespace spanscope::detail {

GCState g_gc;
std::atomic<uint64_t> g_numGC{0}, g_numForced{0}, g_pauseTotal{0}, g_lastPause{0}, g_lastGCUnix{0};
std::atomic<uint64_t> g_gcCpuNs{0}, g_workerNs{0}, g_assistNs{0}, g_idleNs{0};
std::atomic<uint64_t> g_tinyAllocs{0};
uint64_t g_processStart = 0;
int g_procs = 1;
bool g_gctrace = false;
SpinLock g_cycleLock;
std::atomic<uint32_t> g_cycleDone{0};

namespace {
using gc::RootAccess;
using gc::RootBase;

// ---------------------------------------------------------------------------------------------
// Cycle bookkeeping and gctrace.

struct CycleStats {
    uint64_t startNs, markStartNs, markEndNs;
    uint64_t stw1Ns, stw2Ns, heap0, heap1, heap2, goal, trigger;
    int64_t memoryLimit;
    uint64_t assistNs, workerNs, idleNs, stackScan, globalsScan;
    bool forced;
};
CycleStats g_cur;
std::atomic<uint32_t> g_markWake{0};
std::atomic<uint64_t> g_markStartNs{0};  // when this cycle's mark began (Go's markStartTime)
std::atomic<bool> g_markDone{false};     // a worker is terminating the mark phase
std::atomic<int> g_activeMarkers{0};     // mark workers (background, idle) holding grey objects

// Go's fmtNSAsMS: whole milliseconds from 10 ms, else two significant digits.
void fmtMs(char* out, size_t cap, uint64_t ns) {
    if (ns >= 10000000) {
        snprintf(out, cap, "%llu", static_cast<unsigned long long>(ns / 1000000));
        return;
    }
    uint64_t x = ns / 1000;
    if (x == 0) {
        snprintf(out, cap, "0");
        return;
    }
    int dec = 3;
    while (x >= 100) {
        x /= 10;
        dec--;
    }
    uint64_t div = 1;
    for (int i = 0; i < dec; i++) div *= 10;
    if (dec == 0)
        snprintf(out, cap, "%llu", static_cast<unsigned long long>(x));
    else
        snprintf(out, cap, "%llu.%0*llu", static_cast<unsigned long long>(x / div), dec,
                 static_cast<unsigned long long>(x % div));
}

// Go's gctrace line (mgc.go gcMarkTermination): clock = STW1 + mark + STW2; cpu = STW1 x P +
// assist/background/idle marking + STW2 x P; the % is the GC's CPU fraction (idle time excluded).
void printGCTrace(const CycleStats& c, uint64_t n) {
    char a[24], b[24], d[24], e[24], f[24], g[24], h[24], i[24];
    fmtMs(a, sizeof a, c.stw1Ns);
    fmtMs(b, sizeof b, c.markEndNs - c.markStartNs);
    fmtMs(d, sizeof d, c.stw2Ns);
    fmtMs(e, sizeof e, c.stw1Ns * static_cast<uint64_t>(g_procs));
    fmtMs(f, sizeof f, c.assistNs);
    fmtMs(g, sizeof g, c.workerNs);
    fmtMs(h, sizeof h, c.idleNs);
    fmtMs(i, sizeof i, c.stw2Ns * static_cast<uint64_t>(g_procs));
    uint64_t now = nanotime();
    double elapsed = static_cast<double>(now - g_processStart);
    int pct =
        static_cast<int>(100.0 * static_cast<double>(g_gcCpuNs.load()) / (elapsed * g_procs) + 0.5);
    char line[512];
    snprintf(
        line, sizeof line,
        "gc %llu @%.3fs %d%%: %s+%s+%s ms clock, %s+%s/%s/%s+%s ms cpu, %llu->%llu->%llu MB, %llu "
        "MB goal, "
        "%llu MB stacks, %llu MB globals, %d P%s\n",
        static_cast<unsigned long long>(n), static_cast<double>(c.startNs - g_processStart) / 1e9,
        pct, a, b, d, e, f, g, h, i, static_cast<unsigned long long>(c.heap0 >> 20),
        static_cast<unsigned long long>(c.heap1 >> 20),
        static_cast<unsigned long long>(c.heap2 >> 20),
        static_cast<unsigned long long>(c.goal >> 20),
        static_cast<unsigned long long>(c.stackScan >> 20),
        static_cast<unsigned long long>(c.globalsScan >> 20), g_procs, c.forced ? " (forced)" : "");
    printErr("%s", line);
}

// ---------------------------------------------------------------------------------------------
// The cycle.

void markRoots(GcWork& w) {
    uint64_t bytes = 0, stackBytes = 0;  // globals; handles and scopes play Go's stacks
    {
        LockGuard g(g_globalsLock);
        for (size_t i = 0; i < g_nglobals; i++) {
            void* p = __atomic_load_n(g_globals[i], __ATOMIC_ACQUIRE);
            if (p) greyObject(reinterpret_cast<uintptr_t>(p), w);
        }
        bytes += g_nglobals * sizeof(void*);
    }
    for (Mutator* m : g_mutators) {  // parked: their lists are stable
        for (RootBase* r : m->roots) {
            for (size_t i = 0; i < RootAccess::count(r); i++) {
                void* p = __atomic_load_n(&RootAccess::slots(r)[i], __ATOMIC_ACQUIRE);
                if (p) greyObject(reinterpret_cast<uintptr_t>(p), w);
            }
            stackBytes += RootAccess::count(r) * sizeof(void*);
        }
    }
    // gcMarkTinyAllocs: each thread's current tiny block is grey.
    for (Mutator* m : g_mutators)
        if (m->cache.tiny) greyObject(m->cache.tiny, w);
    g_pacer.globalsScan = bytes;
    g_pacer.stackScan = stackBytes;
}

}  // namespace

// Go's gcStart: sweep termination (STW 1), then the world runs with the mark phase on.
void gcStart(bool forced) {
    Mutator& me = self();
    if (g_gc.phase.load() != GCPhase::Off) return;
    enterNative(me);
    g_cycleLock.lock();
    exitNative(me);
    if (g_gc.phase.load() != GCPhase::Off || (!forced && !pacerTriggerTest())) {
        g_cycleLock.unlock();
        return;
    }
    g_gcHeap.sweepAllUnswept();  // finish the previous cycle's sweep first, as Go does
    CycleStats c{};
    c.forced = forced;
    c.startNs = nanotime();
    stopTheWorld(&me);
    // finishsweep_m: marking must not begin while the background sweeper is still sweeping a span
    // it took (its sweep would install this cycle's first marks as allocation bits and clear them).
    g_gcHeap.finishSweepExclusive();
    g_gc.bytesMarked.store(0);
    g_gc.scanWork.store(0);
    g_gc.bgScanCredit.store(0);
    g_markDone.store(false, std::memory_order_seq_cst);
    c.heap0 = g_gcHeap.heapLive();
    g_pacerLock.lock();
    // Go 1.19's startCycle: triggered is the trigger as computed now, not heapLive
    // (golang/go#53738).
    g_pacer.trigger = pacerTrigger(&g_pacer.goal);
    g_gcHeap.setGoal(g_pacer.goal);
    g_pacer.triggered = g_pacer.trigger;
    g_gc.phase.store(GCPhase::Mark, std::memory_order_seq_cst);
    {
        GcWork w;
        markRoots(w);
        w.flush();
    }
    pacerRevise();
    g_gc.blackenEnabled.store(true, std::memory_order_seq_cst);
    c.goal = g_pacer.goal;
    c.memoryLimit = g_pacer.memoryLimit;
    c.trigger = g_pacer.trigger;
    g_pacerLock.unlock();
    c.stw1Ns = nanotime() - c.startNs;
    c.markStartNs = nanotime();
    g_markStartNs.store(c.markStartNs, std::memory_order_release);
    g_cur = c;
    startTheWorld();
    g_gcCpuNs.fetch_add(c.stw1Ns * static_cast<uint64_t>(g_procs));
    g_pauseTotal.fetch_add(c.stw1Ns);
    g_lastPause.store(c.stw1Ns);
    const uint64_t cycle = g_numGC.load() + 1;
    const uint64_t limit = c.memoryLimit == INT64_MAX ? 0 : static_cast<uint64_t>(c.memoryLimit);
    // GCPhase records (detail/emit.h): b = heapLive at that moment (heap0 here, heap1 at mark
    // termination, heap2 = marked once off); a = cycle, numgc after this cycle as gctrace prints.
    SPANSCOPE_RECORD(gcSweepTermination(cycle, c.heap0, c.goal, c.trigger, c.stw1Ns, limit));
    SPANSCOPE_RECORD(gcMark(cycle, c.heap0, c.goal, c.trigger, limit));
    g_markWake.fetch_add(1);
    futexWakeAll(&g_markWake);
    g_cycleLock.unlock();
}

namespace {

// STW 2's marking: take what the mutators hold and drain every grey object left.
void finishMarking() {
    for (Mutator* m : g_mutators) m->work.flush();
    GcWork w;  // what the ragged barrier could not hand over in time
    while (drainWork(w, SIZE_MAX) || !g_workPool.empty()) {
    }
    w.flush();
}

// Go's endCycle (the cons/mark estimate) and resetLive, then commit; with the pacer lock held.
void pacerEndCycle(CycleStats& c, uint64_t scanWork) {
    Pacer& p = g_pacer;
    p.trigger = pacerTrigger(&c.goal);  // endCycle's lastHeapGoal: the goal gctrace prints
    // The cons/mark ratio this cycle would have needed to end exactly on its goal: bytes allocated
    // during mark over the scan work done, each side per unit of the CPU it had. The background
    // workers are assumed at their 25%, assists and idle marking measured over the mark phase.
    const double markNs = static_cast<double>(c.markEndNs - c.markStartNs) * g_procs;
    double util = kBackgroundUtilization, idleUtil = 0;
    if (markNs > 0) {
        util += static_cast<double>(g_assistNs.load(std::memory_order_relaxed)) / markNs;
        idleUtil = static_cast<double>(g_idleNs.load(std::memory_order_relaxed)) / markNs;
    }
    // Go skips the update when the heap did not grow (a very short cycle) or is all assists.
    if (c.heap1 > p.triggered && scanWork && util < 1) {
        const double current = static_cast<double>(c.heap1 - p.triggered) * (util + idleUtil) /
                               (static_cast<double>(scanWork) * (1 - util));
        // Smoothed by Go's PI controller: one cycle is too noisy to pace the next on.
        p.consMark = p.consMarkController.next(p.consMark, current, 1.0);
    }
    // resetLive: heapLive = heapMarked, and no cycle is triggered (so the 64 KiB runway floor
    // no longer holds the next goal above where this cycle started).
    p.heapMarked = c.heap2;
    p.lastHeapScan = scanWork;
    // Go's resetLive: heapScan is the scan work this cycle did; what mutators allocated during it
    // is dropped (the world is stopped here).
    g_gc.heapScan.store(scanWork, std::memory_order_relaxed);
    for (Mutator* m : g_mutators) m->scanAlloc = 0;
    p.triggered = kNotTriggered;
    g_gcHeap.setHeapLive(c.heap2);
    pacerCommit(false);
}

// Go's gcSweep setup: every mcache flushed (prepareForSweep), sweepgen += 2.
void prepareSweep() {
    for (Mutator* m : g_mutators) m->cache.releaseAll();
    uint32_t sg = g_gcHeap.bumpSweepgenExclusive();
    for (Mutator* m : g_mutators) {
        m->cache.flushGen = sg;
        m->assistBytes = 0;
    }
}

// After STW 2: the cycle's figures into the counters, the events and gctrace.
void reportCycle(CycleStats& c, uint64_t n, uint64_t newGoal, uint64_t newTrigger) {
    g_pauseTotal.fetch_add(c.stw2Ns);
    g_lastPause.store(c.stw2Ns);
    g_gcCpuNs.fetch_add(c.stw2Ns * static_cast<uint64_t>(g_procs));
    timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    g_lastGCUnix.store(static_cast<uint64_t>(rt.tv_sec) * 1000000000ull +
                       static_cast<uint64_t>(rt.tv_nsec));
    c.assistNs = g_assistNs.exchange(0);
    c.workerNs = g_workerNs.exchange(0);
    c.idleNs = g_idleNs.exchange(0);
    const uint64_t limit = c.memoryLimit == INT64_MAX ? 0 : static_cast<uint64_t>(c.memoryLimit);
    SPANSCOPE_RECORD(gcMarkTermination(n, c.heap1, c.goal, c.trigger, c.stw2Ns, c.assistNs / 1000,
                                       c.workerNs / 1000));
    SPANSCOPE_RECORD(gcOff(n, c.heap2, newGoal, newTrigger, c.idleNs / 1000, limit >> 20));
    if (g_gctrace) printGCTrace(c, n);
}

}  // namespace

// Go's gcMarkDone + gcMarkTermination (STW 2) + gcSweep.
void gcMarkTermination() {
    CycleStats c = g_cur;
    stopTheWorld(nullptr);
    // Go's gcMarkDone stops the world before it stamps tMarkTerm: the mark-termination pause
    // starts once every mutator is stopped (the wait belongs to the mark phase's clock).
    c.markEndNs = nanotime();
    const uint64_t t0 = c.markEndNs;
    finishMarking();
    g_gc.phase.store(GCPhase::MarkTermination, std::memory_order_seq_cst);
    g_gc.blackenEnabled.store(false, std::memory_order_seq_cst);
    c.heap1 = g_gcHeap.heapLive();
    c.heap2 = g_gc.bytesMarked.load();
    prepareSweep();
    g_pacerLock.lock();
    pacerEndCycle(c, g_gc.scanWork.load());
    c.globalsScan = g_pacer.globalsScan;
    c.stackScan = g_pacer.stackScan;
    const uint64_t newGoal = g_pacer.goal, newTrigger = g_pacer.trigger;
    g_pacerLock.unlock();
    g_gc.phase.store(GCPhase::Off, std::memory_order_seq_cst);
    uint64_t n = g_numGC.fetch_add(1) + 1;
    g_gc.cycle.store(n);
    if (c.forced) g_numForced.fetch_add(1);
    c.stw2Ns = nanotime() - t0;
    startTheWorld();
    reportCycle(c, n, newGoal, newTrigger);
    // bgsweep started (and named) before runtime.GC's callers are released, so that once
    // collect() returns the collector's threads are all there under their own names.
    g_gcHeap.startBackground();
    g_gcHeap.wakeBackground();
    g_cycleDone.fetch_add(1);
    futexWakeAll(&g_cycleDone);
}

namespace {

bool markingOn() {
    return g_gc.phase.load(std::memory_order_acquire) == GCPhase::Mark &&
           g_gc.blackenEnabled.load(std::memory_order_acquire);
}

void sleepNs(long ns) {
    timespec ts{0, ns};
    nanosleep(&ts, nullptr);
}

// Go's ragged barrier (forEachP): every running mutator hands its grey buffer over at its next
// safe point. Waits until each has, or for at most kMaxWaitNs; one that has not reached a safe
// point by then (or is in native code or parked) is flushed inside mark termination's
// stop-the-world instead, which is correct, only a longer pause.
void raggedBarrier() {
    constexpr uint64_t kMaxWaitNs = 200000;
    const uint32_t epoch = g_flushEpoch.fetch_add(1, std::memory_order_acq_rel) + 1;
    const uint64_t t0 = nanotime();
    for (;;) {
        bool all = true;
        {
            LockGuard g(g_mutLock);
            for (Mutator* m : g_mutators)
                if (m->state.load(std::memory_order_seq_cst) == kRunning &&
                    m->flushEpoch.load(std::memory_order_acquire) != epoch) {
                    all = false;
                    break;
                }
        }
        if (all || nanotime() - t0 >= kMaxWaitNs) return;
        sleepNs(10000);
    }
}

// gcMarkDone's test, the simple way: no grey object anywhere, no assist or mark worker holding
// any, and the mutators' buffers handed over (ragged barrier) without turning up more.
bool markWorkDone() {
    auto idle = [] {
        return g_workPool.empty() && g_activeAssists.load(std::memory_order_seq_cst) == 0 &&
               g_activeMarkers.load(std::memory_order_seq_cst) == 0;
    };
    if (!idle()) return false;
    raggedBarrier();
    // Workers take no more work once markDone is set (they check it after announcing themselves,
    // so one side always sees the other: beginMarking).
    g_markDone.store(true, std::memory_order_seq_cst);
    if (idle()) return true;
    g_markDone.store(false, std::memory_order_seq_cst);
    return false;
}

// Go's gcMarkDone is called by whichever worker finds the work gone, the idle ones included: here
// the background worker or an idle marker, one at a time. True if this call ended the mark.
std::atomic<bool> g_endingMark{false};
bool tryEndMark() {
    if (g_endingMark.exchange(true, std::memory_order_acq_rel)) return false;
    const bool done = markingOn() && markWorkDone();
    if (done) gcMarkTermination();
    g_endingMark.store(false, std::memory_order_release);
    return done;
}

// A worker announces that it may hold grey objects before it looks at markDone, and markWorkDone
// sets markDone before it looks at the announcements: one side always sees the other, so the mark
// never ends while a worker holds grey objects. False (and nothing announced) if the mark is
// ending or over.
bool beginMarking() {
    g_activeMarkers.fetch_add(1, std::memory_order_seq_cst);
    if (markingOn() && !g_markDone.load(std::memory_order_seq_cst)) return true;
    g_activeMarkers.fetch_sub(1, std::memory_order_seq_cst);
    return false;
}
void endMarking() {
    g_activeMarkers.fetch_sub(1, std::memory_order_seq_cst);
}

// The background mark worker: a dedicated one (arg null) marks whenever there is grey work; the
// fractional one marks for backgroundSplit's fractional share of the mark phase's time, as Go's
// fractional worker on one P does: it starts only while behind its goal (findRunnableGCWorker) and
// stops once past 120% of it (pollFractionalWorkerExit). The rest of its CPU, if nothing else wants
// it, goes to the idle markers, as a P's does in Go.
void* workerMain(void* arg) {
    GcWork w;
    const double share = arg ? backgroundSplit(g_procs).fractional : 1.0;
    uint64_t cycleStart = 0, selfNs = 0;
    for (;;) {
        uint32_t seen = g_markWake.load(std::memory_order_acquire);
        if (!markingOn()) {
            futexWait(&g_markWake, seen, 100000000);
            continue;
        }
        const uint64_t start = g_markStartNs.load(std::memory_order_acquire);
        if (start != cycleStart) {
            cycleStart = start;
            selfNs = 0;
        }
        uint64_t now = nanotime();
        // A parked assist's CPU is the workers' in Go (its P runs a worker): no throttling then.
        const bool fractional = share < 1.0 && g_parkedAssists.load(std::memory_order_relaxed) == 0;
        if (fractional && now > start &&
            static_cast<double>(selfNs) > share * static_cast<double>(now - start)) {
            const double ahead =
                static_cast<double>(selfNs) / share - static_cast<double>(now - start);
            sleepNs(std::clamp(static_cast<long>(ahead), 20000L, 10000000L));
            continue;
        }
        if (!beginMarking()) {
            sleepNs(100000);
            continue;
        }
        const uint64_t t0 = now;
        size_t done = 0;
        for (;;) {
            const size_t d = drainWork(w, 16 << 10);
            if (!d) break;
            done += d;
            // Credit for assists as it is earned, as Go's gcDrain flushes it every gcCreditSlack
            // units (gcFlushBgCredit): an assist that finds credit steals it instead of marking.
            g_gc.bgScanCredit.fetch_add(static_cast<int64_t>(d));
            now = nanotime();
            if (now - t0 >= 1000000) break;
            if (fractional && static_cast<double>(selfNs + (now - t0)) >
                                  1.2 * share * static_cast<double>(now - start))
                break;
        }
        w.flush();
        endMarking();
        const uint64_t worked = nanotime() - t0;
        selfNs += worked;
        g_workerNs.fetch_add(worked);
        g_gcCpuNs.fetch_add(worked);
        if (!done && !tryEndMark()) sleepNs(100000);
    }
    return nullptr;
}

// Involuntary context switches of the calling thread: another runnable thread took its CPU.
long involuntarySwitches() {
    rusage ru{};
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nivcsw : 0;
}

// Go's idle mark worker (gcMarkWorkerIdleMode) marks on a P that has nothing else to run, and
// yields it as soon as a goroutine is runnable (gcDrain's pollWork). Here the idle marker is an
// ordinary thread that marks in turns of kIdleChunk scan work (about 50 µs), returning what it
// holds to the pool after each, for as long as no other thread takes its CPU. Once one does (the
// kernel switched it out during a turn: another thread was runnable there) it backs off, from
// 200 µs doubling to 6.4 ms while that goes on. On a busy machine it thus takes a turn now and
// then, and, being ordinary, finishes each promptly instead of stranding the grey objects it holds.
// (Go's idle worker, at normal priority, competes with other processes' threads without backing
// off: Go counts only its own goroutines.)
//
// It used to be a SCHED_IDLE thread (and, briefly, a SCHED_IDLE sentinel giving an ordinary marker
// its turns). On a busy machine the kernel may leave a SCHED_IDLE thread off the CPU for minutes:
// grey objects it held stranded the mark phase (seen: 0.8 s marks), and a process could not exit
// until it ran (seen: 146 s for a 3 s program with four busy loops on two CPUs), since every thread
// must run to die. Leaving SCHED_IDLE again needs CAP_SYS_NICE, so no such thread is kept.
// (The kernel's count of runnable threads, /proc/loadavg, was tried as the idle test: on an idle
// VM it counts 1-3 runnable threads besides the program's, so the marker almost never ran.)
void* idleMarkerMain(void*) {
    constexpr size_t kIdleChunk = 64 << 10;
    constexpr long kMinBackoffNs = 200000, kMaxBackoffNs = 6400000;
    GcWork w;
    long backoff = kMinBackoffNs;
    for (;;) {
        uint32_t seen = g_markWake.load(std::memory_order_acquire);
        if (!markingOn() || g_markDone.load(std::memory_order_acquire)) {
            futexWait(&g_markWake, seen, 100000000);
            continue;
        }
        if (g_workPool.empty()) {
            sleepNs(50000);  // no grey work to take right now
            continue;
        }
        bool preempted = false;
        if (beginMarking()) {
            const long switches = involuntarySwitches();
            const uint64_t t0 = nanotime();
            const size_t done = drainWork(w, kIdleChunk);
            w.flush();
            if (done) {
                // Credit for assists, as Go's gcDrain flushes it (gcFlushBgCredit): an assist
                // that finds credit steals it instead of marking.
                g_gc.bgScanCredit.fetch_add(static_cast<int64_t>(done));
                g_idleNs.fetch_add(nanotime() - t0);
            }
            preempted = involuntarySwitches() != switches;
            endMarking();
        }
        if (g_workPool.empty()) tryEndMark();  // the turn may have taken the last grey object
        if (preempted) {
            sleepNs(backoff);
            backoff = std::min(backoff * 2, kMaxBackoffNs);
        } else {
            backoff = kMinBackoffNs;
        }
    }
    return nullptr;
}

// The thread is named here by its creator, so the name holds when startWorker returns (a thread
// naming itself would leave a window in which it is anonymous).
void startThread(void* (*fn)(void*), void* arg, const char* what, const char* name) {
    AllocatorWorkScope own;  // pthread_create's TLS is the allocator's, not the caller's
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, fn, arg) != 0) fatal("cannot start the GC %s", what);
    pthread_attr_destroy(&attr);
    pthread_setname_np(t, name);  // the workers never exit, so t stays valid
}

}  // namespace

void startWorker() {
    // At start-up and in a fork child: a worker the fork left behind holds nothing here, and the
    // one that was ending the mark is gone.
    g_activeMarkers.store(0, std::memory_order_seq_cst);
    g_markDone.store(false, std::memory_order_seq_cst);
    g_endingMark.store(false, std::memory_order_seq_cst);
    static char fractionalTag;  // workerMain's argument for the fractional worker (any non-null)
    const WorkerSplit split = backgroundSplit(g_procs);
    for (int i = 0; i < split.dedicated; i++)
        startThread(workerMain, nullptr, "mark worker", "spanscope-mark");
    if (split.fractional > 0)
        startThread(workerMain, &fractionalTag, "mark worker", "spanscope-mark");
    for (int i = 0; i < std::max(1, g_procs - 1); i++)
        startThread(idleMarkerMain, nullptr, "idle mark worker", "spanscope-idle");
}

// The heap's slow-path check: start a cycle when heapLive passes the trigger (recomputed now);
// during mark, revise the assist ratio as the heap grows (Go revises at every heapLive update).
void gcTriggerHeap() {
    if (g_gc.phase.load(std::memory_order_relaxed) == GCPhase::Mark) {
        LockGuard g(g_pacerLock);
        if (g_gc.blackenEnabled.load(std::memory_order_acquire)) pacerRevise();
        return;
    }
    if (pacerTriggerTest()) gcStart(false);
}

}  // namespace spanscope::detail

namespace spanscope::gc {
using namespace spanscope::detail;

void collect() {
    Mutator& m = self();
    // Go's runtime.GC: wait for a cycle in progress, run a full one, then finish sweeping.
    for (;;) {
        uint32_t done = g_cycleDone.load();
        if (g_gc.phase.load() == GCPhase::Off) break;
        enterNative(m);
        futexWait(&g_cycleDone, done, 10000000);
        exitNative(m);
    }
    uint32_t done = g_cycleDone.load();
    gcStart(true);
    for (;;) {
        if (g_cycleDone.load() != done && g_gc.phase.load() == GCPhase::Off) break;
        enterNative(m);
        futexWait(&g_cycleDone, done, 10000000);
        exitNative(m);
    }
    g_gcHeap.sweepAllUnswept();
    // And the background sweeper's span in flight, as Go's runtime.GC waits until no sweeper is
    // active: its frees (and the heap profile's, profileSweep) were not all counted yet.
    g_gcHeap.waitSweepsInFlight();
}

}  // namespace spanscope::gc
