// mcache (Go's mcache.go): the per-thread cache of one span per span class. Go has one per P; a
// thread here plays the P's part. No locks on the fast path; refill and flush are the slow paths.
#pragma once
#include <cstddef>
#include <cstdint>

#include "spanscope/detail/mspan.h"
#include "spanscope/detail/sizeclasses.h"

namespace spanscope::detail {

class MHeap;

// A thread cache's life: zero-initialised (New) in static TLS, Live from its first slow path,
// TornDown at thread exit (or in a fork child, for the threads the fork left behind).
enum class CacheState : uint8_t { New = 0, Live = 1, TornDown = 2 };

struct MCache {
    MSpan* alloc[kNumSpanClasses];  // null = nothing cached (Go's emptymspan)
    uintptr_t tiny, tinyoffset;
    uint64_t tinyAllocs;
    int64_t nextSample;  // bytes until the next heap-profile sample (Go's nextSample, mprof.h)
    bool sampleSeeded;   // nextSample drawn at least once
    MHeap* heap;         // null until the thread's first slow-path allocation
    uint32_t flushGen;   // heap sweepgen at the last flush (Go's prepareForSweep)
    CacheState state;    // re-initialised if used again once torn down
    uint8_t destructorRounds;
    int tid;                // kernel thread id of the owning thread
    int64_t heapLiveDelta;  // unflushed heapLive change (see MHeap::addHeapLive)
    uint64_t mallocs[kNumSizeClasses];
    uint64_t frees[kNumSizeClasses];
    // Bytes asked for (not slot bytes), by span class: one add on the allocation fast path; moved
    // into the heap's per-class totals at refill and flush (MHeap::flushRequested).
    uint64_t requested[kNumSpanClasses];
    MCache* listNext;  // every live mcache, for fork
    MCache* listPrev;

    // Slow path of small allocation: the cached span for spc is full (or absent). Go's nextFree +
    // refill. Returns null only when out of memory.
    void* nextFree(uint8_t spc);
    // Go's refill: swaps the cached span for one with free slots.
    bool refill(uint8_t spc);
    // Go's releaseAll: uncache every span.
    void releaseAll();
};

// This thread's malloc-mode cache. Initial-exec TLS: one fs-relative load, no __tls_get_addr.
extern constinit thread_local MCache t_mcache __attribute__((tls_model("initial-exec")));

void initThreadCache(MCache* c);
void mcacheForkPrepare();
void mcacheForkParent();
void mcacheForkChild();

}  // namespace spanscope::detail
