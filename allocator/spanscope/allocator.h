// spanscope's allocator: Go's memory allocator (runtime/malloc.go and friends) in C++.
//
// Overview (Go's malloc.go essay, adapted; docs/ARCHITECTURE.md has the long form)
// ---------------------------------------------------------------------------------
// Memory is reserved from the OS in 64 MiB arenas and handed out in 8 KiB pages by a page allocator
// (pagealloc: bitmaps plus a radix tree of summaries, lowest address first). A run of pages holding
// objects of one size class is an mspan; 67 size classes cover 8 B .. 32 KiB (Go's table), and
// larger objects get a span of their own (class 0). The page -> span map (arena index) finds the
// span of any pointer in O(1).
//
// Allocating a small object:
//   1. Round the size up to a size class; look in this thread's mcache at its span for that class.
//   2. nextFreeFast: count trailing zeros of the span's allocCache (inverted allocBits); take the
//      slot. No lock, no atomic RMW. (Allocation never writes allocBits.)
//   3. If the span is full, refill: give it back to its mcentral (uncacheSpan) and get a span with
//      free slots (cacheSpan): swept partial spans first, then sweep unswept ones, else a new span
//      from the mheap, which grows the heap by 4 MiB steps if its pages run out.
// Freeing (malloc mode): free(p) finds the span, computes the slot index by multiplication, and
// sets the slot's bit in the span's free bitmap (an atomic OR; a plain OR when this thread's mcache
// holds the span). Nothing is reused yet. Sweeping a span builds its next allocBits as allocated &
// ~freed, swaps them in and resets freeindex; a span left with no objects goes back to the page
// heap. Spans are swept when their owner's mcache runs out, when mcentral searches for space, and
// in sweep generations (sweepgen += 2) started as the heap grows, as Go sweeps after GC. A
// background thread sweeps and returns free pages to the OS (scavenger) toward Go's retained goal
// of 110% of the in-use heap.
//
// Managed mode (the garbage collector) uses the same spans with mark bits instead of free bits.
#pragma once
#include <cstddef>
#include <cstdint>

#include "spanscope/detail/sizeclasses.h"

namespace spanscope {

// Go's runtime.MemStats, the heap part. Byte buckets add up: HeapSys = HeapInuse + HeapIdle,
// HeapIdle = free-but-retained + HeapReleased, Sys = HeapSys + MSpanSys + GCSys + OtherSys.
struct MemStats {
    uint64_t HeapAlloc;   // bytes of allocated objects (slot or page-rounded sizes)
    uint64_t TotalAlloc;  // cumulative bytes allocated
    uint64_t Mallocs, Frees;
    uint64_t HeapObjects;
    uint64_t HeapSys;       // heap bytes mapped read/write
    uint64_t HeapInuse;     // bytes in in-use spans
    uint64_t HeapIdle;      // bytes in free pages
    uint64_t HeapReleased;  // free pages returned to the OS
    uint64_t MSpanInuse, MSpanSys;
    uint64_t GCSys;     // span bitmaps
    uint64_t OtherSys;  // arena records and page-allocator metadata
    uint64_t Sys;
    uint64_t NextSweep;  // malloc mode: heapLive at which the next sweep generation starts;
                         // managed heap: the heap goal (Go's NextGC)
    uint64_t HeapLive;   // Go's heapLive: allocated plus free slots in cached spans
    uint64_t NumSweepCycles;
    uint64_t LargestFreeRunBytes;
    struct BySize {
        uint32_t Size;
        uint64_t Mallocs, Frees;
        uint64_t Spans;           // in-use spans of this class (walk)
        uint64_t RequestedBytes;  // cumulative bytes asked for (malloc's or alloc's size argument);
                                  // a thread's latest are counted at its next refill of the class
    } BySize[kNumSizeClasses];
};

// Where a span is (Go's spans move between these): taken from the heap but not yet placed, cached
// in a thread's mcache, in its mcentral's partial/full x swept/unswept sets, or a large object.
// Session files store these numbers (docs/session-format.md).
enum class SpanWhere : uint8_t {
    None = 0,
    Cached = 1,
    PartialSwept = 2,
    PartialUnswept = 3,
    FullSwept = 4,
    FullUnswept = 5,
    Large = 6,
};

// One span as seen by walkSpans (for the attach rundown, snapshots and the GUI's heap map).
struct SpanInfo {
    uintptr_t base;
    uint32_t npages;
    uint8_t spanClass;  // sizeclass << 1 | noscan; class 0 = large
    uint8_t where;      // SpanWhere: cached, partial/full, swept/unswept, large
    uint8_t needzero;
    uint8_t dirty;  // enough frees since its last sweep to be queued for sweeping
    uint16_t nelems, allocCount, freeindex;
    uint32_t elemsize;
    uint32_t sweepgen;
    int ownerTid;               // thread whose mcache holds it, or 0
    const uint64_t* allocBits;  // nwords words, valid during the callback only
    const uint64_t* freeBits;   // pending frees (malloc mode), valid during the callback only
    uint16_t nwords;
};
// Calls fn for every in-use span of the malloc-mode heap, then of the managed heap, lowest address
// first not guaranteed, with that heap's locks held: allocation slow paths wait meanwhile, and fn
// must not allocate from the spanscope heap. Returns the managed heap's sweepgen if it exists,
// else the malloc-mode heap's.
uint32_t walkSpans(void (*fn)(const SpanInfo&, void* ctx), void* ctx);

// Malloc-mode heap (the one libspanscope.so's malloc uses).
void* ssMalloc(size_t size);
void ssFree(void* p);
void* ssCalloc(size_t n, size_t size);
void* ssRealloc(void* p, size_t size);
void* ssAlignedAlloc(size_t align, size_t size);  // align: power of two
size_t ssUsableSize(const void* p);               // 0 if p is not ours

// Statistics of the malloc-mode heap. Flushes the calling thread's cache counters first; other
// threads' counts are exact once they refill or exit.
void readMemStats(MemStats* st);
// The managed (garbage-collected) heap's MemStats, read without making the caller a mutator (for
// the probe's drain thread). False if the managed heap was never used.
bool readManagedMemStats(MemStats* st);
// Returns this thread's cached spans to their mcentrals (as a thread exit does).
void flushThreadCache();
// Checks every invariant of spans, bitmaps, mcentral sets, the page allocator and the statistics.
// Requires that no other thread allocates meanwhile. On failure writes the reason into why.
bool validateHeap(char* why = nullptr, size_t cap = 0);
// Starts a sweep generation now and finishes it (sweeps every span). Tests and the demo use it.
void sweepAll();
// Releases every free page to the OS (Go's debug.FreeOSMemory after a sweep).
void releaseFreeMemory();

}  // namespace spanscope
