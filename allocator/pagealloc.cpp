// Page allocator: bitmaps per 4 MiB chunk with a radix tree of summaries, as Go's mpagealloc.go.
// Summaries live in address space reserved up front and committed as the heap grows, as Go does.
#include "spanscope/detail/pagealloc.h"

#include <cstring>

#include "spanscope/detail/platform.h"

namespace spanscope::detail {

namespace {
// Level l has 2^kLevelBits[l] entries; an entry covers 2^kLevelLogPages[l] pages.
constexpr int kLevelBits[PageAlloc::kLevels] = {13, 16, 19, 22, 25};
constexpr int kLevelLogPages[PageAlloc::kLevels] = {21, 18, 15, 12, 9};
constexpr uintptr_t kLevelShift[PageAlloc::kLevels] = {34, 31, 28, 25, 22};
constexpr size_t kOsPage = 4096;

inline void setBits(uint64_t* w, size_t i, size_t n) {
    while (n) {
        size_t bit = i & 63, take = 64 - bit < n ? 64 - bit : n;
        uint64_t m = take == 64 ? ~0ull : ((1ull << take) - 1) << bit;
        w[i >> 6] |= m;
        i += take;
        n -= take;
    }
}
inline void clearBits(uint64_t* w, size_t i, size_t n) {
    while (n) {
        size_t bit = i & 63, take = 64 - bit < n ? 64 - bit : n;
        uint64_t m = take == 64 ? ~0ull : ((1ull << take) - 1) << bit;
        w[i >> 6] &= ~m;
        i += take;
        n -= take;
    }
}
inline size_t countBits(const uint64_t* w, size_t i, size_t n) {
    size_t c = 0;
    while (n) {
        size_t bit = i & 63, take = 64 - bit < n ? 64 - bit : n;
        uint64_t m = take == 64 ? ~0ull : ((1ull << take) - 1) << bit;
        c += static_cast<size_t>(popcount64(w[i >> 6] & m));
        i += take;
        n -= take;
    }
    return c;
}
inline bool testBit(const uint64_t* w, size_t i) {
    return (w[i >> 6] >> (i & 63)) & 1;
}

// Lowest bit i such that bits i..i+n-1 of x are all set (1 <= n <= 64), or 64 if none: x is shifted
// onto itself so that bit i survives only if the n-1 bits above it are set too, doubling the
// covered length each step (Go's findBitRange64).
inline unsigned findOnesRun64(uint64_t x, size_t n) {
    for (size_t have = 1; have < n && x;) {
        const size_t step = have < n - have ? have : n - have;
        x &= x >> step;
        have += step;
    }
    return x ? static_cast<unsigned>(__builtin_ctzll(x)) : 64;
}

// First run of n zero bits in a 512-bit map, or -1. Whole words are skipped at once; a run may
// start in the free pages at the top of one word and continue into the next.
long findRun(const uint64_t* w, size_t n) {
    size_t run = 0, runStart = 0;
    for (size_t wi = 0; wi < PageAlloc::kChunkPages / 64; wi++) {
        const uint64_t word = w[wi];
        if (word == 0) {
            if (run == 0) runStart = wi * 64;
            run += 64;
            if (run >= n) return static_cast<long>(runStart);
            continue;
        }
        // The free pages at the bottom of this word finish the run carried from below.
        if (run == 0) runStart = wi * 64;
        if (run + static_cast<size_t>(__builtin_ctzll(word)) >= n)
            return static_cast<long>(runStart);
        // A run entirely inside the word.
        if (n <= 64) {
            const unsigned i = findOnesRun64(~word, n);
            if (i < 64) return static_cast<long>(wi * 64 + i);
        }
        // The free pages at its top start the run carried upward.
        run = static_cast<size_t>(__builtin_clzll(word));
        runStart = wi * 64 + 64 - run;
    }
    return -1;
}
}  // namespace

void PageAlloc::init() {
    for (int l = 0; l < kLevels; l++) {
        size_t bytes = (size_t{1} << kLevelBits[l]) * sizeof(uint64_t);
        m_sums[l] = static_cast<uint64_t*>(sysReserve(bytes, kOsPage, nullptr));
        if (!m_sums[l]) fatal("cannot reserve %zu bytes for page summaries", bytes);
    }
    size_t l1 = (size_t{1} << kChunkL1Bits) * sizeof(Chunk*);
    m_chunksL1 = static_cast<Chunk**>(sysAllocMeta(l1));
    m_metaBytes += l1;
}

PageAlloc::Chunk* PageAlloc::chunk(uintptr_t ci) const {
    Chunk* l2 = m_chunksL1[ci >> kChunkL2Bits];
    return l2 ? &l2[ci & ((uintptr_t{1} << kChunkL2Bits) - 1)] : nullptr;
}

PageAlloc::Chunk* PageAlloc::chunkOrCreate(uintptr_t ci) {
    Chunk*& l2 = m_chunksL1[ci >> kChunkL2Bits];
    if (!l2) {
        size_t bytes = (size_t{1} << kChunkL2Bits) * sizeof(Chunk);
        l2 = static_cast<Chunk*>(sysAllocMeta(bytes));
        // Zeroed and untouched: a chunk's entry matters only once grow() sets it up.
        m_metaBytes += bytes;
    }
    return &l2[ci & ((uintptr_t{1} << kChunkL2Bits) - 1)];
}

void PageAlloc::commitSummaries(uintptr_t base, size_t bytes, int levels) {
    for (int l = 0; l < levels; l++) {
        uintptr_t lo = base >> kLevelShift[l], hi = (base + bytes - 1) >> kLevelShift[l];
        uintptr_t b = reinterpret_cast<uintptr_t>(&m_sums[l][lo]) & ~(kOsPage - 1);
        uintptr_t e =
            (reinterpret_cast<uintptr_t>(&m_sums[l][hi + 1]) + kOsPage - 1) & ~(kOsPage - 1);
        if (!sysMap(reinterpret_cast<void*>(b), e - b))  // idempotent; new pages read 0
            fatal("out of memory: cannot map %zu bytes of page summaries", e - b);
    }
}

void PageAlloc::grow(uintptr_t base, size_t bytes) {
    commitSummaries(base, bytes, kLevels);
    m_metaBytes += bytes / kChunkBytes * 16;  // about 9 summary bytes per chunk plus inner levels
    for (uintptr_t a = base; a < base + bytes; a += kChunkBytes) {
        Chunk* c = chunkOrCreate(a >> kChunkShift);
        memset(c->inUse, 0, sizeof c->inUse);
        c->grown = 1;
        memset(c->scavenged, 0xff, sizeof c->scavenged);  // fresh memory counts as released
    }
    if (m_minAddr == 0 || base < m_minAddr) m_minAddr = base;
    if (base + bytes > m_maxAddr) m_maxAddr = base + bytes;
    // find() scans the root level across the whole grown range, holes included.
    commitSummaries(m_minAddr, m_maxAddr - m_minAddr, 1);
    updateSummaries(base, bytes / kPageSize);
}

namespace {
// Longest run of one bits in x: each step shortens every run by one.
unsigned longestOnes(uint64_t x) {
    unsigned k = 0;
    for (; x; k++) x &= x << 1;
    return k;
}
}  // namespace

// Go's pallocBits.summarize, a word at a time: free pages at the bottom of a word extend the run
// carried from the words below, runs inside a word are measured on the word, and the free pages
// at its top start the run carried upward. (Allocating a span recomputes one leaf per chunk it
// touches; page by page this was a quarter of all instructions of a fragmentation workload.)
uint64_t PageAlloc::leafSummary(uintptr_t ci) const {
    const Chunk* c = chunk(ci);
    if (!c || !c->grown) return 0;
    uint64_t start = 0, max = 0, run = 0;
    bool leading = true;
    for (size_t wi = 0; wi < kChunkPages / 64; wi++) {
        const uint64_t used = c->inUse[wi];
        if (used == 0) {
            run += 64;
            if (run > max) max = run;
            continue;
        }
        run += static_cast<uint64_t>(__builtin_ctzll(used));
        if (run > max) max = run;
        if (leading) start = run;
        leading = false;
        const uint64_t inner = longestOnes(~used);
        if (inner > max) max = inner;
        run = static_cast<uint64_t>(__builtin_clzll(used));
    }
    if (leading) start = run;
    return pack(start, max, run);
}

// The reference: page by page. validate() (checkSummaries) checks the stored summaries, which
// leafSummary computed, against it.
uint64_t PageAlloc::leafSummaryReference(uintptr_t ci) const {
    const Chunk* c = chunk(ci);
    if (!c || !c->grown) return 0;
    uint64_t start = 0, max = 0, run = 0;
    bool leading = true;
    for (size_t wi = 0; wi < kChunkPages / 64; wi++) {
        uint64_t word = c->inUse[wi];
        if (word == 0) {
            run += 64;
            if (run > max) max = run;
            continue;
        }
        for (size_t b = 0; b < 64; b++) {
            if (!((word >> b) & 1)) {
                if (++run > max) max = run;
            } else {
                if (leading) start = run;
                leading = false;
                run = 0;
            }
        }
    }
    if (leading) start = run;
    return pack(start, max, run);
}

uint64_t PageAlloc::mergeChildren(int level, size_t parent) const {
    // Go's mergeSummaries: runs carry across neighbouring children.
    const uint64_t* kids = &m_sums[level + 1][parent * 8];
    const uint64_t entry = uint64_t{1} << kLevelLogPages[level + 1];
    uint64_t start = 0, end = 0, max = 0;
    for (int i = 0; i < 8; i++) {
        Sum s = unpack(kids[i]);
        if (start == static_cast<uint64_t>(i) * entry) start += s.start;
        if (end + s.start > max) max = end + s.start;
        if (s.max > max) max = s.max;
        if (s.start == entry)
            end += entry;
        else
            end = s.end;
    }
    return pack(start, max, end);
}

// Recomputes the leaves of the chunks in the range, then their ancestors level by level, and stops
// at the first level where no summary changed: a parent is a function of its children only, so
// nothing above can change either (most span allocations change a leaf's runs without changing
// what the level above sees, and the four merges of 8 children each cost more than the leaf).
void PageAlloc::updateSummaries(uintptr_t base, size_t npages) {
    uintptr_t last = base + npages * kPageSize - 1;
    bool changed = false;
    for (uintptr_t ci = base >> kChunkShift; ci <= last >> kChunkShift; ci++) {
        const uint64_t sum = leafSummary(ci);
        changed |= m_sums[kLevels - 1][ci] != sum;
        m_sums[kLevels - 1][ci] = sum;
    }
    for (int l = kLevels - 2; l >= 0 && changed; l--) {
        changed = false;
        for (uintptr_t e = base >> kLevelShift[l]; e <= last >> kLevelShift[l]; e++) {
            const uint64_t sum = mergeChildren(l, e);
            changed |= m_sums[l][e] != sum;
            m_sums[l][e] = sum;
        }
    }
}

uintptr_t PageAlloc::find(size_t npages) const {
    if (m_maxAddr == 0) return 0;
    size_t lo = m_minAddr >> kLevelShift[0], hi = ((m_maxAddr - 1) >> kLevelShift[0]) + 1;
    for (int l = 0; l < kLevels; l++) {
        const uint64_t entry = uint64_t{1} << kLevelLogPages[l];
        uintptr_t runBase = 0;
        size_t runSize = 0;
        long into = -1;
        for (size_t j = lo; j < hi; j++) {
            uint64_t packed = m_sums[l][j];
            if (packed == 0) {
                runSize = 0;
                continue;
            }
            Sum s = unpack(packed);
            if (runSize + s.start >= npages) {
                if (runSize == 0) runBase = uintptr_t{j} << kLevelShift[l];
                return runBase;  // the run starts in an earlier entry or at this one's low end
            }
            if (s.max >= npages) {
                into = static_cast<long>(j);
                break;
            }
            if (s.start == entry) {
                if (runSize == 0) runBase = uintptr_t{j} << kLevelShift[l];
                runSize += entry;
            } else {
                runSize = s.end;
                runBase = (uintptr_t{j + 1} << kLevelShift[l]) - runSize * kPageSize;
            }
        }
        if (into < 0) {
            if (l != 0)
                fatal("page allocator: summary at level %d promised %zu pages", l - 1, npages);
            return 0;
        }
        if (l == kLevels - 1) {
            long i = findRun(chunk(static_cast<uintptr_t>(into))->inUse, npages);
            if (i < 0) fatal("page allocator: chunk summary promised %zu pages", npages);
            return (static_cast<uintptr_t>(into) << kChunkShift) +
                   static_cast<uintptr_t>(i) * kPageSize;
        }
        lo = static_cast<size_t>(into) * 8;
        hi = lo + 8;
    }
    return 0;
}

size_t PageAlloc::allocRange(uintptr_t base, size_t npages) {
    size_t scav = 0;
    uintptr_t p = base, left = npages;
    while (left) {
        uintptr_t ci = p >> kChunkShift;
        size_t i = (p & (kChunkBytes - 1)) / kPageSize;
        size_t n = kChunkPages - i < left ? kChunkPages - i : left;
        Chunk* c = chunk(ci);
        setBits(c->inUse, i, n);
        scav += countBits(c->scavenged, i, n);
        clearBits(c->scavenged, i, n);
        p += n * kPageSize;
        left -= n;
    }
    updateSummaries(base, npages);
    return scav;
}

uintptr_t PageAlloc::alloc(size_t npages, size_t* scav) {
    uintptr_t base = find(npages);
    if (!base) return 0;
    *scav = allocRange(base, npages);
    return base;
}

uintptr_t PageAlloc::allocAligned(size_t npages, size_t alignPages, size_t* scav) {
    // Take a run long enough to hold an aligned one, then give back the head and the tail.
    size_t total = npages + alignPages - 1;
    uintptr_t base = find(total);
    if (!base) return 0;
    uintptr_t align = alignPages * kPageSize;
    uintptr_t aligned = (base + align - 1) & ~(align - 1);
    *scav = allocRange(aligned, npages);
    return aligned;
}

bool PageAlloc::allocExact(uintptr_t base, size_t npages, size_t* scav) {
    if (base < m_minAddr || base + npages * kPageSize > m_maxAddr) return false;
    for (size_t k = 0; k < npages; k++)
        if (pageInUse(base + k * kPageSize)) return false;
    *scav = allocRange(base, npages);
    return true;
}

void PageAlloc::free(uintptr_t base, size_t npages) {
    uintptr_t p = base, left = npages;
    while (left) {
        size_t i = (p & (kChunkBytes - 1)) / kPageSize;
        size_t n = kChunkPages - i < left ? kChunkPages - i : left;
        clearBits(chunk(p >> kChunkShift)->inUse, i, n);
        p += n * kPageSize;
        left -= n;
    }
    updateSummaries(base, npages);
}

bool PageAlloc::takeBlock64(uintptr_t* base, uint64_t* pages, uint64_t* released) {
    const uintptr_t addr = find(1);
    if (!addr) return false;
    Chunk* c = chunk(addr >> kChunkShift);
    const size_t wi = (addr & (kChunkBytes - 1)) / kPageSize / 64;
    const uint64_t take = ~c->inUse[wi];
    *pages = take;
    *released = c->scavenged[wi] & take;
    c->inUse[wi] = ~0ull;
    c->scavenged[wi] &= ~take;
    *base = (addr & ~(kChunkBytes - 1)) + wi * 64 * kPageSize;
    updateSummaries(*base, 64);
    return true;
}

void PageAlloc::returnBlock64(uintptr_t base, uint64_t pages, uint64_t released) {
    Chunk* c = chunk(base >> kChunkShift);
    const size_t wi = (base & (kChunkBytes - 1)) / kPageSize / 64;
    c->inUse[wi] &= ~pages;
    c->scavenged[wi] |= released;
    updateSummaries(base, 64);
}

size_t PageAlloc::findScavengeCandidate(size_t maxPages, uintptr_t* base) const {
    if (m_maxAddr == 0) return 0;
    for (uintptr_t ci = (m_maxAddr - 1) >> kChunkShift;; ci--) {
        const Chunk* c = chunk(ci);
        if (c && unpack(m_sums[kLevels - 1][ci]).max > 0) {
            for (long w = kChunkPages / 64 - 1; w >= 0; w--) {
                uint64_t cand = ~c->inUse[w] & ~c->scavenged[w];
                if (!cand) continue;
                // Highest candidate page, then extend the run downward.
                long hiBit = w * 64 + 63 - __builtin_clzll(cand);
                long i = hiBit;
                size_t n = 0;
                while (i >= 0 && n < maxPages && !testBit(c->inUse, static_cast<size_t>(i)) &&
                       !testBit(c->scavenged, static_cast<size_t>(i))) {
                    i--;
                    n++;
                }
                *base = (ci << kChunkShift) + static_cast<uintptr_t>(i + 1) * kPageSize;
                return n;
            }
        }
        if (ci <= (m_minAddr >> kChunkShift)) break;
    }
    return 0;
}

void PageAlloc::markScavenged(uintptr_t base, size_t npages) {
    for (size_t k = 0; k < npages; k++) {
        uintptr_t a = base + k * kPageSize;
        Chunk* c = chunk(a >> kChunkShift);
        setBits(c->scavenged, (a & (kChunkBytes - 1)) / kPageSize, 1);
    }
}

bool PageAlloc::pageInUse(uintptr_t addr) const {
    const Chunk* c = chunk(addr >> kChunkShift);
    return !c || !c->grown || testBit(c->inUse, (addr & (kChunkBytes - 1)) / kPageSize);
}

bool PageAlloc::pageScavenged(uintptr_t addr) const {
    const Chunk* c = chunk(addr >> kChunkShift);
    return c && testBit(c->scavenged, (addr & (kChunkBytes - 1)) / kPageSize);
}

size_t PageAlloc::countFreePages() const {
    size_t n = 0;
    for (uintptr_t a = m_minAddr; a < m_maxAddr; a += kChunkBytes) {
        const Chunk* c = chunk(a >> kChunkShift);
        if (!c || !c->grown) continue;
        n += kChunkPages - countBits(c->inUse, 0, kChunkPages);
    }
    return n;
}

size_t PageAlloc::countScavengedPages() const {
    size_t n = 0;
    for (uintptr_t a = m_minAddr; a < m_maxAddr; a += kChunkBytes) {
        const Chunk* c = chunk(a >> kChunkShift);
        if (!c || !c->grown) continue;
        // Only free pages count: allocRange clears the bit when a page is taken.
        n += countBits(c->scavenged, 0, kChunkPages);
    }
    return n;
}

size_t PageAlloc::largestFreeRun() const {
    if (m_maxAddr == 0) return 0;
    size_t lo = m_minAddr >> kLevelShift[0], hi = ((m_maxAddr - 1) >> kLevelShift[0]) + 1;
    // Merge the root entries in address order, as mergeChildren does.
    uint64_t max = 0, end = 0;
    const uint64_t entry = uint64_t{1} << kLevelLogPages[0];
    for (size_t j = lo; j < hi; j++) {
        Sum s = unpack(m_sums[0][j]);
        if (end + s.start > max) max = end + s.start;
        if (s.max > max) max = s.max;
        end = s.start == entry ? end + entry : s.end;
    }
    return max;
}

bool PageAlloc::checkSummaries() const {
    if (m_maxAddr == 0) return true;
    for (uintptr_t ci = m_minAddr >> kChunkShift; ci <= (m_maxAddr - 1) >> kChunkShift; ci++) {
        const Chunk* c = chunk(ci);
        if (!c || !c->grown) continue;  // holes between arenas: their summaries are never read
        if (m_sums[kLevels - 1][ci] != leafSummaryReference(ci)) return false;
        uintptr_t addr = ci << kChunkShift;
        for (int l = kLevels - 2; l >= 0; l--)
            if (m_sums[l][addr >> kLevelShift[l]] != mergeChildren(l, addr >> kLevelShift[l]))
                return false;
    }
    return true;
}

}  // namespace spanscope::detail
