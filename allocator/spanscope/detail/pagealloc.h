// The page allocator (Go's mpagealloc.go): one bit per 8 KiB page in 4 MiB chunks, a 5-level radix
// tree of (start, max, end) summaries over the whole address space, address-ordered first fit, and
// a second bitmap of released (scavenged) pages. The caller (mheap) holds the heap lock.
#pragma once
#include <cstddef>
#include <cstdint>

#include "spanscope/detail/sizeclasses.h"

namespace spanscope::detail {

class PageAllocTestPeer;

class PageAlloc {
public:
    static constexpr int kChunkPages = 512;  // pallocChunkPages
    static constexpr uintptr_t kChunkShift = 22;
    static constexpr uintptr_t kChunkBytes = uintptr_t{1} << kChunkShift;  // 4 MiB
    static constexpr uintptr_t kAddrBits = 47;  // Linux x86-64 user space
    static constexpr int kLevels = 5;
    static constexpr int kLogMaxPacked = 21;
    static constexpr uint64_t kMaxPacked = uint64_t{1} << kLogMaxPacked;

    struct Sum {
        uint64_t start, max, end;
    };

    void init();
    // Adds [base, base+bytes) as free, released pages. base and bytes are chunk-aligned.
    void grow(uintptr_t base, size_t bytes);
    // Lowest-address run of npages free pages, taken; returns 0 if none. *scav gets how many of
    // them were released (their contents read as zero).
    uintptr_t alloc(size_t npages, size_t* scav);
    // As alloc, with the run's base aligned to alignPages pages (a power of two).
    uintptr_t allocAligned(size_t npages, size_t alignPages, size_t* scav);
    // Takes exactly [base, base+npages pages) if all of it is free and grown.
    bool allocExact(uintptr_t base, size_t npages, size_t* scav);
    void free(uintptr_t base, size_t npages);
    // Go's allocToCache: takes every free page of the 64-page block holding the lowest free page
    // (marked allocated, their released bits cleared) and returns the block's base, the pages
    // taken (bit i = page i) and which of those were released. False if no page is free.
    bool takeBlock64(uintptr_t* base, uint64_t* pages, uint64_t* released);
    // Gives back the pages of a block that takeBlock64 took and nobody used (Go's pageCache.flush).
    void returnBlock64(uintptr_t base, uint64_t pages, uint64_t released);

    // Scavenging (top-down, the opposite end from allocation): finds the highest run of free,
    // unreleased pages, at most maxPages long. Returns its page count (0: none) and base.
    size_t findScavengeCandidate(size_t maxPages, uintptr_t* base) const;
    void markScavenged(uintptr_t base, size_t npages);

    // Slow walks, for validate() and the statistics test.
    size_t countFreePages() const;
    size_t countScavengedPages() const;
    bool pageInUse(uintptr_t addr) const;
    bool pageScavenged(uintptr_t addr) const;
    bool checkSummaries() const;    // every summary equals the one recomputed from the bitmaps
    size_t largestFreeRun() const;  // in pages
    size_t metadataBytes() const { return m_metaBytes; }
    uintptr_t grownBegin() const { return m_minAddr; }
    uintptr_t grownEnd() const { return m_maxAddr; }

    // Inline: the summary updates after every span allocation and free unpack and pack dozens.
    static Sum unpack(uint64_t s) {
        if (s & (uint64_t{1} << 63)) return {kMaxPacked, kMaxPacked, kMaxPacked};
        const uint64_t m = kMaxPacked - 1;
        return {s & m, (s >> 21) & m, (s >> 42) & m};
    }
    static uint64_t pack(uint64_t start, uint64_t max, uint64_t end) {
        if (max == kMaxPacked) return uint64_t{1} << 63;
        return start | (max << 21) | (end << 42);
    }

private:
    friend class PageAllocTestPeer;
    struct Chunk {
        uint64_t inUse[kChunkPages / 64];      // 1 = page allocated (or never grown)
        uint64_t scavenged[kChunkPages / 64];  // 1 = page released to the OS
        uint64_t grown;                        // 0 until grow() adds the chunk to the heap
    };
    static constexpr int kChunkL1Bits = 12, kChunkL2Bits = 13;  // 2^25 chunks

    Chunk* chunk(uintptr_t ci) const;
    Chunk* chunkOrCreate(uintptr_t ci);
    void commitSummaries(uintptr_t base, size_t bytes, int levels);
    void updateSummaries(uintptr_t base, size_t npages);
    uint64_t leafSummary(uintptr_t ci) const;
    uint64_t leafSummaryReference(uintptr_t ci) const;  // page by page, for checkSummaries
    uint64_t mergeChildren(int level, size_t parent) const;
    uintptr_t find(size_t npages) const;
    size_t allocRange(uintptr_t base, size_t npages);  // returns released pages taken

    uint64_t* m_sums[kLevels] = {};
    Chunk** m_chunksL1 = nullptr;
    uintptr_t m_minAddr = 0, m_maxAddr = 0;  // grown range
    size_t m_metaBytes = 0;
};

}  // namespace spanscope::detail
