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
    // Malloc mode: the thread's free cache, glibc's tcache (Go has none: nothing frees its heap
    // by hand). Per size class, up to kFreeCacheDepth objects this thread freed, handed out again
    // first and most recent first, so that a malloc after a free gets memory still in the CPU's
    // cache rather than a slot freed long ago. Linked through each object's first word (stored
    // XOR the object's address >> 12, glibc's safe-linking); its second word holds
    // g_freeCacheKey while cached, so a second free of it is found. The span's bitmaps still show
    // the object allocated until drainFreeCache gives it back (sweep generation, thread exit,
    // flushThreadCache); the malloc and free counters count it freed at once.
    void* freeHead[kNumSizeClasses];
    uint8_t freeRoom[kNumSizeClasses];  // how many more a class may hold; 0 unless Live
    // Malloc mode: this thread's frees into one bitmap word of a span it does not cache (the word
    // of its latest such free), held back and published together (one atomic OR instead of one per
    // object) when a free goes to another word or span, or the free cache drains. Until then the
    // span shows the objects allocated, as for the free cache. Open exactly when the free cache
    // is.
    MSpan* batchSpan;
    uint64_t batchMask;
    uint32_t batchWord;
    bool batchOpen;
    // The heap profile's buckets this thread's samples found last, by stack hash (mprof.cpp): a
    // hit spares the shared bucket table's chain head, a cache miss at every sample.
    uint64_t bucketHash[8];
    void* bucket[8];

    // Slow path of small allocation: the cached span for spc is full (or absent). Go's nextFree +
    // refill. Returns null only when out of memory.
    void* nextFree(uint8_t spc);
    // Go's refill: swaps the cached span for one with free slots.
    bool refill(uint8_t spc);
    // Go's releaseAll: uncache every span (malloc mode: after draining the free cache).
    void releaseAll();
    // Gives every object in the free cache back to its span (a free as freeFast's) and publishes
    // the batched remote frees; closes both when close is set (thread exit: later frees take the
    // ordinary path).
    void drainFreeCache(bool close);
};

// This thread's malloc-mode cache. Initial-exec TLS: one fs-relative load, no __tls_get_addr.
extern constinit thread_local MCache t_mcache __attribute__((tls_model("initial-exec")));

void initThreadCache(MCache* c);

// The free cache's depth per class, for slots of 16..1024 bytes; the 8-byte class has no second
// word for the key, larger ones gain little and hold more memory. glibc's tcache holds 7 per bin
// and has fastbins and its unsorted list behind it; 32 here (at most 312 KiB a thread, over its 30
// classes) took churn-mt from 0.85x to 1.0x glibc's speed and server +10% against 7, and 64 or 128
// gained nothing more (docs/BENCHMARKS.md).
inline constexpr uint8_t kFreeCacheDepth = 32;
inline constexpr size_t kFreeCacheMaxSize = 1024;
extern uintptr_t g_freeCacheKey;  // random, set when the heap is made
void mcacheForkPrepare();
void mcacheForkParent();
void mcacheForkChild();

}  // namespace spanscope::detail
