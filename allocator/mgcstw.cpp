// Mutator threads and stop-the-world (Go's proc.go: stopTheWorldWithSema, with safe points at
// allocations and poll() instead of preemption): attaching and detaching threads, parking at a
// safe point, blocking regions, registered globals and root handles, the collector's start-up
// and its fork handlers. See mgc.h for how the collector is split.
#include <pthread.h>
#include <sched.h>

#include <cstdlib>
#include <cstring>

#include "mgc.h"
#include "spanscope/detail/mheap.h"
#include "spanscope/detail/mprof.h"

namespace spanscope::detail {

using gc::RootAccess;
using gc::RootBase;

constinit thread_local Mutator t_mut __attribute__((tls_model("initial-exec")));
SpinLock g_mutLock;
MutatorList g_mutators;
SpinLock g_worldLock;
std::atomic<bool> g_stw{false};
std::atomic<uint32_t> g_stwSeq{0};
std::atomic<uint32_t> g_flushEpoch{0};
std::atomic<int> g_activeAssists{0};
std::atomic<int> g_parkedAssists{0};

SpinLock g_globalsLock;
void*** g_globals = nullptr;
size_t g_nglobals = 0;
namespace {
size_t g_globalsCap = 0;
}  // namespace

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
    const uint32_t epoch = g_flushEpoch.load(std::memory_order_acquire);
    m.work.flush();
    m.flushEpoch.store(epoch, std::memory_order_release);  // markWorkDone waits for this
}

void enterNative(Mutator& m) {
    if (m.attached) m.state.store(kNative, std::memory_order_seq_cst);
}
void exitNative(Mutator& m) {
    if (!m.attached) return;
    m.state.store(kRunning, std::memory_order_seq_cst);
    if (g_stw.load(std::memory_order_seq_cst)) parkSlow(m);
}

void stopTheWorld(Mutator* self) {
    if (self) enterNative(*self);
    g_worldLock.lock();
    if (self && self->attached) self->state.store(kRunning, std::memory_order_seq_cst);
    g_stw.store(true, std::memory_order_seq_cst);
    g_mutLock.lock();
    for (Mutator* m : g_mutators) {
        if (m == self) continue;
        for (int spins = 0; m->state.load(std::memory_order_seq_cst) == kRunning; spins++) {
            if (spins < 100)
                __builtin_ia32_pause();
            else
                sched_yield();
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
// Thread attach/detach, start-up and fork.

namespace {
pthread_key_t g_mutKey;
SpinLock g_initLock;
std::atomic<bool> g_initialized{false};

void threadExitGC(void*) {
    gc::detachThread();
}

// fork: take the collector's locks (as a blocked mutator, so a stop-the-world in progress can
// finish first) and wait for every sweep in flight (MHeap::lockForFork: a span half swept by a
// thread the child does not have would be swept again there with its marks already cleared); in
// the child only the forking thread is left, so the others' caches are returned, what they held
// grey is found again (remarkAfterFork), and the mark workers are started again (marking resumes
// if the fork came mid-cycle).
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
    g_gcHeap.lockForFork();  // waits for sweeps in flight: the child must not get a span half swept
}
void unlockForFork() {
    g_gcHeap.unlockAfterFork();
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
    for (Mutator* m = g_mutators.first(); m;) {
        Mutator* next = MutatorList::next(m);
        if (m != self) {
            m->cache.releaseAll();
            // Its grey buffer may be mid-update (a count bumped before its slot was written):
            // dropped, not flushed; remarkAfterFork finds its objects from their mark bits.
            if (WorkBuf* b = m->work.buf) {
                b->n = 0;
                g_workPool.putEmpty(b);
            }
            m->work = GcWork{};
        }
        m = next;
    }
    self->work.flush();
    g_activeAssists.store(0,
                          std::memory_order_relaxed);  // an assist in another thread died mid-drain
    g_mutators.clear();
    if (self->attached) g_mutators.pushFront(self);
    g_mutLock.unlock();
    g_worldLock.unlock();
    g_cycleLock.unlock();
    g_gcHeap.repairAfterFork(self->attached ? &self->cache : nullptr);
    g_gcHeap.resetAfterFork();
    remarkAfterFork();
    startWorker();
    exitNative(t_mut);
}

// Go's schedinit: GOMAXPROCS from the environment when it is a positive integer (anything else is
// ignored, as Go ignores it), else the CPUs this process may run on (Go's getproccount reads the
// affinity mask).
int gomaxprocs() {
    if (const char* e = getenv("GOMAXPROCS"); e && *e) {
        char* end = nullptr;
        const long n = strtol(e, &end, 10);
        if (*end == 0 && n > 0 && n <= INT32_MAX) return static_cast<int>(n);
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace

void gcInit() {
    LockGuard g(g_initLock);
    if (g_initialized.load(std::memory_order_acquire)) return;
    g_gcHeap.init(true);
    g_gcHeap.setTrigger(g_pacer.trigger);
    g_gcHeap.setGCTrigger(&gcTriggerHeap);
    g_processStart = nanotime();
    g_procs = gomaxprocs();
    pacerInitFromEnv();
    const char* dbg = getenv("GODEBUG");
    const char* tr = getenv("SPANSCOPE_GCTRACE");
    g_gctrace = (dbg && strstr(dbg, "gctrace=1")) || (tr && *tr == '1');
    pthread_key_create(&g_mutKey, threadExitGC);
    g_initialized.store(true, std::memory_order_release);
    startWorker();
    registerProfileForkHandlers();  // first: its prepare must run after forkPrepare's sweep wait
    pthread_atfork(forkPrepare, forkParent, forkChild);
}

SPANSCOPE_NOINLINE Mutator& attachSlow() {
    AllocatorWorkScope own;  // what gcInit and pthread_setspecific allocate is the allocator's
    if (!g_initialized.load(std::memory_order_acquire)) gcInit();
    Mutator& m = t_mut;
    MCache& c = m.cache;
    c.heap = &g_gcHeap;
    c.tid = currentTid();
    c.flushGen = g_gcHeap.sweepgen();
    c.state = CacheState::Live;
    m.state.store(kNative, std::memory_order_seq_cst);
    {
        LockGuard g(g_mutLock);
        g_mutators.pushFront(&m);
        m.attached = true;
    }
    pthread_setspecific(g_mutKey, &m);
    exitNative(m);
    return m;
}

}  // namespace spanscope::detail

namespace spanscope::gc {
using namespace spanscope::detail;

RootBase::RootBase(void** slots, size_t n) : m_slots(slots), m_n(n) {
    Mutator& m = self();
    m.roots.pushFront(this);
}

RootBase::~RootBase() {
    Mutator& m = t_mut;
    m.roots.remove(this);
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

void poll() {
    safePoint(self());
}

void detachThread() {
    Mutator& m = t_mut;
    if (!m.attached) return;
    enterNative(m);
    LockGuard g(g_mutLock);  // not during a stop-the-world
    m.cache.releaseAll();
    m.work.flush();
    g_tinyAllocs.fetch_add(m.cache.tinyAllocs);  // readGCStats sums the attached threads' counts
    m.cache.tinyAllocs = 0;
    g_mutators.remove(&m);
    m.attached = false;
    m.cache.state = CacheState::TornDown;
}

void enterBlocking() {
    enterNative(t_mut);
}
void exitBlocking() {
    exitNative(t_mut);
}

bool validate(char* why, size_t cap) {
    Mutator& m = self();
    // Quiesce: no cycle in progress, every other mutator parked, every cache flushed.
    for (;;) {
        stopTheWorld(&m);
        if (g_gc.phase.load() == GCPhase::Off) break;
        startTheWorld();
        sched_yield();
    }
    for (Mutator* x : g_mutators) x->cache.releaseAll();
    bool ok = g_gcHeap.validate(why, cap);
    startTheWorld();
    return ok;
}

}  // namespace spanscope::gc
