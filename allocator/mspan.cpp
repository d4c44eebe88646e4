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

bool MSpan::isAllocated(size_t idx) const {
    // freeindex first: a sweep publishes the new allocBits before it resets freeindex.
    size_t fi = __atomic_load_n(&freeindex, __ATOMIC_ACQUIRE);
    if (idx < fi) return true;
    const uint64_t* bits = __atomic_load_n(&allocBits, __ATOMIC_ACQUIRE);
    return (loadRelaxed(bits[idx / 64]) >> (idx % 64)) & 1;
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
    // Cleared before the free bits are read: a free that lands later marks the span again.
    __atomic_store_n(&s->dirty, uint8_t{0}, __ATOMIC_SEQ_CST);
    for (size_t w = 0; w < nw; w++) {
        const size_t lo = w * 64;
        uint64_t allocated = loadRelaxed(alloc[w]);
        if (fi >= lo + 64) allocated = ~0ull;
        else if (fi > lo) allocated |= (1ull << (fi - lo)) - 1;
        // Frees that land after the exchange stay for the next sweep.
        uint64_t freed = __atomic_exchange_n(&s->freeBits[w], 0, __ATOMIC_ACQ_REL) | s->localFreeBits[w];
        s->localFreeBits[w] = 0;
        uint64_t live = allocated & ~freed;
        if (nelems - lo < 64) live &= (1ull << (nelems - lo)) - 1;
        storeRelaxed(next[w], live);
        nalloc += static_cast<size_t>(__builtin_popcountll(live));
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

}  // namespace spanscope::detail
