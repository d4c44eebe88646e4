// The managed heap's statistics and memory release (Go's mstats.go ReadMemStats and
// runtime/debug's FreeOSMemory). Reading stops the world and flushes every thread's mcache, as
// Go's ReadMemStats does, so the counts are exact; the heap keeps its statistics incrementally,
// so nothing walks the spans while the world is stopped. See mgc.h for how the collector is split.
#include "mgc.h"
#include "spanscope/detail/mheap.h"

namespace spanscope::gc {
using namespace spanscope::detail;

void readGCStats(GCStats* st) {
    Mutator& me = self();
    *st = GCStats{};
    stopTheWorld(&me);  // holds the mutator list: no thread detaches meanwhile
    uint64_t tiny = g_tinyAllocs.load();
    // Go's flushallmcaches: the spans each thread has cached go back, counting their allocations
    // (as a thread's exit does, at any phase).
    for (Mutator* m : g_mutators) {
        tiny += m->cache.tinyAllocs;
        m->cache.releaseAll();
    }
    g_gcHeap.readStats(st->heap);
    startTheWorld();
    // Go counts each tiny allocation as a malloc and a free (the block is the heap object).
    st->heap.Mallocs += tiny;
    st->heap.Frees += tiny;
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
    st->tinyAllocs = tiny;
    double elapsed = static_cast<double>(nanotime() - g_processStart) * g_procs;
    st->gcCPUFraction = elapsed > 0 ? static_cast<double>(g_gcCpuNs.load()) / elapsed : 0;
}

// Go's debug.FreeOSMemory: a full collection (runtime.GC), then every free page released.
void freeOSMemory() {
    collect();
    g_gcHeap.releaseAllFree();
}

}  // namespace spanscope::gc
