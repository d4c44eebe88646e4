// The collector's shared state, internal to allocator/mgc*.cpp (see spanscope/gc.h and
// docs/ARCHITECTURE.md, "The collector"). The collector is split by mechanism as Go's runtime is:
//   mgc.cpp       the cycle and its phases, the background and idle mark workers, gctrace (mgc.go)
//   mgcpacer.cpp  the pacer: goal, trigger, assist ratio, GOGC and GOMEMLIMIT (mgcpacer.go)
//   mgcstw.cpp    mutator threads, safe points, stop-the-world, roots, start-up, fork (proc.go)
//   mgcmalloc.cpp managed allocation, the tiny allocator, mark assists, the write barrier's entry
//                 (malloc.go, mgcmark.go's gcAssistAlloc, mbarrier.go)
//   mgcmark.cpp   grey objects, scanning, work buffers (mgcmark.go, mgcwork.go, mbitmap.go)
//   mgcstats.cpp  readGCStats and FreeOSMemory (mstats.go, mheap.go)
#pragma once
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mgcwork.h"
#include "spanscope/detail/intrusive_list.h"
#include "spanscope/detail/mcache.h"
#include "spanscope/detail/mspan.h"
#include "spanscope/events.h"
#include "spanscope/gc.h"

namespace spanscope::gc {
// mgcstw.cpp and mgc.cpp walk the root handles of each thread.
struct RootAccess {
    static void** slots(RootBase* r) { return r->m_slots; }
    static size_t count(RootBase* r) { return r->m_n; }
    // A thread's root handles, newest first (named here: the links are RootBase's own).
    using List = detail::IntrusiveList<RootBase, &RootBase::m_next, &RootBase::m_prev>;
};
}  // namespace spanscope::gc

namespace spanscope::detail {

// Go's gcphase: the collector's phase is told in the vocabulary its GCPhase events carry
// (events.h), so that allocator, session and viewer name the phases alike. The phase itself is
// Off, Mark or MarkTermination (sweep termination is a stop-the-world edge with the phase Off).
// writeBarrier.enabled == (phase != Off).
using GCPhase = GCPhaseKind;
static_assert(std::atomic<GCPhase>::is_always_lock_free, "read on every write barrier");

struct GCState {
    std::atomic<GCPhase> phase{GCPhase::Off};
    std::atomic<bool> blackenEnabled{false};
    std::atomic<uint64_t> bytesMarked{0};
    std::atomic<uint64_t> scanWork{0};
    std::atomic<int64_t> bgScanCredit{0};
    std::atomic<double> assistWorkPerByte{0};
    // Go's heapScan: bytes of scannable objects in the heap (scan classes and pointerful large
    // objects, in scanWork's unit), grown by allocation between cycles, fixed during one, and reset
    // to the cycle's scan work at mark termination. revise's worst case (maxScanWork) is this.
    std::atomic<uint64_t> heapScan{0};
    std::atomic<uint64_t> heapGoal{
        UINT64_MAX};                 // revise's park point: assists with no work wait past it
    std::atomic<uint64_t> cycle{0};  // numgc
};
extern GCState g_gc;

inline bool writeBarrierEnabled() {
    return g_gc.phase.load(std::memory_order_relaxed) != GCPhase::Off;
}

// ---------------------------------------------------------------------------------------------
// Mutators and stop-the-world (mgcstw.cpp; Go's stopTheWorldWithSema with safe points instead of
// preemption).

enum MutState : int { kRunning = 0, kParked = 1, kNative = 2 };

struct Mutator {
    std::atomic<int> state{kNative};
    bool attached = false;
    bool exiting = false;
    gc::RootAccess::List roots;
    GcWork work;                          // barrier shading and assists
    std::atomic<uint32_t> flushEpoch{0};  // the barrier epoch this mutator last flushed for
    int64_t assistBytes = 0;              // Go's gcAssistBytes: credit (> 0) or debt (< 0)
    uint64_t scanAlloc =
        0;  // scannable bytes allocated, not yet in g_gc.heapScan (Go's mcache.scanAlloc)
    uint64_t assistNs = 0;
    Mutator* next = nullptr;
    Mutator* prev = nullptr;
    MCache cache = {};  // this thread's mcache for the managed heap (Go's p.mcache)
};
using MutatorList = IntrusiveList<Mutator, &Mutator::next, &Mutator::prev>;

extern constinit thread_local Mutator t_mut __attribute__((tls_model("initial-exec")));

extern SpinLock g_mutLock;  // the mutator list; held by the stopper for the whole stop-the-world
extern MutatorList g_mutators;  // every attached thread
extern SpinLock g_worldLock;    // one stopper at a time
extern std::atomic<bool> g_stw;
extern std::atomic<uint32_t> g_stwSeq;
// Go's ragged barrier (gcMarkDone's forEachP flush): mutators hand their grey buffers over at
// their next safe point when this epoch moves.
extern std::atomic<uint32_t> g_flushEpoch;
// Assists currently holding grey objects (Go's work.nwait bookkeeping): mark termination waits
// until none is left.
extern std::atomic<int> g_activeAssists;
// Assists parked for want of work while the heap is past its goal (gcParkAssist).
extern std::atomic<int> g_parkedAssists;

void parkSlow(Mutator& m);
void flushForBarrier(Mutator& m);
SPANSCOPE_INLINE void safePoint(Mutator& m) {
    if (SPANSCOPE_UNLIKELY(g_stw.load(std::memory_order_relaxed))) parkSlow(m);
    if (SPANSCOPE_UNLIKELY(g_flushEpoch.load(std::memory_order_relaxed) !=
                           m.flushEpoch.load(std::memory_order_relaxed)))
        flushForBarrier(m);
}
void enterNative(Mutator& m);
void exitNative(Mutator& m);
// Stops every other mutator at a safe point. self is the calling mutator (or null for the
// background worker, which is not one). Returns with g_mutLock held.
void stopTheWorld(Mutator* self);
void startTheWorld();

Mutator& attachSlow();
SPANSCOPE_INLINE Mutator& self() {
    Mutator& m = t_mut;
    if (SPANSCOPE_UNLIKELY(!m.attached)) return attachSlow();
    return m;
}

// Registered globals (Go's data/BSS roots).
extern SpinLock g_globalsLock;
extern void*** g_globals;
extern size_t g_nglobals;

// ---------------------------------------------------------------------------------------------
// The pacer (mgcpacer.cpp; Go's gcControllerState). Fields under g_pacerLock.

inline constexpr uint64_t kNotTriggered =
    UINT64_MAX;  // Go's triggered = ^uint64(0) outside a cycle

// Go's gcBackgroundUtilization (and gcGoalUtilization, equal to it since Go 1.18): the share of the
// CPUs the background mark workers take while marking.
inline constexpr double kBackgroundUtilization = 0.25;

// Go 1.19's startCycle splits the background workers' 25% of the CPUs into dedicated workers,
// each a whole CPU, and, where rounding would miss the 25% by more than 30% (Go: "this happens
// for GOMAXPROCS<=3 or GOMAXPROCS=6"), a fractional goal per P: with 2 CPUs no dedicated worker
// and 25% of a P; with 4 one dedicated worker and no fractional one.
struct WorkerSplit {
    int dedicated;
    double fractional;  // of one P's time
};
inline WorkerSplit backgroundSplit(int procs) {
    const double total = procs * kBackgroundUtilization;
    int dedicated = static_cast<int>(total + 0.5);
    double fractional = 0;
    const double utilError = dedicated / total - 1;
    if (utilError < -0.3 || utilError > 0.3) {
        if (dedicated > total) dedicated--;
        fractional = (total - dedicated) / procs;
    }
    return {dedicated, fractional};
}

// Go's piController (mgcpacer.go): a proportional-integral controller with anti-windup, which
// Go 1.19 uses to smooth the cons/mark ratio from one cycle to the next.
struct PiController {
    double kp, ti, tt, min, max;
    double errIntegral = 0;
    // The new output for input, steering toward setpoint over period; on overflow the state is
    // reset and min returned (Go then sets consMark to 0).
    double next(double input, double setpoint, double period) {
        const double raw = kp * (setpoint - input) + errIntegral;
        if (!__builtin_isfinite(raw)) {
            errIntegral = 0;
            return 0;
        }
        const double out = raw < min ? min : raw > max ? max : raw;
        if (ti != 0 && tt != 0) {
            errIntegral += kp * period / ti * (setpoint - input) + period / tt * (out - raw);
            if (!__builtin_isfinite(errIntegral)) {
                errIntegral = 0;
                return 0;
            }
        }
        return out;
    }
};

struct Pacer {
    int gcPercent = 100;
    int64_t memoryLimit = INT64_MAX;
    uint64_t heapMinimum = 4 << 20;  // 4 MiB x GOGC/100
    uint64_t heapMarked = 0;
    uint64_t triggered = kNotTriggered;  // heapLive when this cycle started (reset by resetLive)
    uint64_t lastHeapScan = 0;
    uint64_t globalsScan = 0;
    uint64_t stackScan = 0;  // lastStackScan: root handles and scopes
    double consMark = 0;     // the smoothed cons/mark ratio (Go's consMark)
    PiController consMarkController{0.9, 4.0, 1000, -1000, 1000};  // Go 1.19's tuning
    uint64_t lastHeapGoal = 0;
    // commit's outputs.
    uint64_t gcPercentHeapGoal = 4 << 20, sweepDistMinTrigger = 0, runway = 0;
    // The goal and trigger as last computed (they move with the memory limit between commits).
    uint64_t goal = 4 << 20;
    uint64_t trigger = (4 << 20) * 61 / 64;  // 3,997,696 B: Go's first trigger
};
extern Pacer g_pacer;
extern SpinLock g_pacerLock;
// All with g_pacerLock held. commit: the GOGC goal, floors and runway (Go's commit), then
// pacerPublish: goal, trigger, the heap's trigger hint, the sweeper's pace, the scavenger's goal.
void pacerCommit(bool sweepDone);
void pacerPublish();
uint64_t pacerTrigger(uint64_t* goal);  // Go's gcControllerState.trigger
void pacerRevise();                     // Go's revise: the assist ratio during mark
// Takes g_pacerLock: heapLive >= the trigger as computed now (Go's gcTrigger.test).
bool pacerTriggerTest();
// GOGC and GOMEMLIMIT from the environment (Go's readGOGC, readGOMEMLIMIT); malformed values
// end the process with a message and status 2, as Go's throw does.
void pacerInitFromEnv();
// Go's parseByteCount: digits with an optional B, KiB, MiB, GiB or TiB suffix.
bool parseByteCount(const char* s, int64_t* out);

// ---------------------------------------------------------------------------------------------
// The cycle (mgc.cpp).

extern std::atomic<uint64_t> g_numGC, g_numForced, g_pauseTotal, g_lastPause, g_lastGCUnix;
extern std::atomic<uint64_t> g_gcCpuNs, g_workerNs, g_assistNs, g_idleNs;
extern std::atomic<uint64_t> g_tinyAllocs;
extern uint64_t g_processStart;
extern int g_procs;
extern bool g_gctrace;
extern SpinLock g_cycleLock;  // one cycle start at a time
extern std::atomic<uint32_t> g_cycleDone;

void gcStart(bool forced);  // Go's gcStart: sweep termination, then mark
void gcMarkTermination();   // Go's gcMarkDone + gcMarkTermination + gcSweep
void gcTriggerHeap();       // the heap's trigger callback: gcStart(false)
void startWorker();         // the background mark worker thread

// ---------------------------------------------------------------------------------------------
// Marking (mgcmark.cpp).

void greyObject(uintptr_t p, GcWork& w);
void scanObject(uintptr_t obj, GcWork& w);
size_t drainWork(GcWork& w, size_t budget);  // returns scan work done
void heapSetType(MSpan* s, uintptr_t obj, const gc::Type* t, size_t bytes);
// A fork child in the middle of a mark phase: re-grey what the threads that did not survive the
// fork held, and recount bytesMarked from the mark bits. Single-threaded (before the workers
// restart).
void remarkAfterFork();

}  // namespace spanscope::detail
