// mspan slow paths: Go's nextFreeIndex and the malloc-mode sweep. See spanscope/allocator.h.
#include "spanscope/detail/mspan.h"

#include "spanscope/detail/emit.h"
#include "spanscope/detail/mprof.h"

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

namespace {
// Go's sweep step 5: the new allocBits (built in the gcmarkBits array) become current, the old
// array becomes the next scratch/mark bitmap, and allocation restarts from slot 0.
size_t installSwept(MSpan* s, uint64_t* now, uint64_t* old, size_t nalloc) {
    size_t nfreed = s->allocCount - nalloc;
    __atomic_store_n(&s->allocBits, now, __ATOMIC_RELEASE);
    s->gcmarkBits = old;
    storeRelaxed(s->allocCount, static_cast<uint16_t>(nalloc));
    __atomic_store_n(&s->freeindex, static_cast<uint16_t>(0), __ATOMIC_RELEASE);
    s->resetAllocCache();
    if (nfreed) storeRelaxed(s->needzero, uint8_t{1});  // walkSpans may be reading it
    return nfreed;
}
}  // namespace

size_t sweepMallocSpan(MSpan* s) {
    // Nothing freed since the last sweep (the common case when a new generation sweeps every
    // span): the bitmaps and freeindex already say what a sweep would build (slots below freeindex
    // allocated, the others as allocBits), so leave them. A free that lands after this check is
    // counted in pendingFrees and found by the next sweep, as one landing after the exchange below.
    if (__atomic_load_n(&s->pendingFrees, __ATOMIC_SEQ_CST) == 0) {
        uint64_t any = 0;
        for (size_t w = 0; w < s->nwords; w++)
            any |= loadRelaxed(s->freeBits[w]) | loadRelaxed(s->localFreeBits()[w]);
        if (any == 0) return 0;
    }
    uint64_t* next = s->gcmarkBits;
    size_t nalloc = 0;
    // Cleared before the free bits are read: frees that land later count toward the next sweep.
    __atomic_store_n(&s->pendingFrees, uint16_t{0}, __ATOMIC_SEQ_CST);
    for (size_t w = 0; w < s->nwords; w++) {
        // Frees that land after the exchange stay for the next sweep.
        uint64_t freed =
            __atomic_exchange_n(&s->freeBits[w], 0, __ATOMIC_ACQ_REL) | s->localFreeBits()[w];
        storeRelaxed(s->localFreeBits()[w], uint64_t{0});
        uint64_t live = s->allocatedWord(w) & ~freed & s->validMask(w);
        storeRelaxed(next[w], live);
        nalloc += popcount64Hot(live);
    }
    // The old allocBits array need not be cleared: the next sweep overwrites every word of it.
    return installSwept(s, next, s->allocBits, nalloc);
}

size_t sweepManagedSpan(MSpan* s) {
    uint64_t* marks = s->gcmarkBits;
    size_t nalloc = 0;
    for (size_t w = 0; w < s->nwords; w++) {
        uint64_t m = loadRelaxed(marks[w]) & s->validMask(w);
        // Zombie check (Go's sweep step 3): a mark on a free slot means a dangling pointer.
        if (uint64_t zombie = m & ~s->allocatedWord(w))
            fatal(
                "found pointer to free object in span %p (size class %d, slot %zu; %u of %u slots "
                "allocated, "
                "sweepgen %u): a dangling pointer",
                (void*)s->startAddr, spanClassSize(s->spanclass),
                w * 64 + static_cast<size_t>(__builtin_ctzll(zombie)), s->allocCount, s->nelems,
                s->sweepgen);
        if (SPANSCOPE_OBJECT_EVENTS())
            if (uint64_t freed = s->allocatedWord(w) & ~m & s->validMask(w))
                SPANSCOPE_RECORD(objFree(s->spanclass, s->startAddr, w, freed));
        if (SPANSCOPE_UNLIKELY(loadRelaxed(s->nsampled) !=
                               0))  // the heap profile's samples (Go's specials)
            if (uint64_t freed = s->allocatedWord(w) & ~m & s->validMask(w))
                profileSweep(s, w, freed);
        storeRelaxed(marks[w], m);
        nalloc += popcount64Hot(m);
    }
    size_t nfreed = installSwept(s, marks, s->allocBits, nalloc);
    for (size_t w = 0; w < s->nwords; w++)
        storeRelaxed(s->gcmarkBits[w], uint64_t{0});  // next marks start white
    return nfreed;
}

}  // namespace spanscope::detail
