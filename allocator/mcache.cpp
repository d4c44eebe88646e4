// mcache slow paths: Go's nextFree, refill and releaseAll, plus thread start/exit and fork.
// See spanscope/allocator.h for the overview.
#include "spanscope/detail/mcache.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "spanscope/detail/emit.h"
#include "spanscope/detail/intrusive_list.h"
#include "spanscope/detail/malloc_inline.h"
#include "spanscope/detail/mheap.h"
#include "spanscope/detail/mprof.h"

namespace spanscope::detail {

constinit thread_local MCache t_mcache __attribute__((tls_model("initial-exec"))) = {};
uintptr_t g_freeCacheKey = 0;

namespace {
SpinLock g_cacheListLock;
IntrusiveList<MCache, &MCache::listNext, &MCache::listPrev> g_cacheList;  // every live mcache
pthread_key_t g_exitKey;
std::atomic<bool> g_keyReady{false};

void unlinkCache(MCache* c) {
    if (g_cacheList.contains(c)) g_cacheList.remove(c);
}

// Thread exit (pthread key destructor): give every cached span back, as Go does for a destroyed P.
void threadExit(void* arg) {
    auto* c = static_cast<MCache*>(arg);
    if (c->state != CacheState::Live) return;
    c->drainFreeCache(true);
    c->releaseAll();
    {
        LockGuard g(g_cacheListLock);
        unlinkCache(c);
    }
    c->state = CacheState::TornDown;
    SPANSCOPE_RECORD(threadExit());
}

SpinLock g_initLock;
std::atomic<bool> g_forkRegistered{false};

// Fork handlers registered before the heap is first initialised, so that no fork can copy a lock
// held by a thread that is initialising the heap or already allocating from it: g_initLock is
// held across fork, and once the heap exists every allocator lock too (mcacheFork*).
void heapForkPrepare() {
    g_initLock.lock();
    if (g_mallocHeap.initialized()) mcacheForkPrepare();
}
void heapForkParent() {
    if (g_mallocHeap.initialized()) mcacheForkParent();
    g_initLock.unlock();
}
void heapForkChild() {
    if (g_mallocHeap.initialized()) mcacheForkChild();
    g_initLock.unlock();
}

// Before any lock: pthread_atfork may itself allocate (a nested call finds the flag set).
void registerHeapForkHandlers() {
    if (!g_forkRegistered.exchange(true))
        pthread_atfork(heapForkPrepare, heapForkParent, heapForkChild);
}

// At load, before the program has threads, if no allocation came first: registered by the first
// allocating thread instead, the handlers could miss a fork another thread had begun (glibc lets
// handlers be registered while prepare handlers run, and runs none of the new ones for that fork),
// whose child would inherit g_initLock held.
__attribute__((constructor)) void registerHeapForkHandlersAtLoad() {
    registerHeapForkHandlers();
}

void ensureHeap() {
    if (SPANSCOPE_LIKELY(g_mallocHeap.initialized())) return;
    registerHeapForkHandlers();
    LockGuard g(g_initLock);
    if (!g_mallocHeap.initialized()) {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        g_freeCacheKey = (static_cast<uintptr_t>(ts.tv_nsec) ^ reinterpret_cast<uintptr_t>(&ts) ^
                          static_cast<uintptr_t>(getpid()) << 32) *
                             0x9e3779b97f4a7c15ull |
                         1;
        g_mallocHeap.init(false);
        if (pthread_key_create(&g_exitKey, threadExit) == 0) g_keyReady.store(true);
    }
}
}  // namespace

void initThreadCache(MCache* c) {
    AllocatorWorkScope
        own;  // pthread_atfork's and pthread_setspecific's blocks are the allocator's
    ensureHeap();
    c->heap = &g_mallocHeap;
    c->tid = currentTid();
    c->flushGen = g_mallocHeap.sweepgen();
    c->state = CacheState::Live;
    {
        LockGuard g(g_cacheListLock);
        g_cacheList.pushFront(c);
    }
    // The free cache opens only when threadExit will run for this cache and drain it (a cache
    // re-made in a thread's last destructor rounds, or before the key exists, never is).
    if (g_keyReady.load() && c->destructorRounds++ < 3 && pthread_setspecific(g_exitKey, c) == 0) {
        for (int cls = 1; cls < kNumSizeClasses; cls++)
            c->freeRoom[cls] = kClassToSize[cls] >= 16 && kClassToSize[cls] <= kFreeCacheMaxSize
                                   ? kFreeCacheDepth
                                   : 0;
        c->batchOpen = true;
    }
    SPANSCOPE_RECORD(threadStart());
}

// Malloc mode: the frees a sweep of s would find now (the owner's and other threads').
static size_t pendingFrees(const MSpan* s) {
    size_t n = 0;
    for (size_t w = 0; w < s->nwords; w++)
        n += popcount64Hot(s->localFreeBits()[w] | loadRelaxed(s->freeBits[w]));
    return n;
}

// Takes the span out of the cache and settles its counts; the caller hands it to mcentral.
static MSpan* detachOne(MCache* c, uint8_t spc) {
    MSpan* s = c->alloc[spc];
    c->alloc[spc] = nullptr;
    MHeap& h = *c->heap;
    h.addMallocs(spanClassSize(spc), s->allocCount - s->allocCountBeforeCache);
    // Go's releaseAll: the free slots counted into heapLive at refill were never used.
    h.addHeapLive(
        -static_cast<int64_t>(static_cast<size_t>(s->nelems - s->allocCount) * s->elemsize));
    h.flushClassStats(c, spanClassSize(spc));
    return s;
}

// SpanRefill's flags: the new span was swept on the way, an old span was handed back (full?).
// SpanRefill's account of the span a refill hands back (none: a default HandedBack).
static record::HandedBack handedBack(const MSpan* old) {
    if (!old) return {};
    return {old->startAddr, old->allocCount, old->allocCount == old->nelems};
}

static void uncacheOne(MCache* c, uint8_t spc, bool swept = false) {
    MSpan* s = detachOne(c, spc);
    c->heap->central(spc).uncacheSpan(*c->heap, s, swept);
}

void MCache::drainFreeCache(bool close) {
    for (int cls = 1; cls < kNumSizeClasses; cls++) {
        while (void* obj = freeHead[cls]) {
            freeHead[cls] = freeCacheNext(obj);
            static_cast<uintptr_t*>(obj)[1] = 0;
            freeRoom[cls]++;
            // Counted freed when cached; the sweep that reclaims the slot counts it again.
            frees[cls]--;
            // Never a heap-profile sample: a sampled object's free is counted (freeSampled)
            // before it enters the cache, and one the cache hands out is sampled, if at all,
            // when it leaves.
            freeSmall(spanOf(reinterpret_cast<uintptr_t>(obj)), obj);
        }
        if (close) freeRoom[cls] = 0;
    }
    publishFreeBatch(*this);
    if (close) batchOpen = false;
}

void MCache::releaseAll() {
    if (!heap) return;
    if (!heap->managed()) drainFreeCache(false);
    for (int spc = 0; spc < kNumSpanClasses; spc++)
        if (alloc[spc]) uncacheOne(this, static_cast<uint8_t>(spc));
    tiny = tinyoffset = 0;
    heap->flushThreadStats(this);
    flushGen = heap->sweepgen();
}

bool MCache::refill(uint8_t spc) {
    MHeap& h = *heap;
    if (requested[spc]) h.flushRequested(this, spc);
    // Go's prepareForSweep: a new sweep generation began since this cache last flushed.
    if (flushGen != h.sweepgen()) releaseAll();
    // Malloc mode hands the old span back after the new one is cached, so that one SpanRefill
    // record, emitted before anyone else can take the old span, tells both. (Managed mode keeps
    // Go's order: a GC cycle may begin on this thread in between, and the old span must be placed
    // in the cycle it was swept for.)
    MSpan* old = nullptr;
    bool oldSwept = false;
    if (MSpan* s = alloc[spc]; s && s->managed) {
        uncacheOne(this, spc, true);
    } else if (s && pendingFrees(s) < s->sweepThreshold) {
        // Too few frees since the last sweep to make the span worth keeping (hasRoom's rule):
        // hand it back unswept; mcentral sweeps it once its frees reach the threshold, as Go
        // sweeps a span once per cycle rather than on every refill.
        old = detachOne(this, spc);
    } else if (s) {
        // The owner's mcache ran out: sweep its span in place. If that freed enough slots, keep it
        // (the slots are reused without a trip through mcentral); otherwise hand it back.
        h.addMallocs(spanClassSize(spc), s->allocCount - s->allocCountBeforeCache);
        size_t nfreed = sweepMallocSpan(s);
        h.noteSwept(s, nfreed);
        h.addHeapLive(
            static_cast<int64_t>(nfreed * s->elemsize));  // free slots of a cached span count
        s->allocCountBeforeCache = s->allocCount;
        if (s->hasRoom()) return true;
        old = detachOne(this, spc);
        oldSwept = true;
    }
    h.maybeStartCycle();
    if (flushGen != h.sweepgen()) releaseAll();
    long sweptFreed = -1;
    MSpan* s = h.central(spc).cacheSpan(h, &sweptFreed);
    if (!s) {
        if (old) h.central(spc).uncacheSpan(h, old, oldSwept);
        return false;
    }
    __atomic_store_n(&s->owner, this, __ATOMIC_RELEASE);
    s->setWhere(SpanWhere::Cached);
    __atomic_store_n(&s->sweepgen, h.sweepgen() + 3, __ATOMIC_RELEASE);
    s->allocCountBeforeCache = s->allocCount;
    s->resetAllocCache();
    h.addHeapLive(
        static_cast<int64_t>(static_cast<size_t>(s->nelems - s->allocCount) * s->elemsize));
    alloc[spc] = s;
    SPANSCOPE_RECORD(spanRefill(spc, s->startAddr, s->npages, s->allocCount, s->nelems, sweptFreed,
                                handedBack(old)));
    if (old) h.central(spc).uncacheSpan(h, old, oldSwept, /*emit=*/false);
    return true;
}

void* MCache::nextFree(uint8_t spc) {
    if (SPANSCOPE_UNLIKELY(state != CacheState::Live)) initThreadCache(this);
    MSpan* s = alloc[spc];
    if (s) {
        uint16_t idx = s->nextFreeIndex();
        if (idx < s->nelems) {
            storeRelaxed(s->allocCount, static_cast<uint16_t>(s->allocCount + 1));
            return reinterpret_cast<void*>(s->startAddr + size_t{idx} * s->elemsize);
        }
    }
    if (!refill(spc)) return nullptr;
    s = alloc[spc];
    uint16_t idx = s->nextFreeIndex();
    if (idx >= s->nelems) fatal("refill returned a full span of class %d", spanClassSize(spc));
    storeRelaxed(s->allocCount, static_cast<uint16_t>(s->allocCount + 1));
    return reinterpret_cast<void*>(s->startAddr + size_t{idx} * s->elemsize);
}

void mcacheForkPrepare() {
    g_cacheListLock.lock();
    g_mallocHeap.lockAll();
}

void mcacheForkParent() {
    g_mallocHeap.unlockAll();
    g_cacheListLock.unlock();
}

void mcacheForkChild() {
    g_mallocHeap.unlockAll();
    g_cacheListLock.unlock();
    // Only the forking thread survives: every other thread's cached spans go back to mcentral,
    // so the child's heap is consistent (their local frees are merged by the sweep).
    MCache* self = &t_mcache;
    for (MCache* c = g_cacheList.first(); c;) {
        MCache* next = g_cacheList.next(c);
        if (c != self) {
            c->drainFreeCache(true);  // the program freed them: free in the child too
            c->releaseAll();
            unlinkCache(c);
            c->state = CacheState::TornDown;
        }
        c = next;
    }
    g_mallocHeap.repairAfterFork(self->state == CacheState::Live ? self : nullptr);
    g_mallocHeap.resetAfterFork();
}

}  // namespace spanscope::detail
