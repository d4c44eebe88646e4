// validate(): checks the invariants of spans, bitmaps, mcentral sets, the page allocator and the
// statistics by walking the whole heap. Debug and test use; needs the heap quiescent.
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "spanscope/detail/mheap.h"

namespace spanscope::detail {

// A failed check: its message goes to the caller's buffer.
struct ValidateFailure {
    char* why;
    size_t cap;
    bool fail(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
        if (why && cap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(why, cap, fmt, ap);
            va_end(ap);
        }
        return false;
    }
};

// What the walk over allspans counts, for the checks against the heap's own counters.
struct ValidateCounts {
    size_t inUsePages = 0, nspans = 0, cached = 0, large = 0;
    size_t byClass[kNumSizeClasses] = {};
};

namespace {
bool checkSet(ValidateFailure& f, const MCentral& c, const SpanSet& set, SpanWhere where,
              uint32_t wantGen, size_t* seen) {
    size_t n = 0;
    for (MSpan* s = set.first(); s; s = SpanSet::next(s), n++) {
        if (s->spanclass != c.spanclass)
            return f.fail("span %p of class %d in mcentral %d", (void*)s->startAddr, s->spanclass,
                          c.spanclass);
        // A sweepgen bump turns swept sets into unswept ones without touching their spans' tags.
        bool whereOk =
            s->where == static_cast<uint8_t>(where) ||
            (where == SpanWhere::PartialUnswept && s->whereNow() == SpanWhere::PartialSwept) ||
            (where == SpanWhere::FullUnswept && s->whereNow() == SpanWhere::FullSwept);
        if (!whereOk)
            return f.fail("span %p: where=%d, found in set %d", (void*)s->startAddr, s->where,
                          (int)where);
        if (s->sweepgen != wantGen)
            return f.fail("span %p: sweepgen %u in a set wanting %u", (void*)s->startAddr,
                          s->sweepgen, wantGen);
        bool full = !s->hasRoom();
        if (where == SpanWhere::PartialSwept && full)
            return f.fail("span %p without room in partialSwept", (void*)s->startAddr);
        if (where == SpanWhere::FullSwept && !full)
            return f.fail("span %p with room in fullSwept", (void*)s->startAddr);
        if (s->next && s->next->prev != s)
            return f.fail("broken links in mcentral %d", c.spanclass);
    }
    if (n != set.size())
        return f.fail("mcentral %d: set count %zu, walked %zu", c.spanclass, set.size(), n);
    *seen += n;
    return true;
}

// Invariant 4 (docs/ARCHITECTURE.md): every span in an mcentral set is where its tag says, of
// the set's class and sweep generation. Counts the spans found into *inSets.
bool checkCentrals(ValidateFailure& f, MCentral* centrals, uint32_t sg, size_t* inSets) {
    for (int i = 0; i < kNumSpanClasses; i++) {
        MCentral& c = centrals[i];
        if (!checkSet(f, c, c.partialSwept(sg), SpanWhere::PartialSwept, sg, inSets)) return false;
        if (!checkSet(f, c, c.fullSwept(sg), SpanWhere::FullSwept, sg, inSets)) return false;
        if (!checkSet(f, c, c.partialUnswept(sg), SpanWhere::PartialUnswept, sg - 2, inSets))
            return false;
        if (!checkSet(f, c, c.fullUnswept(sg), SpanWhere::FullUnswept, sg - 2, inSets))
            return false;
    }
    return true;
}

// A span's shape agrees with its class (small: the class table's nelems, elemsize, npages;
// large: one object, tagged Large in malloc mode).
bool checkSpanClass(ValidateFailure& f, const MSpan* s, ValidateCounts& n) {
    void* b = reinterpret_cast<void*>(s->startAddr);
    const int cls = spanClassSize(s->spanclass);
    if (cls) {
        if (s->nelems != classNelems(cls, spanClassNoscan(s->spanclass), !s->managed))
            return f.fail("span %p: nelems %u", b, s->nelems);
        if (s->elemsize != kClassToSize[cls]) return f.fail("span %p: elemsize %u", b, s->elemsize);
        if (s->npages != classNPages(cls, !s->managed))
            return f.fail("span %p: npages %zu", b, s->npages);
        return true;
    }
    if (!s->managed) {
        n.large++;  // managed large spans sit in their mcentral's full sets, as in Go
        if (s->whereNow() != SpanWhere::Large) return f.fail("large span %p not marked large", b);
        if (s->allocCount != 1) return f.fail("large span %p: allocCount %u", b, s->allocCount);
    }
    return true;
}

// A span's slots: counts and bitmaps agree, free bits only on allocated slots, and only a cached
// span has an owner or unmerged local frees.
bool checkSpanSlots(ValidateFailure& f, const MSpan* s, ValidateCounts& n) {
    void* b = reinterpret_cast<void*>(s->startAddr);
    if (s->freeindex > s->nelems)
        return f.fail("span %p: freeindex %u > nelems %u", b, s->freeindex, s->nelems);
    if (s->allocCount > s->nelems)
        return f.fail("span %p: allocCount %u > nelems", b, s->allocCount);
    if (s->allocCount != s->countAllocatedSlow())
        return f.fail("span %p (class %d): allocCount %u but %zu slots allocated", b,
                      spanClassSize(s->spanclass), s->allocCount, s->countAllocatedSlow());
    for (size_t w = 0; w < s->nwords; w++) {
        if (s->allocBits[w] & ~s->validMask(w))
            return f.fail("span %p: allocBits set beyond nelems", b);
        uint64_t allocated = s->allocatedWord(w);
        if ((s->freeBits[w] | s->localFreeBits()[w]) & ~allocated)
            return f.fail("span %p: a free bit on an unallocated slot", b);
        if (s->freeBits[w] & s->localFreeBits()[w]) return f.fail("span %p: slot freed twice", b);
    }
    if (s->whereNow() == SpanWhere::Cached) {
        n.cached++;
        if (!s->owner) return f.fail("cached span %p has no owner", b);
        return true;
    }
    if (s->owner) return f.fail("uncached span %p has an owner", b);
    for (size_t w = 0; w < s->nwords; w++)
        if (s->localFreeBits()[w]) return f.fail("uncached span %p has unmerged local frees", b);
    return true;
}
}  // namespace

// Invariants 1-3 for one span of allspans: in use, its pages map to it and are in use in the page
// allocator (and not in the page reserve), its shape and slots consistent.
bool MHeap::validateSpan(ValidateFailure& f, const MSpan* s, ValidateCounts& n) {
    void* b = reinterpret_cast<void*>(s->startAddr);
    n.nspans++;
    n.byClass[spanClassSize(s->spanclass)]++;
    if (s->state != static_cast<uint8_t>(SpanState::InUse))
        return f.fail("span %p in allspans is not in use", b);
    if (s->npages == 0 || s->startAddr % kPageSize) return f.fail("span %p: bad extent", b);
    for (size_t i = 0; i < s->npages; i++) {
        uintptr_t p = s->startAddr + i * kPageSize;
        if (spanOf(p) != s) return f.fail("page %p of span %p does not map to it", (void*)p, b);
        if (!m_pages.pageInUse(p))
            return f.fail("page %p of span %p is free in the page allocator", (void*)p, b);
        if (p - m_resBase < 64 * kPageSize && ((m_resPages >> ((p - m_resBase) / kPageSize)) & 1))
            return f.fail("page %p of span %p is in the page reserve", (void*)p, b);
    }
    n.inUsePages += s->npages;
    return checkSpanClass(f, s, n) && checkSpanSlots(f, s, n);
}

// Invariant 5: the page allocator's summaries and the byte buckets (in use, free, released,
// in flight) against the pages and the page reserve, and against every byte ever grown.
bool MHeap::validatePageAccounting(ValidateFailure& f, size_t inUsePages) {
    if (!m_pages.checkSummaries())
        return f.fail("page allocator summaries disagree with its bitmaps");
    if (m_heapInUse != inUsePages * kPageSize)
        return f.fail("HeapInuse %zu, spans hold %zu", m_heapInUse, inUsePages * kPageSize);
    // The page reserve's pages are free and in use in the page allocator's bitmap.
    if (m_resReleased & ~m_resPages)
        return f.fail("page reserve: a released page that is not in it");
    for (uint64_t r = m_resPages; r; r &= r - 1)
        if (!m_pages.pageInUse(m_resBase + static_cast<uintptr_t>(__builtin_ctzll(r)) * kPageSize))
            return f.fail("page reserve: a page free in the page allocator");
    size_t freeBytes = (m_pages.countFreePages() + popcount64(m_resPages)) * kPageSize;
    if (freeBytes != m_heapFree + m_heapReleased)
        return f.fail("free pages %zu bytes, heapFree+heapReleased %zu", freeBytes,
                      m_heapFree + m_heapReleased);
    const size_t releasedBytes =
        (m_pages.countScavengedPages() + popcount64(m_resReleased)) * kPageSize;
    if (releasedBytes != m_heapReleased)
        return f.fail("released pages %zu, HeapReleased %zu", releasedBytes, m_heapReleased);
    if (m_heapInUse + m_heapFree + m_heapReleased + m_scavInFlight != m_grownBytes)
        return f.fail("HeapInuse+HeapFree+HeapReleased = %zu, grown %zu",
                      m_heapInUse + m_heapFree + m_heapReleased, m_grownBytes);
    return true;
}

bool MHeap::validate(char* why, size_t cap) {
    ValidateFailure f{why, cap};
    lockAll();
    struct Unlock {
        MHeap* h;
        ~Unlock() { h->unlockAll(); }
    } unlock{this};
    const uint32_t sg = m_sweepgen.load();

    ValidateCounts n;
    for (MSpan* s : m_allspans)
        if (!validateSpan(f, s, n)) return false;
    if (n.nspans != m_allspans.size())
        return f.fail("allspans holds %zu spans, count says %zu", n.nspans, m_allspans.size());
    for (int c = 0; c < kNumSizeClasses; c++)  // the counts readStats reports without a walk
        if (n.byClass[c] != m_spansByClass[c])
            return f.fail("class %d: allspans holds %zu spans, count says %zu", c, n.byClass[c],
                          m_spansByClass[c]);

    size_t inSets = 0;
    if (!checkCentrals(f, m_central, sg, &inSets)) return false;
    if (inSets + n.cached + n.large != n.nspans)
        return f.fail("%zu spans: %zu in mcentral sets, %zu cached, %zu large", n.nspans, inSets,
                      n.cached, n.large);
    return validatePageAccounting(f, n.inUsePages);
}

}  // namespace spanscope::detail
