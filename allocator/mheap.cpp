// mheap: arenas, span allocation over the page allocator, large objects, heap statistics, span
// walks and fork repair. Sweeping is in mgcsweep.cpp, releasing memory in mgcscavenge.cpp (Go's
// files of those names). See spanscope/allocator.h for the overview.
#include "spanscope/detail/mheap.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "spanscope/detail/emit.h"
#include "spanscope/detail/mcache.h"

namespace spanscope::detail {

HeapArena* g_arenaIndex[kArenaIndexSize];
MHeap g_mallocHeap;
MHeap g_gcHeap;

namespace {
// The page -> span map (Go's heapArena.spans) for pages [base, base + npages pages): s, or
// nullptr when the span is freed. Release stores: a reader that finds s sees it initialised.
void setSpans(uintptr_t base, size_t npages, MSpan* s) {
    HeapArena* arena = nullptr;
    uintptr_t arenaIdx = ~uintptr_t{0};
    for (size_t i = 0; i < npages; i++) {
        const uintptr_t p = base + i * kPageSize;
        if ((p >> kArenaShift) != arenaIdx) {
            arenaIdx = p >> kArenaShift;
            arena = g_arenaIndex[arenaIdx];
        }
        __atomic_store_n(&arena->spans[(p >> kPageShift) % kPagesPerArena], s, __ATOMIC_RELEASE);
    }
}
constexpr uintptr_t kHeapHintBase = 0x00c000000000;      // Go's first arena hint
constexpr uint64_t kFirstTrigger = (4 << 20) * 61 / 64;  // Go's first trigger: 3,997,696 B
}  // namespace

constinit OsPageSource g_osPageSource;

void MHeap::init(bool managed, PageSource* source) {
    detectCpuFeatures();
    m_managed = managed;
    m_source = source;
    m_pages.init();
    m_spanAlloc.init(sizeof(MSpan));
    for (size_t n = 1; n <= kMaxObjsPerSpan / 64; n++)
        m_bitsAlloc[n].init(4 * n * sizeof(uint64_t));
    for (int i = 0; i < kNumSpanClasses; i++) m_central[i].spanclass = static_cast<uint8_t>(i);
    m_sweepgen.store(4, std::memory_order_relaxed);
    m_trigger.store(kFirstTrigger, std::memory_order_relaxed);
    m_nextHint = kHeapHintBase;
    m_initialized.store(true, std::memory_order_release);
}

HeapArena* MHeap::newArena(uintptr_t base) {
    auto* a = static_cast<HeapArena*>(sysAllocMeta(sizeof(HeapArena)));
    a->heap = this;
    m_arenaMetaBytes += sizeof(HeapArena);
    m_arenaCount++;
    __atomic_store_n(&g_arenaIndex[base >> kArenaShift], a, __ATOMIC_RELEASE);
    SPANSCOPE_RECORD(arenaMap(base, kPagesPerArena, kArenaBytes));
    return a;
}

// Go's mheap.grow: ask for whole 4 MiB chunks; reserve 64 MiB arenas as needed. Called locked.
bool MHeap::grow(size_t npages) {
    size_t ask = (npages * kPageSize + PageAlloc::kChunkBytes - 1) & ~(PageAlloc::kChunkBytes - 1);
    bool mapped = false;
    if (m_curEnd - m_curBase < ask) {
        size_t bytes = (ask + kArenaBytes - 1) & ~(kArenaBytes - 1);
        void* hint = reinterpret_cast<void*>(m_curEnd ? m_curEnd : m_nextHint);
        uintptr_t base = reinterpret_cast<uintptr_t>(m_source->reserve(bytes, kArenaBytes, hint));
        if (!base) return false;
        // Usable before any metadata is made for it: what the kernel will not back fails here
        // and the allocation returns null (ENOMEM), as glibc's does, rather than aborting.
        const uintptr_t start = base == m_curEnd ? m_curBase : base;
        if (base + bytes > (uintptr_t{1} << PageAlloc::kAddrBits) ||
            !m_source->map(reinterpret_cast<void*>(start), ask)) {
            m_source->release(reinterpret_cast<void*>(base), bytes);
            return false;
        }
        mapped = true;
        if (base != m_curEnd && m_curEnd > m_curBase) {
            // Not contiguous: hand the rest of the old arena to the page allocator first.
            size_t rest = m_curEnd - m_curBase;
            if (!m_source->map(reinterpret_cast<void*>(m_curBase), rest))
                fatal("out of memory: cannot map the %zu bytes left of an arena", rest);
            m_pages.grow(m_curBase, rest);
            m_heapReleased += rest;
            m_grownBytes += rest;
        }
        for (uintptr_t a = base; a < base + bytes; a += kArenaBytes) newArena(a);
        if (base != m_curEnd) m_curBase = base;
        m_curEnd = base + bytes;
    }
    uintptr_t base = m_curBase;
    if (!mapped && !m_source->map(reinterpret_cast<void*>(base), ask)) return false;
    m_curBase += ask;
    m_pages.grow(base, ask);
    m_heapReleased += ask;  // fresh memory counts as released until used, as in Go
    m_grownBytes += ask;
    SPANSCOPE_RECORD(heapGrow(base, ask / kPageSize, ask));
    return true;
}

MSpan* MHeap::newSpanStruct(size_t nwords) {
    auto* s = static_cast<MSpan*>(m_spanAlloc.alloc());
    memset(static_cast<void*>(s), 0, sizeof *s);
    auto* bits = static_cast<uint64_t*>(m_bitsAlloc[nwords].alloc());
    memset(bits, 0, 4 * nwords * sizeof(uint64_t));
    s->allocBits = bits;
    s->gcmarkBits = bits + nwords;
    s->freeBits = bits + 2 * nwords;
    s->nwords = static_cast<uint16_t>(nwords);
    return s;
}

void MHeap::freeSpanStruct(MSpan* s) {
    // The bitmap block starts at whichever of the two swapped arrays is lower.
    uint64_t* bits = s->allocBits < s->gcmarkBits ? s->allocBits : s->gcmarkBits;
    m_bitsAlloc[s->nwords].free(bits);
    m_spanAlloc.free(s);
}

namespace {
// Malloc mode: a span is worth a sweep once a sixteenth of its slots were freed, and at least 4
// (2 of an 8..15-slot span, 1 below); each refill then hands out that batch, as Go's sweeps after a
// GC do. Fewer frees wait for the next sweep generation. Until 2026-12-03 the share was a quarter
// (a sixth for the spans malloc mode enlarges): the slots freed and not yet worth a sweep were up
// to a quarter of the heap, and the heap that much larger and sparser (churn-1t's peak RSS 1.25x
// glibc's against 1.13x now, churn-mt's 1.20x against 1.10x, and churn-mt 0.85x glibc's speed
// against 1.0x with the deeper free cache; docs/BENCHMARKS.md). Managed mode: any free slot (Go).
uint16_t mallocSweepThreshold(size_t nelems) {
    if (nelems >= 16) return static_cast<uint16_t>(nelems / 16 > 4 ? nelems / 16 : 4);
    return static_cast<uint16_t>(nelems >= 8 ? 2 : 1);
}
}  // namespace

MSpan* MHeap::allocSpan(size_t npages, uint8_t spc, size_t alignPages) {
    const int cls = spanClassSize(spc);
    const size_t nelems = cls ? classNelems(cls, spanClassNoscan(spc), !m_managed) : 1;
    const size_t nwords = (nelems + 63) / 64;
    size_t scav = 0;
    bool grew = false;
    m_lock.lock();
    uintptr_t base = npages == 1 && alignPages == 1 ? allocFromReserveLocked(&scav) : 0;
    if (!base)
        base = alignPages > 1 ? m_pages.allocAligned(npages, alignPages, &scav)
                              : m_pages.alloc(npages, &scav);
    if (!base) {
        if (!grow(npages + alignPages - 1)) {
            m_lock.unlock();
            return nullptr;
        }
        grew = true;
        base = alignPages > 1 ? m_pages.allocAligned(npages, alignPages, &scav)
                              : m_pages.alloc(npages, &scav);
        if (!base) fatal("page allocator: no room for %zu pages right after growing", npages);
    }
    MSpan* s = newSpanStruct(nwords);
    // Stored atomically (writers hold m_lock): emitSweepProgress reads it without the lock.
    __atomic_store_n(&m_heapInUse, m_heapInUse + npages * kPageSize, __ATOMIC_RELAXED);
    m_heapReleased -= scav * kPageSize;
    m_heapFree -= (npages - scav) * kPageSize;
    // Every field is set before the span is linked into allspans: readStats and walkSpans read
    // them under this lock.
    s->startAddr = base;
    s->npages = npages;
    s->spanclass = spc;
    s->nelems = static_cast<uint16_t>(nelems);
    s->elemsize = cls ? kClassToSize[cls] : static_cast<uint32_t>(npages * kPageSize);
    s->divMul = cls ? kSizeTables.divMagic[cls] : 0;
    s->allocCache = ~0ull;
    s->needzero = scav == npages ? 0 : 1;
    s->sweepgen = sweepgen();
    s->managed = m_managed;
    s->limit = base + nelems * s->elemsize;
    s->sweepThreshold = m_managed ? 1 : mallocSweepThreshold(nelems);
    // Remote frees count toward the threshold in grains of up to 8 per bitmap word (freeFast): at
    // most a grain per word short of the truth, and exact at the threshold of a one-word span.
    const size_t perWord = s->sweepThreshold / nwords;
    s->freeGrain = static_cast<uint8_t>(perWord >= 8 ? 8 : perWord >= 4 ? 4 : perWord >= 2 ? 2 : 1);
    m_allspans.pushFront(s);
    m_spansByClass[spanClassSize(spc)]++;
    m_lock.unlock();

    // Go's initHeapBits: a small pointerful span's heap bits are cleared when it is allocated.
    // Written, not read first: heapSetType's first read-modify-write on a never-touched page would
    // map the shared zero page and its write then copy it (a second fault and a TLB flush that
    // interrupts every CPU running the process: 13% of a 64-byte allocation loop's time).
    if (m_managed && cls && !spanClassNoscan(spc) && kClassToSize[cls] <= kMinSizeForMallocHeader)
        memset(s->heapBits(), 0, s->heapBitsBytes());
    setSpans(base, npages, s);
    __atomic_store_n(&s->state, static_cast<uint8_t>(SpanState::InUse), __ATOMIC_RELEASE);
    if (scav) SPANSCOPE_RECORD(scavReuse(spc, base, scav));
    SPANSCOPE_RECORD(spanAlloc(spc, base, npages, nelems));
    // Go's allocSpan scavenge assist after a growth: keep retained memory near the goal.
    if (grew) scavenge(npages * kPageSize, false);
    return s;
}

// One page from the reserve, refilled from the lowest block with a free page when empty (Go's
// pageCache.alloc and allocToCache). 0 if the page allocator has no free page.
uintptr_t MHeap::allocFromReserveLocked(size_t* scav) {
    if (m_resPages == 0 && !m_pages.takeBlock64(&m_resBase, &m_resPages, &m_resReleased)) return 0;
    const unsigned i = static_cast<unsigned>(__builtin_ctzll(m_resPages));
    const uint64_t bit = uint64_t{1} << i;
    *scav = (m_resReleased & bit) ? 1 : 0;
    m_resPages &= ~bit;
    m_resReleased &= ~bit;
    return m_resBase + i * kPageSize;
}

// The reserve's pages back to the page allocator: before anything that must see every free page
// (releasing all free memory, the largest free run).
void MHeap::flushReserveLocked() {
    if (m_resPages) m_pages.returnBlock64(m_resBase, m_resPages, m_resReleased);
    m_resPages = m_resReleased = 0;
}

void MHeap::freeSpan(MSpan* s) {
    setSpans(s->startAddr, s->npages, nullptr);
    __atomic_store_n(&s->state, static_cast<uint8_t>(SpanState::Dead), __ATOMIC_RELEASE);
    s->setWhere(SpanWhere::None);
    // Stamped once walkSpans can no longer see the span: a rundown taken between an earlier stamp
    // and the store above listed the span after its SpanFree, and a replay kept it for good.
    SPANSCOPE_RECORD(spanFree(s->spanclass, s->startAddr, s->npages));
    LockGuard g(m_lock);
    releaseSpanLocked(s);
}

// The locked half of freeSpan: pages back to the page allocator, the span out of allspans.
void MHeap::releaseSpanLocked(MSpan* s) {
    m_pages.free(s->startAddr, s->npages);
    __atomic_store_n(&m_heapInUse, m_heapInUse - s->npages * kPageSize, __ATOMIC_RELAXED);
    m_heapFree += s->npages * kPageSize;
    m_allspans.remove(s);
    m_spansByClass[spanClassSize(s->spanclass)]--;
    freeSpanStruct(s);
}

void* MHeap::allocLarge(size_t size, size_t align, bool zero, bool noscan) {
    if (size > (size_t{1} << 46)) return nullptr;
    size_t npages = (size + kPageSize - 1) / kPageSize;
    size_t alignPages = align > kPageSize ? align / kPageSize : 1;
    if (m_managed)
        deductSweepCredit(npages * kPageSize);  // Go's allocLarge: sweep before taking pages
    maybeStartCycle();
    MSpan* s = allocSpan(npages, makeSpanClass(0, noscan), alignPages);
    if (!s) return nullptr;
    s->limit = s->startAddr + size;
    storeRelaxed(s->allocCount, uint16_t{1});
    storeRelaxed(s->freeindex, uint16_t{1});
    s->setWhere(SpanWhere::Large);
    if (m_managed) {
        // Go's allocLarge: the span goes on its mcentral's fullSwept set so the sweeper finds it.
        MCentral& c = m_central[s->spanclass];
        LockGuard g(c.lock);
        c.fullSwept(sweepgen()).push(s, SpanWhere::FullSwept);
    }
    m_heapLive.fetch_add(static_cast<int64_t>(npages * kPageSize),
                         std::memory_order_relaxed);  // not batched: any thread may free it
    {
        LockGuard g(m_lock);
        m_largeAllocs++;
        m_largeAllocBytes += npages * kPageSize;
    }
    if (zero && s->needzero) memset(reinterpret_cast<void*>(s->startAddr), 0, size);
    m_largeRequested.fetch_add(size, std::memory_order_relaxed);
    SPANSCOPE_RECORD(largeAlloc(s->spanclass, s->startAddr, npages, size));
    return reinterpret_cast<void*>(s->startAddr);
}

void MHeap::freeLarge(MSpan* s) {
    size_t bytes = s->npages * kPageSize;
    SPANSCOPE_RECORD(largeFree(s->spanclass, s->startAddr, s->npages));
    m_heapLive.fetch_sub(static_cast<int64_t>(bytes), std::memory_order_relaxed);
    {
        LockGuard g(m_lock);
        m_largeFrees++;
        m_largeFreeBytes += bytes;
    }
    freeSpan(s);
}

bool MHeap::growLargeInPlace(MSpan* s, size_t newNpages) {
    size_t extra = newNpages - s->npages, scav = 0;
    {
        LockGuard g(m_lock);
        if (!m_pages.allocExact(s->end(), extra, &scav)) return false;
        __atomic_store_n(&m_heapInUse, m_heapInUse + extra * kPageSize, __ATOMIC_RELAXED);
        m_heapReleased -= scav * kPageSize;
        m_heapFree -= (extra - scav) * kPageSize;
        m_largeAllocBytes += extra * kPageSize;
    }
    setSpans(s->startAddr + s->npages * kPageSize, newNpages - s->npages, s);
    s->npages = newNpages;
    s->elemsize = static_cast<uint32_t>(newNpages * kPageSize);
    m_heapLive.fetch_add(static_cast<int64_t>(extra * kPageSize), std::memory_order_relaxed);
    // The same object, now spanning more pages: flags = 1 says "grown in place".
    SPANSCOPE_RECORD(
        largeGrownInPlace(s->spanclass, s->startAddr, newNpages, newNpages * kPageSize));
    return true;
}

void MHeap::flushThreadStats(MCache* c) {
    if (c->heapLiveDelta) m_heapLive.fetch_add(c->heapLiveDelta, std::memory_order_relaxed);
    c->heapLiveDelta = 0;
    for (int k = 1; k < kNumSizeClasses; k++) {
        if (c->mallocs[k]) m_smallMallocs[k].fetch_add(c->mallocs[k], std::memory_order_relaxed);
        if (c->frees[k]) m_smallFrees[k].fetch_add(c->frees[k], std::memory_order_relaxed);
        c->mallocs[k] = c->frees[k] = 0;
    }
    for (int spc = 0; spc < kNumSpanClasses; spc++)
        if (c->requested[spc]) flushRequested(c, static_cast<uint8_t>(spc));
}

void MHeap::flushClassStats(MCache* c, int cls) {
    if (c->heapLiveDelta) m_heapLive.fetch_add(c->heapLiveDelta, std::memory_order_relaxed);
    c->heapLiveDelta = 0;
    if (c->mallocs[cls]) m_smallMallocs[cls].fetch_add(c->mallocs[cls], std::memory_order_relaxed);
    if (c->frees[cls]) m_smallFrees[cls].fetch_add(c->frees[cls], std::memory_order_relaxed);
    c->mallocs[cls] = c->frees[cls] = 0;
}

void MHeap::flushRequested(MCache* c, uint8_t spc) {
    m_smallRequested[spanClassSize(spc)].fetch_add(c->requested[spc], std::memory_order_relaxed);
    c->requested[spc] = 0;
}

void MHeap::lockAll() {
    m_cycleLock.lock();
    for (auto& c : m_central) c.lock.lock();
    m_lock.lock();
}

void MHeap::unlockAll() {
    m_lock.unlock();
    for (auto& c : m_central) c.lock.unlock();
    m_cycleLock.unlock();
}

void MHeap::lockForFork() {
    m_cycleLock.lock();
    if (m_managed) m_sweepers.closeAndWait(0);
    for (auto& c : m_central) c.lock.lock();
    m_lock.lock();
}

void MHeap::unlockAfterFork() {
    unlockAll();
    if (m_managed) m_sweepers.open();
}

void MHeap::resetAfterFork() {
    m_bgState.store(0);
    // Malloc mode's count of sweeps in flight (claimSweep): the threads that made them are gone,
    // and repairAfterFork has finished their spans.
    if (!m_managed) m_sweepers.reset();
}

void MHeap::repairAfterFork(const MCache* keep) {
    if (!initialized()) return;
    // Spans to place once the walk is over (placing may free them). They are in no mcentral set,
    // so the set links are free to hold this list.
    SpanList limbo;
    {
        LockGuard g(m_lock);
        for (MSpan* s = m_allspans.first(); s;) {
            MSpan* next = AllSpans::next(s);
            if (s->state == static_cast<uint8_t>(SpanState::Dead)) {
                releaseSpanLocked(s);  // freeSpan was between marking it dead and taking the lock
            } else {
                if (s->state != static_cast<uint8_t>(SpanState::InUse)) {
                    // allocSpan had linked it but not yet published it.
                    setSpans(s->startAddr, s->npages, s);
                    s->state = static_cast<uint8_t>(SpanState::InUse);
                }
                SpanWhere w = s->whereNow();
                bool orphan = w == SpanWhere::None || (w == SpanWhere::Cached && s->owner != keep);
                if (orphan && !s->isLarge()) {
                    s->owner = nullptr;
                    limbo.pushFront(s);
                }
            }
            s = next;
        }
    }
    const uint32_t sg = sweepgen();
    while (MSpan* s = limbo.popFront()) {
        // Malloc mode may always sweep (free bits). Managed mode only if the span still needs it
        // (h-2, h-1, or cached before this sweep generation, h+1): its mark bits are otherwise
        // not this cycle's.
        const uint32_t g = s->sweepgen;
        if (!s->managed || g == sg - 2 || g == sg - 1 || g == sg + 1) noteSwept(s, sweepSpan(s));
        m_central[s->spanclass].placeSwept(*this, s, sg);
    }
}

uint32_t MHeap::walkSpans(void (*fn)(const SpanInfo&, void*), void* ctx) {
    lockAll();
    const uint32_t sg = m_sweepgen.load();
    for (MSpan* s : m_allspans) {
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != static_cast<uint8_t>(SpanState::InUse))
            continue;  // being set up
        // Merge this moment's local frees into the view without touching the span. The span's
        // owner may be sweeping it meanwhile (installSwept: allocBits, needzero, freeindex): read
        // what it stores atomically, allocBits with acquire so that the bitmap it points to is
        // the one the sweep built.
        MCache* owner = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);
        SpanInfo info{s->startAddr,
                      static_cast<uint32_t>(s->npages),
                      s->spanclass,
                      static_cast<uint8_t>(s->whereNow()),
                      loadRelaxed(s->needzero),
                      static_cast<uint8_t>(s->wantsSweep()),
                      s->nelems,
                      loadRelaxed(s->allocCount),
                      loadRelaxed(s->freeindex),
                      s->elemsize,
                      loadRelaxed(s->sweepgen),
                      owner ? owner->tid : 0,
                      __atomic_load_n(&s->allocBits, __ATOMIC_ACQUIRE),
                      s->freeBits,
                      s->nwords};
        fn(info, ctx);
    }
    unlockAll();
    return sg;
}

// The pacer's inputs (Go's heapFree, totalAlloc - totalFree, mappedReady), without the per-class
// table: the memory-limit goal reads them at every trigger check.
void MHeap::readPacerStats(PacerHeapStats& st) {
    uint64_t alloc = 0;
    for (int c = 1; c < kNumSizeClasses; c++) {
        uint64_t m = m_smallMallocs[c].load(std::memory_order_relaxed),
                 f = m_smallFrees[c].load(std::memory_order_relaxed);
        alloc += (m > f ? m - f : 0) * kClassToSize[c];
    }
    LockGuard g(m_lock);
    st.heapAlloc = alloc + m_largeAllocBytes - m_largeFreeBytes;
    st.heapInUse = m_heapInUse;
    st.heapFree = m_heapFree + m_scavInFlight;
    size_t meta = m_spanAlloc.sys() + m_arenaMetaBytes + m_pages.metadataBytes();
    for (const auto& b : m_bitsAlloc) meta += b.sys();
    st.mappedReady = m_heapInUse + m_heapFree + m_scavInFlight + meta;
}

void MHeap::readStats(MemStats& st) {
    memset(&st, 0, sizeof st);
    uint64_t smallAllocBytes = 0, smallFreeBytes = 0, smallMallocs = 0, smallFrees = 0;
    for (int c = 1; c < kNumSizeClasses; c++) {
        uint64_t m = m_smallMallocs[c].load(std::memory_order_relaxed);
        uint64_t f = m_smallFrees[c].load(std::memory_order_relaxed);
        // A free is published after its malloc (flushClassStats at uncache), but the two loads
        // are not one snapshot: never report more frees than mallocs.
        if (f > m) f = m;
        st.BySize[c].Size = kClassToSize[c];
        st.BySize[c].Mallocs = m;
        st.BySize[c].Frees = f;
        st.BySize[c].RequestedBytes = m_smallRequested[c].load(std::memory_order_relaxed);
        smallMallocs += m;
        smallFrees += f;
        smallAllocBytes += m * kClassToSize[c];
        smallFreeBytes += f * kClassToSize[c];
    }
    LockGuard g(m_lock);
    // Span counts are kept as spans come and go (Go's consistent heapStats): no walk over allspans.
    for (int c = 0; c < kNumSizeClasses; c++) st.BySize[c].Spans = m_spansByClass[c];
    st.BySize[0].Mallocs = m_largeAllocs;
    st.BySize[0].Frees = m_largeFrees;
    st.BySize[0].RequestedBytes = m_largeRequested.load(std::memory_order_relaxed);
    st.Mallocs = smallMallocs + m_largeAllocs;
    st.Frees = smallFrees + m_largeFrees;
    st.HeapObjects = st.Mallocs - st.Frees;
    st.TotalAlloc = smallAllocBytes + m_largeAllocBytes;
    st.HeapAlloc = st.TotalAlloc - smallFreeBytes - m_largeFreeBytes;
    st.HeapInuse = m_heapInUse;
    st.HeapIdle = m_heapFree + m_heapReleased + m_scavInFlight;
    st.HeapReleased = m_heapReleased;
    st.HeapSys = st.HeapInuse + st.HeapIdle;
    st.MSpanInuse = m_spanAlloc.inuse();
    st.MSpanSys = m_spanAlloc.sys();
    for (const auto& b : m_bitsAlloc) st.GCSys += b.sys();
    st.OtherSys = m_arenaMetaBytes + m_pages.metadataBytes();
    st.Sys = st.HeapSys + st.MSpanSys + st.GCSys + st.OtherSys;
    // 0 where there is none (GOGC=off with no memory limit: the pacer's goal is "never").
    const uint64_t goal = m_goal.load(std::memory_order_relaxed);
    const uint64_t next = goal ? goal : m_trigger.load(std::memory_order_relaxed);
    st.NextSweep = next < (uint64_t{1} << 50) ? next : 0;
    st.HeapLive = heapLive();
    st.NumSweepCycles = m_numCycles.load(std::memory_order_relaxed);
    flushReserveLocked();  // its pages are free: the run they belong to counts whole
    st.LargestFreeRunBytes = m_pages.largestFreeRun() * kPageSize;
}

}  // namespace spanscope::detail
