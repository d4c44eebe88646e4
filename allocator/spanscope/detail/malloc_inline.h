// The malloc-mode fast paths, inline so that the preload library's exported malloc and free are
// a few instructions: size class lookup, thread cache, nextFreeFast; span lookup and a bit set.
// Everything else is a named, out-of-line slow path in malloc.cpp. See spanscope/allocator.h.
#pragma once
#include <cstddef>
#include <cstdint>

#include "spanscope/detail/mcache.h"
#include "spanscope/detail/mheap.h"
#include "spanscope/detail/mprof.h"
#include "spanscope/detail/mspan.h"

namespace spanscope::detail {

SPANSCOPE_NOINLINE void* mallocSlow(size_t size);
SPANSCOPE_NOINLINE void freeSlow(void* p, MSpan* s);
SPANSCOPE_NOINLINE void markDirtySlow(MSpan* s);
// freeSmall's slow paths: the free that completes a grain of remote frees, and a free into a span
// holding heap-profile samples (profileFree first).
SPANSCOPE_NOINLINE void freeRemoteGrain(MSpan* s, size_t w, uint64_t bit, void* ptr);
// Remote frees batched per bitmap word (MCache::batchSpan): publishes the batch held, if any, and
// starts one with this free; publishFreeBatch only publishes.
SPANSCOPE_NOINLINE void freeRemoteBatched(MCache& c, MSpan* s, size_t w, uint64_t bit);
SPANSCOPE_NOINLINE void publishFreeBatch(MCache& c);
SPANSCOPE_NOINLINE void freeSampled(void* ptr, MSpan* s);
[[noreturn]] void reportBadFree(const char* what, const void* p);
SPANSCOPE_NOINLINE void freeCacheKeyFound(MCache& c, MSpan* s, void* ptr);
[[noreturn]] void reportCorruptFreeCache(const void* p);
// Publishes one class's batched counters (a thread served by its free cache refills rarely, and
// refills are where they are published otherwise).
SPANSCOPE_NOINLINE void flushFreeCacheStats(MCache& c, uint8_t cls);
inline constexpr uint64_t kFreeCacheStatsBatch = 512;

// The free cache (MCache::freeHead): a cached object's link is stored XOR its address >> 12.
SPANSCOPE_INLINE void* freeCacheNext(void* obj) {
    return reinterpret_cast<void*>(*static_cast<uintptr_t*>(obj) ^
                                   (reinterpret_cast<uintptr_t>(obj) >> 12));
}

// malloc from the free cache: the most recently freed object of the class.
SPANSCOPE_INLINE void* freeCachePop(MCache& c, uint8_t cls, uint8_t spc, void* obj, size_t size) {
    void* next = freeCacheNext(obj);
    if (SPANSCOPE_UNLIKELY(reinterpret_cast<uintptr_t>(next) & 15)) reportCorruptFreeCache(obj);
    c.freeHead[cls] = next;
    static_cast<uintptr_t*>(obj)[1] = 0;  // the key
    c.freeRoom[cls]++;
    c.requested[spc] += size;
    if (SPANSCOPE_UNLIKELY(++c.mallocs[cls] >= kFreeCacheStatsBatch)) flushFreeCacheStats(c, cls);
    return sampleAlloc(&c, obj, kClassToSize[cls]);
}

// free into the free cache, with the checks that need no bitmap line: a slot's start, allocated
// (the span's first line, for a slot below freeindex), not in this cache already (the key). A
// free of an object already given back to its span is found when the cache gives it back in
// turn (freeSmall's checks), as glibc's tcache finds only the double frees inside it; checking
// the free bits here cost churn-1t 10% of its speed (a cache miss per free).
SPANSCOPE_INLINE void freeCachePush(MCache& c, MSpan* s, uint8_t cls, void* ptr) {
    const uintptr_t p = reinterpret_cast<uintptr_t>(ptr);
    const size_t idx = s->objIndex(p);
    if (SPANSCOPE_UNLIKELY(s->startAddr + idx * s->elemsize != p))
        reportBadFree("invalid pointer (not the start of an object)", ptr);
    if (SPANSCOPE_UNLIKELY(!s->isAllocated(idx)))
        reportBadFree("free of a pointer that is not allocated", ptr);
    auto* words = static_cast<uintptr_t*>(ptr);
    if (SPANSCOPE_UNLIKELY(words[1] == g_freeCacheKey)) return freeCacheKeyFound(c, s, ptr);
    words[1] = g_freeCacheKey;
    words[0] = reinterpret_cast<uintptr_t>(c.freeHead[cls]) ^ (p >> 12);
    c.freeHead[cls] = ptr;
    c.freeRoom[cls]--;
    // >=: a drain takes its objects' frees back (drainFreeCache), so the count may have wrapped.
    if (SPANSCOPE_UNLIKELY(++c.frees[cls] >= kFreeCacheStatsBatch)) flushFreeCacheStats(c, cls);
}

// Remote frees toward s's sweep threshold, n of them (whole grains); the add that reaches it asks
// mcentral to move the span to an unswept set (markDirty).
SPANSCOPE_INLINE void countRemoteFrees(MSpan* s, unsigned n) {
    const uint16_t threshold = s->sweepThreshold;
    if (__atomic_load_n(&s->pendingFrees, __ATOMIC_RELAXED) >= threshold) return;
    const unsigned after =
        __atomic_add_fetch(&s->pendingFrees, static_cast<uint16_t>(n), __ATOMIC_SEQ_CST);
    if (after >= threshold && after - n < threshold) markDirtySlow(s);
}

SPANSCOPE_INLINE void* mallocFast(size_t size) {
    if (SPANSCOPE_LIKELY(size - 1 < kSmallSizeMax - 8)) {  // 1..1016: no branch on the class table
        const uint8_t cls = kMallocSizeTables.sizeToClass8[(size + 7) >> 3];
        const uint8_t spc = makeSpanClass(cls, true);
        if (void* obj = t_mcache.freeHead[cls]) return freeCachePop(t_mcache, cls, spc, obj, size);
        MSpan* s = t_mcache.alloc[spc];
        if (SPANSCOPE_LIKELY(s != nullptr))
            if (void* p = s->nextFreeFast()) {
                t_mcache.requested[spc] += size;
                return sampleAlloc(&t_mcache, p, s->elemsize);
            }
    }
    return mallocSlow(size);
}

// The small-object free once the span is known and no heap-profile sample lives in it. Owner
// thread: plain OR into the local free bits; other threads: atomic OR, which also catches a racing
// double free. Every call it makes is a tail call or never returns, so that freeFast needs no stack
// frame.
SPANSCOPE_INLINE void freeSmall(MSpan* s, void* ptr) {
    const uintptr_t p = reinterpret_cast<uintptr_t>(ptr);
    const size_t idx = s->objIndex(p);
    if (SPANSCOPE_UNLIKELY(s->startAddr + idx * s->elemsize != p))
        reportBadFree("invalid pointer (not the start of an object)", ptr);
    // In some thread's free cache (the key; 8-byte slots are never cached and have no word 1).
    if (SPANSCOPE_UNLIKELY(s->elemsize >= 16 && static_cast<uintptr_t*>(ptr)[1] == g_freeCacheKey))
        reportBadFree("double free (the object is in a thread's free cache)", ptr);
    const size_t w = idx / 64;
    const uint64_t bit = uint64_t{1} << (idx % 64);
    if (__atomic_load_n(&s->owner, __ATOMIC_RELAXED) == &t_mcache) {
        if (SPANSCOPE_UNLIKELY((s->localFreeBits()[w] | loadRelaxed(s->freeBits[w])) & bit))
            reportBadFree("double free", ptr);
        if (SPANSCOPE_UNLIKELY(idx >= s->freeindex && !(loadRelaxed(s->allocBits[w]) & bit)))
            reportBadFree("free of a pointer that is not allocated", ptr);
        storeRelaxed(s->localFreeBits()[w], s->localFreeBits()[w] | bit);
        return;
    }
    if (SPANSCOPE_UNLIKELY(!s->isAllocated(idx)))
        reportBadFree("free of a pointer that is not allocated", ptr);
    // Also catches a free by the owner followed by one from here (the adjacent local word).
    if (SPANSCOPE_UNLIKELY(loadRelaxed(s->localFreeBits()[w]) & bit))
        reportBadFree("double free", ptr);
    // Batched: this thread's frees into one word are held and published with one atomic OR (a
    // tree, or objects allocated together and freed together), checked against the batch here and
    // against the span's bits when published; a free into another word publishes the batch held
    // and starts a new one.
    MCache& c = t_mcache;
    if (c.batchSpan == s && c.batchWord == w) {
        if (SPANSCOPE_UNLIKELY(c.batchMask & bit)) reportBadFree("double free", ptr);
        c.batchMask |= bit;
        return;
    }
    if (SPANSCOPE_LIKELY(c.batchOpen)) return freeRemoteBatched(c, s, w, bit);
    // Count the free toward the span's sweep threshold before publishing it: once the bit is set
    // the span may be swept empty and freed by another thread, so nothing here may touch it after.
    // Counted in grains: the free that makes its bitmap word hold a multiple of freeGrain frees
    // adds freeGrain (freeRemoteGrain), the others add nothing, so most remote frees pay one
    // atomic, not two.
    if (SPANSCOPE_UNLIKELY(
            ((popcount64Hot(loadRelaxed(s->freeBits[w])) + 1) & (s->freeGrain - 1u)) == 0))
        return freeRemoteGrain(s, w, bit, ptr);
    if (SPANSCOPE_UNLIKELY(__atomic_fetch_or(&s->freeBits[w], bit, __ATOMIC_SEQ_CST) & bit))
        reportBadFree("double free", ptr);
}

// free(p) in malloc mode: mark the slot freed; the sweep reuses it.
SPANSCOPE_INLINE void freeFast(void* ptr) {
    MSpan* s = spanOf(reinterpret_cast<uintptr_t>(ptr));
    // (managed: an object of the collected heap, which free() must not put in its free cache)
    if (SPANSCOPE_UNLIKELY(s == nullptr || s->isLarge() || s->managed)) return freeSlow(ptr, s);
    // A sampled object may live here: count its free first (before the free bit is published,
    // after which the slot may be reused).
    if (SPANSCOPE_UNLIKELY(s->maybeSampled(reinterpret_cast<uintptr_t>(ptr))))
        return freeSampled(ptr, s);
    const uint8_t cls = spanClassSize(s->spanclass);
    if (SPANSCOPE_LIKELY(t_mcache.freeRoom[cls] != 0)) return freeCachePush(t_mcache, s, cls, ptr);
    freeSmall(s, ptr);
}

SPANSCOPE_INLINE size_t usableSize(const void* ptr) {
    MSpan* s = spanOf(reinterpret_cast<uintptr_t>(ptr));
    if (!s) return 0;
    return s->isLarge() ? s->npages * kPageSize : s->elemsize;
}

}  // namespace spanscope::detail
