// mspan (Go's mheap.go/mbitmap.go): a run of pages holding objects of one span class, with the
// allocation cache, alloc and mark bitmaps, and sweepgen. nextFreeFast is the allocation fast path.
// See spanscope/allocator.h for the overview.
#pragma once
#include <cstddef>
#include <cstdint>

#include "spanscope/allocator.h"
#include "spanscope/detail/platform.h"
#include "spanscope/detail/sizeclasses.h"

namespace spanscope::detail {

struct MCache;
class MHeap;

// Span states (Go's mSpanState), and where a span sits: the mcentral set or mcache holding it.
//
//   Dead --allocSpan--> InUse --(cacheSpan)--> Cached --(uncacheSpan/sweep)--> PartialSwept
//    ^                    |                                                    / FullSwept
//    +----freeSpan--------+<-- sweep finds no live object ---------------------+
//
// sweepgen h (the heap's, +2 per cycle): s.sweepgen == h-2 needs sweeping, h-1 being swept,
// h swept, h+1 cached before this sweep generation began, h+3 swept and then cached.
enum class SpanState : uint8_t { Dead = 0, InUse = 1, Manual = 2 };
using spanscope::SpanWhere;

struct alignas(64) MSpan {
    // First cache line: read-mostly fields that every free() and malloc() reads. Other threads'
    // frees read it, so nothing the owner writes on each allocation lives here.
    uintptr_t startAddr;
    uint64_t* allocBits;  // 1 = allocated as of the last sweep (atomic pointer)
    uint64_t* freeBits;   // malloc mode: frees by other threads (atomic fetch_or); the owner's
                          // own frees follow at freeBits + nwords (localFreeBits)
    MCache* owner;        // mcache holding the span, or null (atomic)
    uint32_t elemsize;
    uint32_t divMul;  // objIndex = ((p - base) * divMul) >> 32
    uint16_t nelems;
    uint16_t sweepThreshold;  // pendingFrees at which the span asks mcentral for a sweep
    uint16_t nwords;          // words per bitmap
    uint8_t spanclass;
    uint8_t state;  // SpanState, atomic
    uint8_t where;  // SpanWhere, atomic
    uint8_t needzero;
    uint16_t
        nsampled;  // heap-profile samples live in this span (mprof.cpp); free() looks only here
    uint8_t
        freeGrain;  // malloc mode: remote frees are counted into pendingFrees this many at a time
    // Bit idx % 64 set for each slot idx that holds a heap-profile sample (a filter, cleared when
    // the span's last sample goes): a free whose bit is clear needs no profiler lock.
    uint64_t sampledSlots;

    // Second cache line: what the owner writes on every allocation, then slow-path fields.
    alignas(64) uint64_t
        allocCache;      // inverted allocBits window, bit 0 = slot freeindex (1 = free)
    uint16_t freeindex;  // slots below are allocated; read by other threads' free()
    uint16_t allocCount;
    uint16_t allocCountBeforeCache;
    uint8_t managed;    // 1: swept by the collector (marks); 0: malloc mode (free bits)
    uint32_t sweepgen;  // atomic
    uintptr_t npages;
    uint64_t* gcmarkBits;   // managed mode: marks; malloc mode: built at sweep, then swapped in
    uintptr_t limit;        // end of data; for a large span, base + requested size
    const void* largeType;  // managed mode: the gc::Type of a large object (Go's largeType)

    // Third cache line: written by other threads' frees and under the mcentral lock.
    alignas(64) uint16_t pendingFrees;  // malloc mode: frees by other threads since the last sweep
    MSpan* next;                        // mcentral set links
    MSpan* prev;
    MSpan* allNext;  // allspans
    MSpan* allPrev;
    // A large span's heap-profile sample, while nsampled is 1 (Go attaches a profile special to
    // the span): its bucket, bytes (bit 63: managed heap) and slot in mprof.cpp's list of large
    // spans holding one. Under the profiler's lock.
    void* profBucket;
    uint64_t profBytes;
    uint32_t profSlot;

    uint64_t* localFreeBits() const { return freeBits + nwords; }
    uintptr_t base() const { return startAddr; }
    uintptr_t end() const { return startAddr + npages * kPageSize; }
    // The object at p may be a heap-profile sample (sampledSlots; never a false no).
    SPANSCOPE_INLINE bool maybeSampled(uintptr_t p) const {
        const uint64_t m = __atomic_load_n(&sampledSlots, __ATOMIC_RELAXED);
        return m && ((m >> ((isLarge() ? 0 : objIndex(p)) % 64)) & 1);
    }
    bool isLarge() const { return spanClassSize(spanclass) == 0; }
    // Managed mode, a small pointerful span (objects of at most 512 B): its heap bits, one bit per
    // word, in the span's last npages*8192/64 bytes (Go 1.22's heapBitsInSpan layout).
    uint8_t* heapBits() const {
        return reinterpret_cast<uint8_t*>(end() - npages * kPageSize / 64);
    }
    size_t heapBitsBytes() const { return npages * kPageSize / 64; }

    SPANSCOPE_INLINE size_t objIndex(uintptr_t p) const {
        return static_cast<size_t>((static_cast<uint64_t>(p - startAddr) * divMul) >> 32);
    }

    // Go's nextFreeFast: one count-trailing-zeros on the cached window.
    SPANSCOPE_INLINE void* nextFreeFast() {
        uint64_t cache = allocCache;
        if (SPANSCOPE_UNLIKELY(cache == 0)) return nullptr;
        unsigned b = static_cast<unsigned>(__builtin_ctzll(cache));
        unsigned r = freeindex + b;
        if (SPANSCOPE_UNLIKELY(r >= nelems)) return nullptr;
        unsigned fi = r + 1;
        if (SPANSCOPE_UNLIKELY((fi & 63) == 0 && fi != nelems)) return nullptr;
        cache = (cache >> b) >> 1;
        allocCache = cache;
        storeRelaxed(freeindex, static_cast<uint16_t>(fi));
        storeRelaxed(allocCount, static_cast<uint16_t>(allocCount + 1));
        // The next object of this class will come from the next free slot: start pulling its
        // cache line in now (slots are reused only after a sweep, so they are usually cold).
        __builtin_prefetch(
            reinterpret_cast<void*>(startAddr +
                                    size_t{fi + (cache ? __builtin_ctzll(cache) : 0)} * elemsize),
            1, 3);
        return reinterpret_cast<void*>(startAddr + size_t{r} * elemsize);
    }

    // Go's nextFreeIndex: reloads the cache at 64-slot boundaries; returns nelems when full.
    uint16_t nextFreeIndex();
    void refillAllocCache(size_t word) { allocCache = ~loadRelaxed(allocBits[word]); }
    // Points the cache at freeindex (Go's cacheSpan step 6).
    void resetAllocCache() {
        size_t w = freeindex / 64;
        allocCache = w < nwords ? ~loadRelaxed(allocBits[w]) >> (freeindex % 64) : 0;
    }

    // Malloc mode: a span is worth caching ("partial") only with at least sweepThreshold free
    // slots; with fewer it waits in the full sets until frees or the next generation free more.
    bool hasRoom() const { return static_cast<unsigned>(nelems - allocCount) >= sweepThreshold; }
    bool wantsSweep() const {
        return __atomic_load_n(&pendingFrees, __ATOMIC_SEQ_CST) >= sweepThreshold;
    }
    SpanWhere whereNow() const {
        return static_cast<SpanWhere>(__atomic_load_n(&where, __ATOMIC_RELAXED));
    }
    void setWhere(SpanWhere w) {
        __atomic_store_n(&where, static_cast<uint8_t>(w), __ATOMIC_RELAXED);
    }

    // As of now: below freeindex, or allocBits set. freeindex first: a sweep publishes the new
    // allocBits before it resets freeindex.
    SPANSCOPE_INLINE bool isAllocated(size_t idx) const {
        size_t fi = __atomic_load_n(&freeindex, __ATOMIC_ACQUIRE);
        if (idx < fi) return true;
        const uint64_t* bits = __atomic_load_n(&allocBits, __ATOMIC_ACQUIRE);
        return (loadRelaxed(bits[idx / 64]) >> (idx % 64)) & 1;
    }
    size_t countAllocatedSlow() const;  // |allocBits U [0, freeindex)|
    // Word w of (allocBits | slots below freeindex), and the mask of slots below nelems.
    uint64_t allocatedWord(size_t w) const {
        const size_t lo = w * 64, fi = freeindex;
        if (fi >= lo + 64) return ~0ull;
        uint64_t a = loadRelaxed(allocBits[w]);
        return fi > lo ? a | ((1ull << (fi - lo)) - 1) : a;
    }
    uint64_t validMask(size_t w) const {
        const size_t lo = w * 64;
        return nelems - lo >= 64 ? ~0ull : (1ull << (nelems - lo)) - 1;
    }
};

static_assert(offsetof(MSpan, allocCache) == 64 && offsetof(MSpan, pendingFrees) == 128 &&
                  sizeof(MSpan) == 192,
              "MSpan cache-line layout");

// Malloc-mode sweep (Go's sweepLocked.sweep with free bits standing in for marks): the caller
// owns the span (claimed through sweepgen, or it is the owning mcache). Builds the new allocBits
// as allocated & ~freed, swaps them in, resets freeindex. Returns the number of objects freed.
size_t sweepMallocSpan(MSpan* s);
// Managed-mode sweep (Go's sweepLocked.sweep): allocBits = gcmarkBits, fresh mark bits.
size_t sweepManagedSpan(MSpan* s);
inline size_t sweepSpan(MSpan* s) {
    return s->managed ? sweepManagedSpan(s) : sweepMallocSpan(s);
}

}  // namespace spanscope::detail
