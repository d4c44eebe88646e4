// Managed allocation (Go's malloc.go mallocgc): the tiny allocator, small objects with their
// pointer bitmaps or malloc headers, large objects, allocate-black during marking, and mark
// assists (mgcmark.go's gcAssistAlloc). See mgc.h for how the collector is split.
#include <algorithm>
#include <cstring>

#include "mgc.h"
#include "spanscope/detail/emit.h"
#include "spanscope/detail/mheap.h"
#include "spanscope/detail/mprof.h"

namespace spanscope::detail {
namespace {

// Go's gcParkAssist: an assist that found no work while the heap is past the hard goal (see
// pacerRevise) waits, off the world (a stop-the-world does not wait for it), until the cycle ends
// or grey work or background credit appears; its debt is then forgiven. Below that the debt is
// forgiven at once (Go parks there too, but its assists find work more often: its workers flush
// scan work continuously).
void parkAssist(Mutator& m) {
    const uint32_t seen = g_cycleDone.load(std::memory_order_acquire);
    enterNative(m);
    g_parkedAssists.fetch_add(1, std::memory_order_relaxed);  // the fractional worker speeds up
    while (g_gc.phase.load(std::memory_order_acquire) == GCPhase::Mark &&
           g_cycleDone.load(std::memory_order_acquire) == seen && g_workPool.empty() &&
           g_gc.bgScanCredit.load(std::memory_order_relaxed) <= 0)
        futexWait(&g_cycleDone, seen, 1000000);
    g_parkedAssists.fetch_sub(1, std::memory_order_relaxed);
    exitNative(m);
}

// Go's gcAssistAlloc: pay allocation debt with scan work (or background credit). Unlike Go, the
// debt is not rounded up to gcOverAssistWork before credit is stolen (only the scan work is): with
// the rounding, the mutator ran further ahead of marking, which costs spanscope about twice Go's
// CPU a byte, and the pacer's goals drifted up (docs/ARCHITECTURE.md, "Where the collector
// differs"). The price is an assist call per allocation while credit lasts.
SPANSCOPE_NOINLINE void gcAssist(Mutator& m) {
    double ratio = g_gc.assistWorkPerByte.load(std::memory_order_relaxed);
    int64_t debtWork = static_cast<int64_t>(static_cast<double>(-m.assistBytes) * ratio);
    int64_t credit = g_gc.bgScanCredit.load(std::memory_order_relaxed);
    if (credit > 0) {
        int64_t steal = std::min(credit, debtWork);
        g_gc.bgScanCredit.fetch_sub(steal);
        debtWork -= steal;
        m.assistBytes += static_cast<int64_t>(static_cast<double>(steal) / std::max(ratio, 1e-9));
        if (debtWork <= 0) return;
    }
    uint64_t t0 = nanotime();
    g_activeAssists.fetch_add(1, std::memory_order_acq_rel);
    size_t done = drainWork(
        m.work, static_cast<size_t>(std::max<int64_t>(debtWork, 64 << 10)));  // gcOverAssistWork
    m.work.flush();
    g_activeAssists.fetch_sub(1, std::memory_order_acq_rel);
    m.assistBytes = done ? m.assistBytes + static_cast<int64_t>(static_cast<double>(done) /
                                                                std::max(ratio, 1e-9))
                         : 0;
    uint64_t dt = nanotime() - t0;
    g_assistNs.fetch_add(dt);
    g_gcCpuNs.fetch_add(dt);
    // One record per assist that did work (events.h): one that found no grey work (binary-trees
    // makes one per allocation while the pool is empty, 99.99% of its 10 M assists) changes
    // nothing a session shows; its time is in mark termination's assist CPU (GCPhase addr).
    if (done) SPANSCOPE_RECORD(markAssistEnd(done, static_cast<uint64_t>(debtWork), dt));
    if (!done && g_gcHeap.heapLive() >= g_gc.heapGoal.load(std::memory_order_relaxed))
        parkAssist(m);
}

// Go's scanAlloc: scannable bytes allocated go into heapScan in batches, and only between cycles
// (heapScan is fixed during one: it is revise's worst case of this cycle's scan work).
SPANSCOPE_INLINE void noteScanAlloc(Mutator& m, size_t bytes) {
    if ((m.scanAlloc += bytes) < (64 << 10)) return;
    if (!g_gc.blackenEnabled.load(std::memory_order_relaxed))
        g_gc.heapScan.fetch_add(m.scanAlloc, std::memory_order_relaxed);
    m.scanAlloc = 0;
}

// Allocate black (gcmarknewobject).
SPANSCOPE_INLINE void markNew(Mutator& m, MSpan* s, uintptr_t slot) {
    size_t idx = s->isLarge() ? 0 : s->objIndex(slot);
    __atomic_fetch_or(&s->gcmarkBits[idx / 64], uint64_t{1} << (idx % 64), __ATOMIC_RELAXED);
    m.work.bytesMarked += s->elemsize;
}

// Allocate black during a cycle (Go's gcmarknewobject), decided once the slot is taken: a refill
// or a large allocation may start a cycle, whose root scan cannot see the object being returned.
// Were it white it could be freed while a Root holds it.
SPANSCOPE_INLINE bool allocateBlack() {
    return g_gc.phase.load(std::memory_order_relaxed) != GCPhase::Off;
}

// Go's mallocgcTiny: pack pointer-free objects under 16 bytes into 16-byte blocks (Go's rules).
SPANSCOPE_INLINE void* mallocgcTiny(Mutator& m, size_t size) {
    MCache& c = m.cache;
    uintptr_t off = c.tinyoffset;
    if (size % 8 == 0)
        off = (off + 7) & ~uintptr_t{7};
    else if (size % 4 == 0)
        off = (off + 3) & ~uintptr_t{3};
    else if (size % 2 == 0)
        off = (off + 1) & ~uintptr_t{1};
    if (off + size <= kTinySize && c.tiny) {
        void* p = reinterpret_cast<void*>(c.tiny + off);
        c.tinyoffset = off + size;
        c.tinyAllocs++;
        c.requested[kTinySpanClass] += size;
        return p;
    }
    MSpan* s = c.alloc[kTinySpanClass];
    void* block = s ? s->nextFreeFast() : nullptr;
    if (!block) block = c.nextFree(kTinySpanClass);
    if (!block) fatal("out of memory (tiny block)");
    s = c.alloc[kTinySpanClass];
    memset(block, 0, kTinySize);  // tiny blocks are always zeroed
    c.requested[kTinySpanClass] += size;
    if (allocateBlack()) markNew(m, s, reinterpret_cast<uintptr_t>(block));
    if (SPANSCOPE_OBJECT_EVENTS())
        SPANSCOPE_RECORD(
            objAllocTinyBlock(kTinySpanClass, reinterpret_cast<uintptr_t>(block), size));
    if (size < c.tinyoffset || c.tiny == 0) {
        c.tiny = reinterpret_cast<uintptr_t>(block);
        c.tinyoffset = size;
    }
    return sampleAlloc(&c, block, kTinySize, true);  // tiny: a new block counts, its sharers not
}

// Go's mallocgcSmallNoscan, mallocgcSmallScanNoHeader and mallocgcSmallScanHeader in one: a slot
// of the size class of size (plus the malloc header for scannable objects over 512 B), zeroed,
// typed (pointer bitmap or header), counted for the pacer.
SPANSCOPE_INLINE void* mallocgcSmall(Mutator& m, size_t size, const gc::Type* t, size_t nelem,
                                     bool header) {
    MCache& c = m.cache;
    const bool noscan = !t || t->ptrdata == 0;
    const size_t full = header ? size + kMallocHeaderSize : size;
    const uint8_t spc = makeSpanClass(sizeToClass(full), noscan);
    MSpan* s = c.alloc[spc];
    void* p = s ? s->nextFreeFast() : nullptr;
    if (!p) p = c.nextFree(spc);
    if (!p) fatal("out of memory allocating %zu bytes", size);
    s = c.alloc[spc];
    c.requested[spc] += size;
    if (s->needzero) memset(p, 0, s->elemsize);
    uintptr_t slot = reinterpret_cast<uintptr_t>(p);
    if (header) {
        __atomic_store_n(reinterpret_cast<const gc::Type**>(slot), t, __ATOMIC_RELEASE);
        p = reinterpret_cast<void*>(slot + kMallocHeaderSize);
    } else if (!noscan) {
        heapSetType(s, slot, t, t->size * nelem);
    }
    if (!noscan) noteScanAlloc(m, s->elemsize);  // scanObject's unit: the whole slot
    if (allocateBlack()) markNew(m, s, slot);
    if (SPANSCOPE_OBJECT_EVENTS()) SPANSCOPE_RECORD(objAlloc(spc, slot, size));
    sampleAlloc(&c, reinterpret_cast<void*>(slot), s->elemsize, true);
    return p;
}

// Go's mallocgcLarge: a span of its own, its type kept in the span (Go's largeType).
SPANSCOPE_NOINLINE void* mallocgcLarge(Mutator& m, size_t size, const gc::Type* t) {
    const bool noscan = !t || t->ptrdata == 0;
    void* p = g_gcHeap.allocLarge(size, kPageSize, true, noscan);
    if (!p) fatal("out of memory allocating %zu bytes", size);
    MSpan* s = spanOf(reinterpret_cast<uintptr_t>(p));
    if (!noscan) {
        __atomic_store_n(&s->largeType, static_cast<const void*>(t), __ATOMIC_RELEASE);
        noteScanAlloc(m, size);  // scanLarge's unit: the object's bytes
    }
    if (allocateBlack()) markNew(m, s, reinterpret_cast<uintptr_t>(p));
    if (SPANSCOPE_OBJECT_EVENTS())
        SPANSCOPE_RECORD(objAlloc(s->spanclass, reinterpret_cast<uintptr_t>(p), size));
    return sampleAlloc(&m.cache, p, s->npages * kPageSize, true);
}

// Go's mallocgc: a safe point, the assist debt, then tiny, small or large.
void* mallocgc(size_t size, const gc::Type* t, size_t nelem) {
    Mutator& m = self();
    safePoint(m);
    if (g_gc.blackenEnabled.load(std::memory_order_relaxed)) {
        m.assistBytes -= static_cast<int64_t>(size);
        if (m.assistBytes < 0) gcAssist(m);
    }
    const bool noscan = !t || t->ptrdata == 0;
    if (size == 0) size = 1;
    if (noscan && size < kTinySize) return mallocgcTiny(m, size);
    const bool header = !noscan && size > kMinSizeForMallocHeader;
    if ((header ? size + kMallocHeaderSize : size) <= kMaxSmallSize)
        return mallocgcSmall(m, size, t, nelem, header);
    return mallocgcLarge(m, size, t);
}

}  // namespace
}  // namespace spanscope::detail

namespace spanscope::gc {
using namespace spanscope::detail;

void* alloc(const Type* t) {
    return mallocgc(t->size, t, 1);
}
void* allocArray(const Type* t, size_t n) {
    size_t bytes;
    if (__builtin_mul_overflow(t->size, n, &bytes))
        fatal("allocArray: %zu elements of %zu bytes overflow", n, t->size);
    return mallocgc(bytes, t, n);
}
void* allocBytes(size_t n) {
    return mallocgc(n, nullptr, 1);
}

void writePointer(void** slot, void* ptr) {
    if (SPANSCOPE_UNLIKELY(writeBarrierEnabled())) {
        // Go's hybrid barrier: shade the pointer being overwritten (Yuasa) and the new one
        // (Dijkstra), so stacks-like roots need scanning only once per cycle.
        Mutator& m = self();
        void* old = __atomic_load_n(slot, __ATOMIC_RELAXED);
        if (old) greyObject(reinterpret_cast<uintptr_t>(old), m.work);
        if (ptr) greyObject(reinterpret_cast<uintptr_t>(ptr), m.work);
    }
    __atomic_store_n(slot, ptr, __ATOMIC_RELEASE);
}

}  // namespace spanscope::gc
