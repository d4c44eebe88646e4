// The managed heap's statistics (Go's mstats.go ReadMemStats and runtime/debug's GC stats).
// See mgc.h for how the collector is split.
#include "mgc.h"
#include "spanscope/detail/mheap.h"

namespace spanscope::gc {
using namespace spanscope::detail;

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

}  // namespace spanscope::gc
