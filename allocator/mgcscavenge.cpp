// Releasing memory to the OS (Go's mgcscavenge.go): the retained-memory goal, the scavenger's
// top-down release of free pages in 64 KiB steps, and FreeOSMemory's release of everything free.
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <cstdlib>

#include "spanscope/detail/emit.h"
#include "spanscope/detail/mcache.h"
#include "spanscope/detail/mheap.h"

namespace spanscope::detail {

size_t MHeap::retainedGoal() const {
    // Go's gcPaceScavenger: 10% over the in-use heap at the last completed sweep
    // (retainExtraPercent). Go has no goal before its first GC; malloc mode uses the in-use heap
    // of the moment until the first sweep generation completes.
    if (m_managed) {
        uint64_t g =
            m_scavGoal.load(std::memory_order_relaxed);  // from the pacer (gcPaceScavenger)
        return g ? g : SIZE_MAX;
    }
    uint64_t inuse = m_lastHeapInUse.load(std::memory_order_relaxed);
    if (inuse == 0) inuse = m_heapInUse;  // the caller holds m_lock
    return (inuse + inuse / 10 + 4095) & ~size_t{4095};
}

void MHeap::releaseAllFree() {
    {
        LockGuard g(m_lock);
        flushReserveLocked();
    }
    for (;;) {
        scavenge(SIZE_MAX, true);
        {
            LockGuard g(m_lock);
            if (m_scavInFlight == 0) return;
        }
        sched_yield();  // the background scavenger is between its madvise and its bookkeeping
    }
}

size_t MHeap::scavenge(size_t maxBytes, bool force) {
    size_t released = 0;
    while (released < maxBytes) {
        uintptr_t base = 0;
        size_t left = maxBytes - released;
        size_t want = left >= kScavengeQuantum ? kScavengeQuantum / kPageSize
                                               : (left + kPageSize - 1) / kPageSize;
        size_t n = 0, scav = 0;
        {
            LockGuard g(m_lock);
            if (!force && m_heapInUse + m_heapFree <= retainedGoal()) break;
            n = m_pages.findScavengeCandidate(want, &base);
            if (!n) break;
            // Take the pages so nobody allocates them while the lock is dropped (as Go does).
            m_pages.allocExact(base, n, &scav);
            m_heapFree -= n * kPageSize;
            m_scavInFlight += n * kPageSize;
        }
        m_source->unused(reinterpret_cast<void*>(base), n * kPageSize);
        {
            LockGuard g(m_lock);
            m_pages.free(base, n);
            m_pages.markScavenged(base, n);
            m_heapReleased += n * kPageSize;
            m_scavInFlight -= n * kPageSize;
            m_scavengedTotal += n * kPageSize;
        }
        SPANSCOPE_RECORD(scavenge(base, n));
        released += n * kPageSize;
    }
    return released;
}

}  // namespace spanscope::detail
