// mspan slow paths: Go's nextFreeIndex and the malloc-mode sweep. See spanscope/allocator.h.
#include "spanscope/detail/mspan.h"

namespace spanscope::detail {

uint16_t MSpan::nextFreeIndex() {
    unsigned sfreeindex = freeindex;
    const unsigned snelems = nelems;
    if (sfreeindex >= snelems) return static_cast<uint16_t>(snelems);
    unsigned bitIndex = allocCache ? static_cast<unsigned>(__builtin_ctzll(allocCache)) : 64;
    while (bitIndex == 64) {
        // Move to the next 64-slot window and reload the cache from allocBits.
        sfreeindex = (sfreeindex + 64) & ~63u;
        if (sfreeindex >= snelems) {
            storeRelaxed(freeindex, static_cast<uint16_t>(snelems));
            return static_cast<uint16_t>(snelems);
        }
        refillAllocCache(sfreeindex / 64);
        bitIndex = allocCache ? static_cast<unsigned>(__builtin_ctzll(allocCache)) : 64;
    }
    unsigned result = sfreeindex + bitIndex;
    if (result >= snelems) {
        storeRelaxed(freeindex, static_cast<uint16_t>(snelems));
        return static_cast<uint16_t>(snelems);
    }
    allocCache = (allocCache >> bitIndex) >> 1;
    sfreeindex = result + 1;
    if (sfreeindex % 64 == 0 && sfreeindex != snelems) refillAllocCache(sfreeindex / 64);
    storeRelaxed(freeindex, static_cast<uint16_t>(sfreeindex));
    return static_cast<uint16_t>(result);
}

size_t MSpan::countAllocatedSlow() const {
    size_t n = 0;
    for (size_t i = 0; i < nelems; i++) n += isAllocated(i);
    return n;
}

size_t sweepMallocSpan(MSpan* s) {
    const size_t nw = s->nwords, nelems = s->nelems, fi = s->freeindex;
    uint64_t* alloc = s->allocBits;
    uint64_t* next = s->gcmarkBits;
    size_t nalloc = 0;
    // Cleared before the free bits are read: frees that land later count toward the next sweep.
    __atomic_store_n(&s->pendingFrees, uint16_t{0}, __ATOMIC_SEQ_CST);
    for (size_t w = 0; w < nw; w++) {
        const size_t lo = w * 64;
        uint64_t allocated = loadRelaxed(alloc[w]);
        if (fi >= lo + 64) allocated = ~0ull;
        else if (fi > lo) allocated |= (1ull << (fi - lo)) - 1;
        // Frees that land after the exchange stay for the next sweep.
        uint64_t freed = __atomic_exchange_n(&s->freeBits[w], 0, __ATOMIC_ACQ_REL) | s->localFreeBits()[w];
        storeRelaxed(s->localFreeBits()[w], uint64_t{0});
        uint64_t live = allocated & ~freed;
        if (nelems - lo < 64) live &= (1ull << (nelems - lo)) - 1;
        storeRelaxed(next[w], live);
        nalloc += static_cast<size_t>(popcount64(live));
    }
    size_t nfreed = s->allocCount - nalloc;
    // allocBits = gcmarkBits (Go's sweep step 5); the old array becomes the next scratch bitmap.
    __atomic_store_n(&s->allocBits, next, __ATOMIC_RELEASE);
    s->gcmarkBits = alloc;
    storeRelaxed(s->allocCount, static_cast<uint16_t>(nalloc));
    __atomic_store_n(&s->freeindex, static_cast<uint16_t>(0), __ATOMIC_RELEASE);
    s->resetAllocCache();
    if (nfreed) s->needzero = 1;
    return nfreed;
}

size_t sweepManagedSpan(MSpan* s) {
    const size_t nw = s->nwords, nelems = s->nelems;
    uint64_t* marks = s->gcmarkBits;
    size_t nalloc = 0;
    for (size_t w = 0; w < nw; w++) {
        const size_t lo = w * 64;
        uint64_t m = loadRelaxed(marks[w]);
        if (nelems - lo < 64) m &= (1ull << (nelems - lo)) - 1;
        // Zombie check (Go's sweep step 3): a mark on a free slot means a dangling pointer.
        uint64_t allocated = loadRelaxed(s->allocBits[w]);
        if (s->freeindex >= lo + 64) allocated = ~0ull;
        else if (s->freeindex > lo) allocated |= (1ull << (s->freeindex - lo)) - 1;
        if (m & ~allocated)
            fatal("found pointer to free object in span %p (slot %zu): a dangling pointer", (void*)s->startAddr,
                  lo + static_cast<size_t>(__builtin_ctzll(m & ~allocated)));
        storeRelaxed(marks[w], m);
        nalloc += popcount64(m);
    }
    size_t nfreed = s->allocCount - nalloc;
    uint64_t* old = s->allocBits;
    __atomic_store_n(&s->allocBits, marks, __ATOMIC_RELEASE);
    for (size_t w = 0; w < nw; w++) storeRelaxed(old[w], uint64_t{0});
    s->gcmarkBits = old;
    storeRelaxed(s->allocCount, static_cast<uint16_t>(nalloc));
    __atomic_store_n(&s->freeindex, static_cast<uint16_t>(0), __ATOMIC_RELEASE);
    s->resetAllocCache();
    if (nfreed) s->needzero = 1;
    return nfreed;
}

}  // namespace spanscope::detail
