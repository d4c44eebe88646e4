// The garbage collector (Go's mgc.go, mgcpacer.go, proc.go's stop-the-world, malloc.go's
// mallocgc): mutator threads and safe points, the cycle (sweep termination, concurrent mark with
// a background worker and assists, mark termination, concurrent sweep), the pacer, gctrace, and
// managed allocation including the tiny allocator. See spanscope/gc.h and docs/ARCHITECTURE.md.
//
//   _GCoff --gcStart: STW1 "sweep termination"--> _GCmark (barrier on, allocate black, worker +
//   assists) --gcMarkDone: STW2 "mark termination"--> _GCoff (sweepgen += 2, sweep lazily)
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "mgc.h"
#include "spanscope/detail/mcache.h"
#include "spanscope/detail/mheap.h"
#include "spanscope/detail/mprof.h"
#include "spanscope/events.h"

namespace spanscope::gc {
struct RootAccess {
    static void** slots(RootBase* r) { return r->m_slots; }
    static size_t count(RootBase* r) { return r->m_n; }
    static RootBase*& next(RootBase* r) { return r->m_next; }
    static RootBase*& prev(RootBase* r) { return r->m_prev; }
};
}  // namespace spanscope::gc

namespace spanscope::detail {

GCState g_gc;

namespace {

using gc::RootAccess;
using gc::RootBase;

void futexWait(std::atomic<uint32_t>* w, uint32_t seen, long timeoutNs) {
    timespec ts{timeoutNs / 1000000000, timeoutNs % 1000000000};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), FUTEX_WAIT_PRIVATE, seen, timeoutNs ? &ts : nullptr, nullptr, 0);
}
void futexWakeAll(std::atomic<uint32_t>* w) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), FUTEX_WAKE_PRIVATE, 0x7fffffff, nullptr, nullptr, 0);
}

// ---------------------------------------------------------------------------------------------
// Mutators and stop-the-world (Go's stopTheWorldWithSema with safe points instead of preemption).

enum MutState : int { kRunning = 0, kParked = 1, kNative = 2 };

struct Mutator {
    std::atomic<int> state{kNative};
    bool attached = false;
    bool exiting = false;
    RootBase* roots = nullptr;
    GcWork work;                // barrier shading and assists
    uint32_t flushEpoch = 0;
    int64_t assistBytes = 0;    // Go's gcAssistBytes: credit (> 0) or debt (< 0)
    uint64_t assistNs = 0;
    Mutator* next = nullptr;
    Mutator* prev = nullptr;
    MCache cache = {};  // this thread's mcache for the managed heap (Go's p.mcache)
};

constinit thread_local Mutator t_mut __attribute__((tls_model("initial-exec")));

SpinLock g_mutLock;  // the mutator list; held by the stopper for the whole stop-the-world
Mutator* g_mutators = nullptr;
SpinLock g_worldLock;  // one stopper at a time
std::atomic<bool> g_stw{false};
std::atomic<uint32_t> g_stwSeq{0};
// Go's ragged barrier (gcMarkDone's forEachP flush): mutators hand their grey buffers over at
// their next safe point when this epoch moves.
std::atomic<uint32_t> g_flushEpoch{0};
// Assists currently holding grey objects (Go's work.nwait bookkeeping): mark termination waits
// until none is left.
std::atomic<int> g_activeAssists{0};

void parkSlow(Mutator& m) {
    for (;;) {
        m.state.store(kParked, std::memory_order_seq_cst);
        for (;;) {
            uint32_t seq = g_stwSeq.load(std::memory_order_acquire);
            if (!g_stw.load(std::memory_order_seq_cst)) break;
            futexWait(&g_stwSeq, seq, 0);
        }
        m.state.store(kRunning, std::memory_order_seq_cst);
        if (!g_stw.load(std::memory_order_seq_cst)) return;
    }
}

SPANSCOPE_NOINLINE void flushForBarrier(Mutator& m) {
    m.flushEpoch = g_flushEpoch.load(std::memory_order_acquire);
    m.work.flush();
}

SPANSCOPE_INLINE void safePoint(Mutator& m) {
    if (SPANSCOPE_UNLIKELY(g_stw.load(std::memory_order_relaxed))) parkSlow(m);
    if (SPANSCOPE_UNLIKELY(g_flushEpoch.load(std::memory_order_relaxed) != m.flushEpoch)) flushForBarrier(m);
}

void enterNative(Mutator& m) {
    if (m.attached) m.state.store(kNative, std::memory_order_seq_cst);
}
void exitNative(Mutator& m) {
    if (!m.attached) return;
    m.state.store(kRunning, std::memory_order_seq_cst);
    if (g_stw.load(std::memory_order_seq_cst)) parkSlow(m);
}

// Stops every other mutator at a safe point. self is the calling mutator (or null for the
// background worker, which is not one). Returns with g_mutLock held.
void stopTheWorld(Mutator* self) {
    if (self) enterNative(*self);
    g_worldLock.lock();
    if (self && self->attached) self->state.store(kRunning, std::memory_order_seq_cst);
    g_stw.store(true, std::memory_order_seq_cst);
    g_mutLock.lock();
    for (Mutator* m = g_mutators; m; m = m->next) {
        if (m == self) continue;
        for (int spins = 0; m->state.load(std::memory_order_seq_cst) == kRunning; spins++) {
            if (spins < 100) __builtin_ia32_pause();
            else sched_yield();
        }
    }
}

void startTheWorld() {
    g_stw.store(false, std::memory_order_seq_cst);
    g_stwSeq.fetch_add(1, std::memory_order_release);
    futexWakeAll(&g_stwSeq);
    g_mutLock.unlock();
    g_worldLock.unlock();
}

// ---------------------------------------------------------------------------------------------
// Globals registry (Go's data/BSS roots).

SpinLock g_globalsLock;
void*** g_globals = nullptr;
size_t g_nglobals = 0, g_globalsCap = 0;

// ---------------------------------------------------------------------------------------------
// Pacer (Go's gcControllerState, mgcpacer.go).

struct Pacer {
    int gcPercent = 100;
    int64_t memoryLimit = INT64_MAX;
    uint64_t heapMarked = 0;
    uint64_t goal = 4 << 20;
    uint64_t trigger = (4 << 20) * 61 / 64;  // 3,997,696 B: Go's first trigger
    uint64_t triggered = 0;                 // heapLive when this cycle started
    uint64_t lastHeapScan = 0;
    uint64_t globalsScan = 0;
    uint64_t stackScan = 0;  // lastStackScan: root handles and scopes
    double consMark[5] = {};  // current and last 4 measurements
    uint64_t lastHeapGoal = 0, lastHeapInUse = 0;
} g_pacer;
SpinLock g_pacerLock;

uint64_t heapMinimum(int percent) { return (uint64_t{4} << 20) * static_cast<uint64_t>(percent) / 100; }

// gcControllerCommit: heap goal, trigger and the scavenger's goal.
void pacerCommit(const MemStats& ms) {
    Pacer& p = g_pacer;
    const uint64_t kInf = UINT64_MAX / 4;
    uint64_t percentGoal = kInf;
    if (p.gcPercent >= 0) {
        percentGoal = p.heapMarked + (p.heapMarked + p.stackScan + p.globalsScan) * static_cast<uint64_t>(p.gcPercent) / 100;
        percentGoal = std::max(percentGoal, heapMinimum(p.gcPercent));
    }
    uint64_t goal = percentGoal;
    bool limitRegime = false;
    if (p.memoryLimit != INT64_MAX) {
        int64_t mappedReady = static_cast<int64_t>(ms.Sys - ms.HeapReleased);
        int64_t nonHeap = static_cast<int64_t>(ms.Sys - ms.HeapSys);
        int64_t limit = p.memoryLimit;
        int64_t g = limit - (nonHeap + std::max<int64_t>(mappedReady - limit, 0));
        g -= std::max<int64_t>(g * 3 / 100, 1 << 20);
        if (g < static_cast<int64_t>(p.heapMarked)) g = static_cast<int64_t>(p.heapMarked);
        if (static_cast<uint64_t>(g) < goal) {
            goal = static_cast<uint64_t>(g);
            limitRegime = true;
        }
    }
    if (!limitRegime && goal != kInf) {
        goal = std::max(goal, p.heapMarked + (1 << 20));  // sweepMinHeapDistance
        goal = std::max(goal, p.triggered + (64 << 10));  // minRunway
    }
    p.goal = goal;
    if (goal >= kInf) {
        p.trigger = kInf;
    } else {
        uint64_t d = goal > p.heapMarked ? goal - p.heapMarked : 0;
        double cons = 0;
        for (double c : p.consMark) cons = std::max(cons, c);
        uint64_t runway = static_cast<uint64_t>(cons * 0.75 / 0.25 * static_cast<double>(p.lastHeapScan + p.stackScan + p.globalsScan));
        uint64_t lo = p.heapMarked + d * 45 / 64, hi = p.heapMarked + d * 61 / 64;
        if (goal > (4u << 20) && goal - (4u << 20) > hi) hi = goal - (4u << 20);
        uint64_t t = goal > runway ? goal - runway : 0;
        p.trigger = std::clamp(t, lo, std::max(hi, lo));
    }
    // gcPaceScavenger: retain 10% over the goal-scaled in-use heap, and 95% of the memory limit.
    uint64_t scav = UINT64_MAX;
    if (p.lastHeapGoal && p.goal < kInf)
        scav = static_cast<uint64_t>(static_cast<double>(ms.HeapInuse) * static_cast<double>(p.goal) /
                                     static_cast<double>(p.lastHeapGoal) * 1.10);
    if (p.memoryLimit != INT64_MAX) scav = std::min<uint64_t>(scav, static_cast<uint64_t>(p.memoryLimit) / 100 * 95);
    p.lastHeapGoal = p.goal;
    p.lastHeapInUse = ms.HeapInuse;
    g_gcHeap.setScavengeGoal(scav == UINT64_MAX ? 0 : (scav + 4095) & ~uint64_t{4095});
    g_gcHeap.setTrigger(p.trigger);
    g_gcHeap.paceSweeper(p.trigger);
}

// ---------------------------------------------------------------------------------------------
// Cycle bookkeeping and gctrace.

struct CycleStats {
    uint64_t startNs, markStartNs, markEndNs;
    uint64_t stw1Ns, stw2Ns, heap0, heap1, heap2, goal;
    bool forced;
};
CycleStats g_cur;
std::atomic<uint64_t> g_numGC{0}, g_numForced{0}, g_pauseTotal{0}, g_lastPause{0}, g_lastGCUnix{0};
std::atomic<uint64_t> g_gcCpuNs{0}, g_workerNs{0}, g_assistNs{0};
std::atomic<uint64_t> g_tinyAllocs{0};
uint64_t g_processStart = 0;
int g_procs = 1;
bool g_gctrace = false;
SpinLock g_cycleLock;  // one cycle start at a time
std::atomic<uint32_t> g_markWake{0};
std::atomic<uint32_t> g_cycleDone{0};

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
    if (dec == 0) snprintf(out, cap, "%llu", static_cast<unsigned long long>(x));
    else snprintf(out, cap, "%llu.%0*llu", static_cast<unsigned long long>(x / div), dec, static_cast<unsigned long long>(x % div));
}

void printGCTrace(const CycleStats& c, uint64_t n, uint64_t assistNs, uint64_t workerNs, uint64_t stackScan,
                  uint64_t globalsScan) {
    char a[24], b[24], d[24], e[24], f[24], g[24], h[24], i[24];
    fmtMs(a, sizeof a, c.stw1Ns);
    fmtMs(b, sizeof b, c.markEndNs - c.markStartNs);
    fmtMs(d, sizeof d, c.stw2Ns);
    fmtMs(e, sizeof e, c.stw1Ns * static_cast<uint64_t>(g_procs));
    fmtMs(f, sizeof f, assistNs);
    fmtMs(g, sizeof g, workerNs);
    fmtMs(h, sizeof h, 0);
    fmtMs(i, sizeof i, c.stw2Ns * static_cast<uint64_t>(g_procs));
    uint64_t now = nanotime();
    double elapsed = static_cast<double>(now - g_processStart);
    int pct = static_cast<int>(100.0 * static_cast<double>(g_gcCpuNs.load()) / (elapsed * g_procs) + 0.5);
    char line[512];
    snprintf(line, sizeof line,
             "gc %llu @%.3fs %d%%: %s+%s+%s ms clock, %s+%s/%s/%s+%s ms cpu, %llu->%llu->%llu MB, %llu MB goal, "
             "%llu MB stacks, %llu MB globals, %d P%s\n",
             static_cast<unsigned long long>(n), static_cast<double>(c.startNs - g_processStart) / 1e9, pct, a, b, d, e,
             f, g, h, i, static_cast<unsigned long long>(c.heap0 >> 20), static_cast<unsigned long long>(c.heap1 >> 20),
             static_cast<unsigned long long>(c.heap2 >> 20), static_cast<unsigned long long>(c.goal >> 20),
             static_cast<unsigned long long>(stackScan >> 20), static_cast<unsigned long long>(globalsScan >> 20), g_procs,
             c.forced ? " (forced)" : "");
    printErr("%s", line);
}

// GCPhase event: a = cycle (numgc after this cycle, as gctrace prints), b = heapLive at that
// moment (heap0 at sweep termination, heap1 at mark termination, heap2 = marked once off),
// c = goal, d = trigger, flags = phase, npages = the stop-the-world's microseconds; at mark
// termination addr = assist CPU us << 32 | background worker CPU us (gctrace's cpu figures).
void emitPhase(GCPhaseKind phase, uint64_t cycle, uint64_t heapLive, uint64_t stwNs, uint64_t goal, uint64_t cpu = 0) {
    SPANSCOPE_EMIT(EventKind::GCPhase, 0, static_cast<uint8_t>(phase), static_cast<uint32_t>(stwNs / 1000), cpu, cycle,
                   heapLive, goal, g_gcHeap.trigger());
}

// ---------------------------------------------------------------------------------------------
// Thread attach/detach.

pthread_key_t g_mutKey;
SpinLock g_initLock;
std::atomic<bool> g_initialized{false};
void startWorker();
void gcTriggerHeap();

void threadExitGC(void*) { gc::detachThread(); }

// fork: take the collector's locks (as a blocked mutator, so a stop-the-world in progress can
// finish first); in the child only the forking thread is left, so the others' caches are returned
// and the mark worker is started again (marking resumes if the fork came mid-cycle).
void forkPrepare() {
    // Lock order: cycle -> world -> mutators -> pacer -> globals -> work pool -> heap (gcStart
    // takes the cycle lock before stopping the world; the stopper holds the mutator list).
    enterNative(t_mut);
    g_cycleLock.lock();
    g_worldLock.lock();
    g_mutLock.lock();
    g_pacerLock.lock();
    g_globalsLock.lock();
    g_workPool.lock();
    g_gcHeap.lockAll();
}
void unlockForFork() {
    g_gcHeap.unlockAll();
    g_workPool.unlock();
    g_globalsLock.unlock();
    g_pacerLock.unlock();
}
void forkParent() {
    unlockForFork();
    g_mutLock.unlock();
    g_worldLock.unlock();
    g_cycleLock.unlock();
    exitNative(t_mut);
}
void forkChild() {
    unlockForFork();
    Mutator* self = &t_mut;
    for (Mutator* m = g_mutators; m;) {
        Mutator* next = m->next;
        if (m != self) {
            m->cache.releaseAll();
            m->work.flush();
        }
        m = next;
    }
    g_mutators = self->attached ? self : nullptr;
    if (self->attached) self->next = self->prev = nullptr;
    g_mutLock.unlock();
    g_worldLock.unlock();
    g_cycleLock.unlock();
    g_gcHeap.repairAfterFork(self->attached ? &self->cache : nullptr);
    g_gcHeap.resetAfterFork();
    startWorker();
    exitNative(t_mut);
}

void gcInit() {
    LockGuard g(g_initLock);
    if (g_initialized.load(std::memory_order_acquire)) return;
    g_gcHeap.init(true);
    g_gcHeap.setTrigger(g_pacer.trigger);
    g_gcHeap.setGCTrigger(&gcTriggerHeap);
    g_processStart = nanotime();
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    g_procs = n > 0 ? static_cast<int>(n) : 1;
    if (const char* e = getenv("GOGC")) {
        if (!strcmp(e, "off")) g_pacer.gcPercent = -1;
        else if (*e) g_pacer.gcPercent = atoi(e);
    }
    if (const char* e = getenv("GOMEMLIMIT")) {
        char* end = nullptr;
        double v = strtod(e, &end);
        double mul = 1;
        if (end && !strcmp(end, "KiB")) mul = 1024.0;
        else if (end && !strcmp(end, "MiB")) mul = 1024.0 * 1024;
        else if (end && !strcmp(end, "GiB")) mul = 1024.0 * 1024 * 1024;
        if (v > 0) g_pacer.memoryLimit = static_cast<int64_t>(v * mul);
    }
    const char* dbg = getenv("GODEBUG");
    const char* tr = getenv("SPANSCOPE_GCTRACE");
    g_gctrace = (dbg && strstr(dbg, "gctrace=1")) || (tr && *tr == '1');
    pthread_key_create(&g_mutKey, threadExitGC);
    g_initialized.store(true, std::memory_order_release);
    startWorker();
    pthread_atfork(forkPrepare, forkParent, forkChild);
}

SPANSCOPE_NOINLINE Mutator& attachSlow() {
    if (!g_initialized.load(std::memory_order_acquire)) gcInit();
    Mutator& m = t_mut;
    MCache& c = m.cache;
    c.heap = &g_gcHeap;
    c.tid = currentTid();
    c.flushGen = g_gcHeap.sweepgen();
    c.state = 1;
    m.state.store(kNative, std::memory_order_seq_cst);
    {
        LockGuard g(g_mutLock);
        m.prev = nullptr;
        m.next = g_mutators;
        if (g_mutators) g_mutators->prev = &m;
        g_mutators = &m;
        m.attached = true;
    }
    pthread_setspecific(g_mutKey, &m);
    exitNative(m);
    return m;
}

SPANSCOPE_INLINE Mutator& self() {
    Mutator& m = t_mut;
    if (SPANSCOPE_UNLIKELY(!m.attached)) return attachSlow();
    return m;
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
    for (Mutator* m = g_mutators; m; m = m->next) {  // parked: their lists are stable
        for (RootBase* r = m->roots; r; r = RootAccess::next(r)) {
            for (size_t i = 0; i < RootAccess::count(r); i++) {
                void* p = __atomic_load_n(&RootAccess::slots(r)[i], __ATOMIC_ACQUIRE);
                if (p) greyObject(reinterpret_cast<uintptr_t>(p), w);
            }
            stackBytes += RootAccess::count(r) * sizeof(void*);
        }
    }
    // gcMarkTinyAllocs: each thread's current tiny block is grey.
    for (Mutator* m = g_mutators; m; m = m->next)
        if (m->cache.tiny) greyObject(m->cache.tiny, w);
    g_pacer.globalsScan = bytes;
    g_pacer.stackScan = stackBytes;
}

// Go's gcStart: sweep termination (STW 1), then the world runs with the mark phase on.
void gcStart(bool forced) {
    Mutator& me = self();
    if (g_gc.phase.load() != static_cast<int>(GCPhase::Off)) return;
    enterNative(me);
    g_cycleLock.lock();
    exitNative(me);
    if (g_gc.phase.load() != static_cast<int>(GCPhase::Off) ||
        (!forced && g_gcHeap.heapLive() < g_gcHeap.trigger())) {
        g_cycleLock.unlock();
        return;
    }
    g_gcHeap.sweepAllUnswept();  // finish the previous cycle's sweep first, as Go does
    CycleStats c{};
    c.forced = forced;
    c.startNs = nanotime();
    stopTheWorld(&me);
    g_gcHeap.sweepAllUnswept();  // finishsweep_m
    g_gc.bytesMarked.store(0);
    g_gc.scanWork.store(0);
    c.heap0 = g_gcHeap.heapLive();
    g_pacerLock.lock();
    g_pacer.triggered = c.heap0;
    g_gc.phase.store(static_cast<int>(GCPhase::Mark), std::memory_order_seq_cst);
    {
        GcWork w;
        markRoots(w);
        w.flush();
    }
    // Assist ratio (revise): expected scan work over the runway left to the goal.
    uint64_t expected = g_pacer.lastHeapScan + g_pacer.stackScan + g_pacer.globalsScan;
    uint64_t runway = g_pacer.goal > c.heap0 ? g_pacer.goal - c.heap0 : 1;
    g_gc.assistWorkPerByte.store(static_cast<double>(std::max<uint64_t>(expected, 1000)) / static_cast<double>(std::max<uint64_t>(runway, 1)));
    g_gc.blackenEnabled.store(true, std::memory_order_seq_cst);
    c.goal = g_pacer.goal;
    g_pacerLock.unlock();
    c.stw1Ns = nanotime() - c.startNs;
    c.markStartNs = nanotime();
    g_cur = c;
    startTheWorld();
    g_gcCpuNs.fetch_add(c.stw1Ns * static_cast<uint64_t>(g_procs));
    g_pauseTotal.fetch_add(c.stw1Ns);
    g_lastPause.store(c.stw1Ns);
    const uint64_t cycle = g_numGC.load() + 1;
    emitPhase(GCPhaseKind::SweepTermination, cycle, c.heap0, c.stw1Ns, c.goal);
    emitPhase(GCPhaseKind::Mark, cycle, c.heap0, 0, c.goal);
    g_markWake.fetch_add(1);
    futexWakeAll(&g_markWake);
    g_cycleLock.unlock();
}

// Go's gcMarkDone + gcMarkTermination (STW 2) + gcSweep.
void gcMarkTermination() {
    CycleStats c = g_cur;
    c.markEndNs = nanotime();
    uint64_t t0 = nanotime();
    stopTheWorld(nullptr);
    // Ragged barrier done the simple way: every mutator is parked, so take their buffers.
    for (Mutator* m = g_mutators; m; m = m->next) m->work.flush();
    {
        GcWork w;  // what the ragged barrier could not hand over in time
        while (drainWork(w, SIZE_MAX) || !g_workPool.empty()) {
        }
        w.flush();
    }
    g_gc.phase.store(static_cast<int>(GCPhase::MarkTermination), std::memory_order_seq_cst);
    g_gc.blackenEnabled.store(false, std::memory_order_seq_cst);
    c.heap1 = g_gcHeap.heapLive();
    c.heap2 = g_gc.bytesMarked.load();
    uint64_t scanWork = g_gc.scanWork.load();
    g_pacerLock.lock();
    // consMark: allocation during mark over the scan work done (u = 0.25 utilisation).
    {
        double cons = scanWork ? static_cast<double>(c.heap1 > g_pacer.triggered ? c.heap1 - g_pacer.triggered : 0) * 0.25 /
                                     (static_cast<double>(scanWork) * 0.75)
                               : 0;
        for (int k = 4; k > 0; k--) g_pacer.consMark[k] = g_pacer.consMark[k - 1];
        g_pacer.consMark[0] = cons;
    }
    g_pacer.heapMarked = c.heap2;
    g_pacer.lastHeapScan = scanWork;
    // prepareForSweep for every mutator: their cached spans go back to mcentral before the swap.
    for (Mutator* m = g_mutators; m; m = m->next) m->cache.releaseAll();
    uint32_t sg = g_gcHeap.bumpSweepgen();
    for (Mutator* m = g_mutators; m; m = m->next) {
        m->cache.flushGen = sg;
        m->assistBytes = 0;
    }
    g_gcHeap.setHeapLive(c.heap2);  // resetLive: heapLive = heapMarked
    g_gc.phase.store(static_cast<int>(GCPhase::Off), std::memory_order_seq_cst);
    MemStats ms;
    g_gcHeap.readStats(ms);
    pacerCommit(ms);
    uint64_t globalsScan = g_pacer.globalsScan, stackScan = g_pacer.stackScan, newGoal = g_pacer.goal;
    g_pacerLock.unlock();
    uint64_t n = g_numGC.fetch_add(1) + 1;
    g_gc.cycle.store(n);
    if (c.forced) g_numForced.fetch_add(1);
    c.stw2Ns = nanotime() - t0;
    startTheWorld();
    g_pauseTotal.fetch_add(c.stw2Ns);
    g_lastPause.store(c.stw2Ns);
    g_gcCpuNs.fetch_add(c.stw2Ns * static_cast<uint64_t>(g_procs));
    timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    g_lastGCUnix.store(static_cast<uint64_t>(rt.tv_sec) * 1000000000ull + static_cast<uint64_t>(rt.tv_nsec));
    const uint64_t assistNs = g_assistNs.exchange(0), workerNs = g_workerNs.exchange(0);
    emitPhase(GCPhaseKind::MarkTermination, n, c.heap1, c.stw2Ns, c.goal, (assistNs / 1000) << 32 | (workerNs / 1000 & 0xffffffff));
    emitPhase(GCPhaseKind::Off, n, c.heap2, 0, newGoal);
    if (g_gctrace) printGCTrace(c, n, assistNs, workerNs, stackScan, globalsScan);
    g_cycleDone.fetch_add(1);
    futexWakeAll(&g_cycleDone);
    g_gcHeap.startBackground();  // bgsweep
    g_gcHeap.wakeBackground();
}

// The background mark worker: Go's dedicated/fractional worker at 25% of the CPUs. With 2 CPUs
// that is half of one thread's time: work about 1 ms, then rest for the same.
void* workerMain(void*) {
    pthread_setname_np(pthread_self(), "spanscope-mark");
    GcWork w;
    const double share = std::min(1.0, 0.25 * g_procs);
    for (;;) {
        uint32_t seen = g_markWake.load(std::memory_order_acquire);
        if (g_gc.phase.load(std::memory_order_acquire) != static_cast<int>(GCPhase::Mark) ||
            !g_gc.blackenEnabled.load(std::memory_order_acquire)) {
            futexWait(&g_markWake, seen, 100000000);
            continue;
        }
        uint64_t t0 = nanotime();
        size_t done = 0;
        while (nanotime() - t0 < 1000000) {
            size_t d = drainWork(w, 64 << 10);
            done += d;
            if (!d) break;
        }
        w.flush();
        uint64_t worked = nanotime() - t0;
        g_workerNs.fetch_add(worked);
        g_gcCpuNs.fetch_add(worked);
        g_gc.bgScanCredit.fetch_add(static_cast<int64_t>(done));
        if (!done && g_workPool.empty() && g_activeAssists.load(std::memory_order_acquire) == 0) {
            // Ragged barrier: ask mutators for their buffered grey objects, give them a moment
            // to reach a safe point, and terminate only if that turned up no work.
            g_flushEpoch.fetch_add(1, std::memory_order_release);
            timespec ts{0, 200000};
            nanosleep(&ts, nullptr);
            if (!g_workPool.empty() || g_activeAssists.load(std::memory_order_acquire) != 0) continue;
            gcMarkTermination();
            continue;
        }
        if (share < 1.0) {
            uint64_t rest = static_cast<uint64_t>(static_cast<double>(worked) * (1.0 / share - 1.0));
            timespec ts{0, static_cast<long>(std::min<uint64_t>(rest, 50000000))};
            nanosleep(&ts, nullptr);
        }
    }
    return nullptr;
}

void startWorker() {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, workerMain, nullptr) != 0) fatal("cannot start the GC mark worker");
    pthread_attr_destroy(&attr);
}

void gcTriggerHeap() { gcStart(false); }

// Go's gcAssistAlloc: pay allocation debt with scan work (or background credit).
SPANSCOPE_NOINLINE void gcAssist(Mutator& m) {
    double ratio = g_gc.assistWorkPerByte.load(std::memory_order_relaxed);
    int64_t debtWork = static_cast<int64_t>(static_cast<double>(-m.assistBytes) * ratio);
    int64_t credit = g_gc.bgScanCredit.load(std::memory_order_relaxed);
    if (credit > 0) {
        int64_t steal = std::min(credit, debtWork);
        g_gc.bgScanCredit.fetch_sub(steal);
        debtWork -= steal;
        m.assistBytes += static_cast<int64_t>(static_cast<double>(steal) / std::max(ratio, 1e-9));
        if (debtWork <= 0) return;
    }
    uint64_t t0 = nanotime();
    SPANSCOPE_EMIT(EventKind::MarkAssistBegin, 0, 0, 0, 0, static_cast<uint64_t>(debtWork), 0, 0, 0);
    g_activeAssists.fetch_add(1, std::memory_order_acq_rel);
    size_t done = drainWork(m.work, static_cast<size_t>(std::max<int64_t>(debtWork, 64 << 10)));  // gcOverAssistWork
    m.work.flush();
    g_activeAssists.fetch_sub(1, std::memory_order_acq_rel);
    // Go parks the goroutine when no work is left; here the debt is simply forgiven.
    m.assistBytes = done ? m.assistBytes + static_cast<int64_t>(static_cast<double>(done) / std::max(ratio, 1e-9)) : 0;
    uint64_t dt = nanotime() - t0;
    g_assistNs.fetch_add(dt);
    g_gcCpuNs.fetch_add(dt);
    SPANSCOPE_EMIT(EventKind::MarkAssistEnd, 0, 0, 0, 0, done, 0, 0, 0);
}

// Allocate black (gcmarknewobject).
SPANSCOPE_INLINE void markNew(Mutator& m, MSpan* s, uintptr_t slot) {
    size_t idx = s->isLarge() ? 0 : s->objIndex(slot);
    __atomic_fetch_or(&s->gcmarkBits[idx / 64], uint64_t{1} << (idx % 64), __ATOMIC_RELAXED);
    m.work.bytesMarked += s->elemsize;
}

// Go's mallocgc.
void* mallocgc(size_t size, const gc::Type* t, size_t nelem) {
    Mutator& m = self();
    safePoint(m);
    if (g_gc.blackenEnabled.load(std::memory_order_relaxed)) {
        m.assistBytes -= static_cast<int64_t>(size);
        if (m.assistBytes < 0) gcAssist(m);
    }
    MCache& c = m.cache;
    const bool noscan = !t || t->ptrdata == 0;
    const bool black = g_gc.phase.load(std::memory_order_relaxed) != static_cast<int>(GCPhase::Off);
    if (size == 0) size = 1;
    if (noscan && size < kTinySize) {
        // The tiny allocator: pack pointer-free objects into 16-byte blocks (Go's rules).
        uintptr_t off = c.tinyoffset;
        if (size % 8 == 0) off = (off + 7) & ~uintptr_t{7};
        else if (size % 4 == 0) off = (off + 3) & ~uintptr_t{3};
        else if (size % 2 == 0) off = (off + 1) & ~uintptr_t{1};
        if (off + size <= kTinySize && c.tiny) {
            void* p = reinterpret_cast<void*>(c.tiny + off);
            c.tinyoffset = off + size;
            c.tinyAllocs++;
            c.requested[kTinySpanClass] += size;
            g_tinyAllocs.fetch_add(1, std::memory_order_relaxed);
            return p;
        }
        MSpan* s = c.alloc[kTinySpanClass];
        void* block = s ? s->nextFreeFast() : nullptr;
        if (!block) block = c.nextFree(kTinySpanClass);
        if (!block) fatal("out of memory (tiny block)");
        s = c.alloc[kTinySpanClass];
        memset(block, 0, kTinySize);  // tiny blocks are always zeroed
        c.requested[kTinySpanClass] += size;
        if (black) markNew(m, s, reinterpret_cast<uintptr_t>(block));
        if (SPANSCOPE_OBJECT_EVENTS())
            SPANSCOPE_EMIT(EventKind::ObjAlloc, kTinySpanClass, 1, 0, reinterpret_cast<uintptr_t>(block), size, 0, 0, 0);
        if (size < c.tinyoffset || c.tiny == 0) {
            c.tiny = reinterpret_cast<uintptr_t>(block);
            c.tinyoffset = size;
        }
        return sampleAlloc(&c, block, kTinySize, true);  // tiny: a new block counts, its sharers do not
    }
    const bool header = !noscan && size > kMinSizeForMallocHeader;
    const size_t full = header ? size + kMallocHeaderSize : size;
    if (full <= kMaxSmallSize) {
        const uint8_t spc = makeSpanClass(sizeToClass(full), noscan);
        MSpan* s = c.alloc[spc];
        void* p = s ? s->nextFreeFast() : nullptr;
        if (!p) p = c.nextFree(spc);
        if (!p) fatal("out of memory allocating %zu bytes", size);
        s = c.alloc[spc];
        c.requested[spc] += size;
        if (s->needzero) memset(p, 0, s->elemsize);
        uintptr_t slot = reinterpret_cast<uintptr_t>(p);
        if (header) {
            __atomic_store_n(reinterpret_cast<const gc::Type**>(slot), t, __ATOMIC_RELEASE);
            p = reinterpret_cast<void*>(slot + kMallocHeaderSize);
        } else if (!noscan) {
            heapSetType(s, slot, t, t->size * nelem);
        }
        if (black) markNew(m, s, slot);
        if (SPANSCOPE_OBJECT_EVENTS()) SPANSCOPE_EMIT(EventKind::ObjAlloc, spc, 0, 0, slot, size, 0, 0, 0);
        sampleAlloc(&c, reinterpret_cast<void*>(slot), s->elemsize, true);
        return p;
    }
    void* p = g_gcHeap.allocLarge(size, kPageSize, true, noscan);
    if (!p) fatal("out of memory allocating %zu bytes", size);
    MSpan* s = spanOf(reinterpret_cast<uintptr_t>(p));
    if (!noscan) __atomic_store_n(&s->largeType, static_cast<const void*>(t), __ATOMIC_RELEASE);
    if (black) markNew(m, s, reinterpret_cast<uintptr_t>(p));
    if (SPANSCOPE_OBJECT_EVENTS())
        SPANSCOPE_EMIT(EventKind::ObjAlloc, s->spanclass, 0, 0, reinterpret_cast<uintptr_t>(p), size, 0, 0, 0);
    return sampleAlloc(&c, p, s->npages * kPageSize, true);
}

}  // namespace
}  // namespace spanscope::detail

namespace spanscope::gc {
using namespace spanscope::detail;

void* alloc(const Type* t) { return mallocgc(t->size, t, 1); }
void* allocArray(const Type* t, size_t n) {
    size_t bytes;
    if (__builtin_mul_overflow(t->size, n, &bytes)) fatal("allocArray: %zu elements of %zu bytes overflow", n, t->size);
    return mallocgc(bytes, t, n);
}
void* allocBytes(size_t n) { return mallocgc(n, nullptr, 1); }

void writePointer(void** slot, void* ptr) {
    if (SPANSCOPE_UNLIKELY(writeBarrierEnabled())) {
        // Go's hybrid barrier: shade the pointer being overwritten (Yuasa) and the new one
        // (Dijkstra), so stacks-like roots need scanning only once per cycle.
        Mutator& m = self();
        void* old = __atomic_load_n(slot, __ATOMIC_RELAXED);
        if (old) greyObject(reinterpret_cast<uintptr_t>(old), m.work);
        if (ptr) greyObject(reinterpret_cast<uintptr_t>(ptr), m.work);
    }
    __atomic_store_n(slot, ptr, __ATOMIC_RELEASE);
}

RootBase::RootBase(void** slots, size_t n) : m_slots(slots), m_n(n) {
    Mutator& m = self();
    m_prev = nullptr;
    m_next = m.roots;
    if (m.roots) RootAccess::prev(m.roots) = this;
    m.roots = this;
}

RootBase::~RootBase() {
    Mutator& m = t_mut;
    if (m_prev) RootAccess::next(m_prev) = m_next;
    else m.roots = m_next;
    if (m_next) RootAccess::prev(m_next) = m_prev;
}

void registerGlobal(void** slot) {
    self();
    LockGuard g(g_globalsLock);
    if (g_nglobals == g_globalsCap) {
        size_t cap = g_globalsCap ? g_globalsCap * 2 : 512;
        auto* n = static_cast<void***>(sysAllocMeta(cap * sizeof(void**)));
        if (g_nglobals) memcpy(n, g_globals, g_nglobals * sizeof(void**));
        g_globals = n;  // the old block is metadata and stays mapped
        g_globalsCap = cap;
    }
    g_globals[g_nglobals++] = slot;
}

void unregisterGlobal(void** slot) {
    LockGuard g(g_globalsLock);
    for (size_t i = 0; i < g_nglobals; i++)
        if (g_globals[i] == slot) {
            g_globals[i] = g_globals[--g_nglobals];
            return;
        }
}

void collect() {
    Mutator& m = self();
    // Go's runtime.GC: wait for a cycle in progress, run a full one, then finish sweeping.
    for (;;) {
        uint32_t done = g_cycleDone.load();
        if (g_gc.phase.load() == static_cast<int>(GCPhase::Off)) break;
        enterNative(m);
        futexWait(&g_cycleDone, done, 10000000);
        exitNative(m);
    }
    uint32_t done = g_cycleDone.load();
    gcStart(true);
    for (;;) {
        if (g_cycleDone.load() != done && g_gc.phase.load() == static_cast<int>(GCPhase::Off)) break;
        enterNative(m);
        futexWait(&g_cycleDone, done, 10000000);
        exitNative(m);
    }
    g_gcHeap.sweepAllUnswept();
}

int setGCPercent(int percent) {
    self();
    LockGuard g(g_pacerLock);
    int old = g_pacer.gcPercent;
    g_pacer.gcPercent = percent < 0 ? -1 : percent;
    MemStats ms;
    g_gcHeap.readStats(ms);
    pacerCommit(ms);
    return old;
}

int64_t setMemoryLimit(int64_t bytes) {
    self();
    LockGuard g(g_pacerLock);
    int64_t old = g_pacer.memoryLimit;
    if (bytes >= 0) {
        g_pacer.memoryLimit = bytes;
        MemStats ms;
        g_gcHeap.readStats(ms);
        pacerCommit(ms);
    }
    return old;
}

void poll() { safePoint(self()); }

void detachThread() {
    Mutator& m = t_mut;
    if (!m.attached) return;
    enterNative(m);
    LockGuard g(g_mutLock);  // not during a stop-the-world
    m.cache.releaseAll();
    m.work.flush();
    if (m.prev) m.prev->next = m.next;
    else g_mutators = m.next;
    if (m.next) m.next->prev = m.prev;
    m.attached = false;
    m.cache.state = 2;
}

void enterBlocking() { enterNative(t_mut); }
void exitBlocking() { exitNative(t_mut); }

void readGCStats(GCStats* st) {
    self();
    *st = GCStats{};
    g_gcHeap.readStats(st->heap);
    st->numGC = g_numGC.load();
    st->numForcedGC = g_numForced.load();
    LockGuard g(g_pacerLock);
    st->heapMarked = g_pacer.heapMarked;
    st->heapGoal = g_pacer.goal;
    st->trigger = g_pacer.trigger;
    st->heapLive = g_gcHeap.heapLive();
    st->pauseTotalNs = g_pauseTotal.load();
    st->lastPauseNs = g_lastPause.load();
    st->lastGCUnixNs = g_lastGCUnix.load();
    st->gcPercent = g_pacer.gcPercent;
    st->memoryLimit = g_pacer.memoryLimit;
    st->tinyAllocs = g_tinyAllocs.load();
    double elapsed = static_cast<double>(nanotime() - g_processStart) * g_procs;
    st->gcCPUFraction = elapsed > 0 ? static_cast<double>(g_gcCpuNs.load()) / elapsed : 0;
}

bool validate(char* why, size_t cap) {
    Mutator& m = self();
    // Quiesce: no cycle in progress, every other mutator parked, every cache flushed.
    for (;;) {
        stopTheWorld(&m);
        if (g_gc.phase.load() == static_cast<int>(GCPhase::Off)) break;
        startTheWorld();
        sched_yield();
    }
    for (Mutator* x = g_mutators; x; x = x->next) x->cache.releaseAll();
    bool ok = g_gcHeap.validate(why, cap);
    startTheWorld();
    return ok;
}

}  // namespace spanscope::gc
