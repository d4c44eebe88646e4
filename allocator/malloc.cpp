// malloc-mode entry points and their slow paths: small refills, large objects, aligned allocation,
// realloc and misuse reports. The inline fast paths are in spanscope/detail/malloc_inline.h.
#include <cerrno>
#include <cstring>

#include "spanscope/allocator.h"
#include "spanscope/detail/malloc_inline.h"

namespace spanscope::detail {

void reportBadFree(const char* what, const void* p) {
    fatal("free(): %s: %p", what, p);
}

namespace {
size_t pageRounded(size_t size) {
    return (size + kPageSize - 1) & ~(kPageSize - 1);
}
}  // namespace

void* mallocSlow(size_t size) {
    if (size == 0) size = 1;  // malloc(0) returns a unique pointer, as glibc does
    if (size <= kMaxSmallSize) {
        const uint8_t spc = makeSpanClass(mallocSizeToClass(size), true);
        MCache* c = &t_mcache;
        if (MSpan* s = c->alloc[spc])
            if (void* p = s->nextFreeFast()) {
                c->requested[spc] += size;
                return sampleAlloc(c, p, s->elemsize);
            }
        void* p = c->nextFree(spc);
        if (!p)
            errno = ENOMEM;
        else
            c->requested[spc] += size;
        return sampleAlloc(c, p, kClassToSize[spanClassSize(spc)]);
    }
    if (SPANSCOPE_UNLIKELY(t_mcache.state != CacheState::Live)) initThreadCache(&t_mcache);
    void* p = g_mallocHeap.allocLarge(size, kPageSize, false);
    if (!p) errno = ENOMEM;
    return sampleAlloc(&t_mcache, p, pageRounded(size));
}

void freeSlow(void* ptr, MSpan* s) {
    if (ptr == nullptr) return;
    if (s == nullptr) {
        uintptr_t ai = reinterpret_cast<uintptr_t>(ptr) >> kArenaShift;
        if (ai < kArenaIndexSize && __atomic_load_n(&g_arenaIndex[ai], __ATOMIC_ACQUIRE))
            reportBadFree("double free or invalid pointer (no object at this heap address)", ptr);
        reportBadFree("invalid pointer (not allocated by spanscope)", ptr);
    }
    if (s->managed)
        reportBadFree("invalid pointer (an object of the managed heap, which its collector frees)",
                      ptr);
    if (reinterpret_cast<uintptr_t>(ptr) != s->startAddr)
        reportBadFree("invalid pointer (inside a large object)", ptr);
    if (__atomic_exchange_n(&s->allocCount, uint16_t{0}, __ATOMIC_ACQ_REL) != 1)
        reportBadFree("double free", ptr);
    profileFreeCheck(s, ptr);
    g_mallocHeap.freeLarge(s);
}

void reportCorruptFreeCache(const void* p) {
    fatal("malloc(): corrupted free cache (an object written after its free?): %p", p);
}

// The object's second word holds the free cache's key, which only a cached object holds (a pop
// or a drain clears it): freed already, into this thread's cache or another's (one message for
// both, as freeSmall's). The program
// storing the random 64-bit key there itself is the one other way (glibc's tcache, which walks
// only its own thread's list, takes a key with no match for that; spanscope also catches a
// double free whose first free went into another thread's cache).
void freeCacheKeyFound(MCache& c, MSpan* s, void* ptr) {
    const uint8_t cls = spanClassSize(s->spanclass);
    for (void* o = c.freeHead[cls]; o; o = freeCacheNext(o))
        if (o == ptr) reportBadFree("double free", ptr);
    reportBadFree("double free (the object is in a thread's free cache)", ptr);
}

void flushFreeCacheStats(MCache& c, uint8_t cls) {
    MHeap& h = *c.heap;
    const uint8_t spc = makeSpanClass(cls, true);
    if (MSpan* s = c.alloc[spc]) {  // and the cached span's allocations, as readMemStats does
        h.addMallocs(cls, s->allocCount - s->allocCountBeforeCache);
        s->allocCountBeforeCache = s->allocCount;
    }
    h.flushClassStats(&c, cls);
    if (c.requested[spc]) h.flushRequested(&c, spc);
}

void markDirtySlow(MSpan* s) {
    g_mallocHeap.central(s->spanclass).markDirty(g_mallocHeap, s);
}

void freeRemoteGrain(MSpan* s, size_t w, uint64_t bit, void* ptr) {
    countRemoteFrees(s, s->freeGrain);
    if (SPANSCOPE_UNLIKELY(__atomic_fetch_or(&s->freeBits[w], bit, __ATOMIC_SEQ_CST) & bit))
        reportBadFree("double free", ptr);
}

// As freeSmall's single remote free, for the whole batch: the grains it completes are counted
// before the bits are published (after the OR the span may be swept empty and freed by another
// thread), then one OR, whose old value finds a free of the batch that another thread made too.
void publishFreeBatch(MCache& c) {
    const uint64_t mask = c.batchMask;
    if (!mask) return;
    MSpan* s = c.batchSpan;
    const size_t w = c.batchWord;
    c.batchSpan = nullptr;  // the span may be freed once the bits are out
    c.batchMask = 0;
    const unsigned grain = s->freeGrain;
    const unsigned before = popcount64Hot(loadRelaxed(s->freeBits[w]));
    const unsigned grains = (before + popcount64Hot(mask)) / grain - before / grain;
    if (grains) countRemoteFrees(s, grains * grain);
    const uint64_t base = s->startAddr, size = s->elemsize;
    if (const uint64_t twice = __atomic_fetch_or(&s->freeBits[w], mask, __ATOMIC_SEQ_CST) & mask)
        reportBadFree("double free",
                      reinterpret_cast<void*>(base + (w * 64 + __builtin_ctzll(twice)) * size));
}

void freeRemoteBatched(MCache& c, MSpan* s, size_t w, uint64_t bit) {
    publishFreeBatch(c);
    c.batchSpan = s;
    c.batchWord = static_cast<uint32_t>(w);
    c.batchMask = bit;
}

void freeSampled(void* ptr, MSpan* s) {
    profileFree(s, reinterpret_cast<uintptr_t>(ptr));
    // No longer a sample (if it was one): the free cache may take it, as any other free.
    const uint8_t cls = spanClassSize(s->spanclass);
    if (t_mcache.freeRoom[cls] != 0) return freeCachePush(t_mcache, s, cls, ptr);
    freeSmall(s, ptr);
}

// Aligned allocation: Go's slots are aligned by their address (base + i*size with the span base
// 8 KiB-aligned), so a class whose size is a multiple of align gives aligned slots; beyond 8 KiB,
// a large span with an aligned base.
void* mallocAligned(size_t align, size_t size) {
    if (size == 0) size = 1;
    if (align <= 8) return mallocFast(size);
    // Every malloc-mode block of 16 B or more is 16-aligned (mallocSizeToClass): the fast path.
    if (align == 16 && size <= kMaxSmallSize) return mallocFast(size < 16 ? 16 : size);
    if (align <= kPageSize && size <= kMaxSmallSize) {
        for (int c = mallocSizeToClass(size < align ? align : size); c < kNumSizeClasses; c++) {
            if (kClassToSize[c] % align == 0) {
                MCache* mc = &t_mcache;
                void* p = mc->nextFree(makeSpanClass(c, true));
                if (!p) errno = ENOMEM;
                return sampleAlloc(mc, p, kClassToSize[c]);
            }
        }
    }
    if (SPANSCOPE_UNLIKELY(t_mcache.state != CacheState::Live)) initThreadCache(&t_mcache);
    void* p = g_mallocHeap.allocLarge(size, align, false);
    if (!p) errno = ENOMEM;
    return sampleAlloc(&t_mcache, p, pageRounded(size));
}

}  // namespace spanscope::detail

namespace spanscope {
using namespace detail;

void* ssMalloc(size_t size) {
    return mallocFast(size);
}
void ssFree(void* p) {
    freeFast(p);
}

void* ssCalloc(size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return nullptr;
    }
    if (total > kMaxSmallSize) {
        if (SPANSCOPE_UNLIKELY(t_mcache.state != CacheState::Live)) initThreadCache(&t_mcache);
        void* p = g_mallocHeap.allocLarge(total, kPageSize, true);  // skips memset on fresh pages
        if (!p) errno = ENOMEM;
        return sampleAlloc(&t_mcache, p, pageRounded(total));
    }
    void* p = mallocFast(total);
    if (p) memset(p, 0, total);
    return p;
}

void* ssRealloc(void* p, size_t size) {
    if (!p) return mallocFast(size);
    if (size == 0) {  // glibc: realloc(p, 0) frees p and returns NULL
        freeFast(p);
        return nullptr;
    }
    MSpan* s = spanOf(reinterpret_cast<uintptr_t>(p));
    if (!s) fatal("realloc(): invalid pointer: %p", p);
    size_t old;
    if (!s->isLarge()) {
        old = s->elemsize;
        // In place while the request still fits the slot and would not fit a class half its size.
        if (size <= old && (size > old / 2 || old <= 16)) return p;
    } else {
        if (reinterpret_cast<uintptr_t>(p) != s->startAddr)
            fatal("realloc(): invalid pointer: %p", p);
        old = s->npages * kPageSize;
        size_t npages = (size + kPageSize - 1) / kPageSize;
        if (size > kMaxSmallSize && npages <= s->npages && npages > s->npages / 2) {
            s->limit = s->startAddr + size;
            return p;
        }
        if (npages > s->npages && g_mallocHeap.growLargeInPlace(s, npages)) {
            s->limit = s->startAddr + size;
            return p;
        }
    }
    void* q = mallocFast(size);
    if (!q) return nullptr;  // p is untouched, as C requires
    memcpy(q, p, old < size ? old : size);
    freeFast(p);
    return q;
}

void* ssAlignedAlloc(size_t align, size_t size) {
    return mallocAligned(align, size);
}
size_t ssUsableSize(const void* p) {
    return p ? usableSize(p) : 0;
}

void readMemStats(MemStats* st) {
    MCache* c = &t_mcache;
    if (c->state == CacheState::Live)
        for (int spc = 0; spc < kNumSpanClasses; spc++)
            if (MSpan* s = c->alloc[spc]) {
                g_mallocHeap.addMallocs(spanClassSize(static_cast<uint8_t>(spc)),
                                        s->allocCount - s->allocCountBeforeCache);
                s->allocCountBeforeCache = s->allocCount;
            }
    if (!g_mallocHeap.initialized()) {
        *st = MemStats{};
        return;
    }
    if (c->state == CacheState::Live) g_mallocHeap.flushThreadStats(c);
    g_mallocHeap.readStats(*st);
}

bool readManagedMemStats(MemStats* st) {
    if (!g_gcHeap.initialized()) return false;
    g_gcHeap.readStats(*st);
    return true;
}

void flushThreadCache() {
    if (t_mcache.state == CacheState::Live) t_mcache.releaseAll();
}

void sweepAll() {
    if (!g_mallocHeap.initialized()) return;
    flushThreadCache();
    g_mallocHeap.finishSweep();
    g_mallocHeap.forceCycle();
    g_mallocHeap.finishSweep();
    g_mallocHeap.waitSweepsInFlight();  // the background sweeper's last span, too
}

void releaseFreeMemory() {
    if (!g_mallocHeap.initialized()) return;
    g_mallocHeap.releaseAllFree();
}

// Both heaps, one after the other (never both heaps' locks at once): a process's session shows
// the spans of its malloc-mode heap and of its managed heap. The managed heap's sweepgen wins
// when it exists (its collector is the one whose generations a session shows).
uint32_t walkSpans(void (*fn)(const SpanInfo&, void*), void* ctx) {
    uint32_t sg = 0;
    if (g_mallocHeap.initialized()) sg = g_mallocHeap.walkSpans(fn, ctx);
    if (g_gcHeap.initialized()) sg = g_gcHeap.walkSpans(fn, ctx);
    return sg;
}

bool validateHeap(char* why, size_t cap) {
    if (!g_mallocHeap.initialized()) return true;
    return g_mallocHeap.validate(why, cap);
}

}  // namespace spanscope
