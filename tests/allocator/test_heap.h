// A private heap for unit tests of mheap, mcentral, mcache and the sweeper: an MHeap of its own
// (not the process's malloc heap), fed by FakePageSource, a bounded region that counts what the
// heap asks of it; and MHeapTestPeer, the friend mheap.h declares, for the state tests check.
#pragma once
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <memory>

#include "spanscope/detail/mcache.h"
#include "spanscope/detail/mheap.h"
#include "spanscope/detail/pagesource.h"

namespace spanscope::detail {

// At most `capacity` bytes of arenas, from one address range of its own. The range stays reserved
// after the source is gone: the arena index keeps pointing into it for the rest of the process.
class FakePageSource final : public PageSource {
public:
    explicit FakePageSource(size_t capacity) {
        const size_t len = capacity + kArenaBytes;  // room to align the start to an arena
        void* p = mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) ADD_FAILURE() << "cannot reserve the fake page source's range";
        m_next = (reinterpret_cast<uintptr_t>(p) + kArenaBytes - 1) & ~(kArenaBytes - 1);
        m_begin = m_next;
        m_end = m_next + capacity;
    }
    void* reserve(size_t bytes, size_t align, void*) override {
        reserveCalls++;
        const uintptr_t b = (m_next + align - 1) & ~(align - 1);
        if (b + bytes > m_end) {
            refused++;
            return nullptr;
        }
        m_next = b + bytes;
        reservedBytes += bytes;
        return reinterpret_cast<void*>(b);
    }
    bool map(void* p, size_t bytes) override {
        EXPECT_TRUE(owns(p, bytes));
        if (refuseMaps) return false;
        EXPECT_EQ(mprotect(p, bytes, PROT_READ | PROT_WRITE), 0);
        mappedBytes += bytes;
        return true;
    }
    void release(void* p, size_t bytes) override {
        EXPECT_TRUE(owns(p, bytes));
        releasedBytes += bytes;
    }
    void unused(void* p, size_t bytes) override {
        EXPECT_TRUE(owns(p, bytes));
        madvise(p, bytes, MADV_DONTNEED);
        unusedBytes += bytes;
    }
    bool owns(const void* p, size_t bytes) const {
        const auto a = reinterpret_cast<uintptr_t>(p);
        return a >= m_begin && a + bytes <= m_next;
    }

    size_t reserveCalls = 0, refused = 0;
    size_t reservedBytes = 0, mappedBytes = 0, unusedBytes = 0, releasedBytes = 0;
    bool refuseMaps = false;  // as the kernel refuses memory it cannot back

private:
    uintptr_t m_begin = 0, m_next = 0, m_end = 0;
};

// Reaches MHeap's private state (declared a friend in mheap.h).
class MHeapTestPeer {
public:
    static size_t spanCount(const MHeap& h) { return h.m_allspans.size(); }
    static bool backgroundStarted(const MHeap& h) { return h.m_bgState.load() != 0; }
    static PageSource* source(const MHeap& h) { return h.m_source; }
    static size_t& heapInUse(MHeap& h) { return h.m_heapInUse; }
    static size_t& spansOfClass(MHeap& h, int cls) { return h.m_spansByClass[cls]; }
    static bool inAllSpans(const MHeap& h, const MSpan* s) {
        for (MSpan* x : h.m_allspans)
            if (x == s) return true;
        return false;
    }
};

// A heap of its own with a fake page source, and a thread cache of its own for it. The trigger
// is out of reach, so no sweep generation (and no background thread) starts unless a test asks.
struct TestHeap {
    explicit TestHeap(bool managed = false, size_t capacity = size_t{256} << 20)
        : source(capacity), heap(std::make_unique<MHeap>()), cache(std::make_unique<MCache>()) {
        heap->init(managed, &source);
        heap->setTrigger(UINT64_MAX);
        cache->heap = heap.get();
        cache->state = CacheState::Live;
        cache->flushGen = heap->sweepgen();
    }
    ~TestHeap() {
        // A background thread would outlive the heap it sweeps.
        EXPECT_FALSE(MHeapTestPeer::backgroundStarted(*heap));
        char why[256] = "";
        EXPECT_TRUE(heap->validate(why, sizeof why)) << why;
    }
    MemStats stats() {
        MemStats st;
        heap->readStats(st);
        return st;
    }
    MHeap& h() { return *heap; }

    FakePageSource source;
    std::unique_ptr<MHeap> heap;
    std::unique_ptr<MCache> cache;
};

}  // namespace spanscope::detail

namespace spanscope::detail {

// The 64-byte class without pointers: 128 slots in a one-page span, swept once 32 are freed.
inline constexpr int kTestClass = 6;
inline constexpr uint8_t kTestSpc = makeSpanClass(kTestClass, true);
static_assert(kClassToSize[kTestClass] == 64 && kClassToAllocNPages[kTestClass] == 1);

// A free by a thread that does not own the span, as freeSmall's remote path makes it (a free bit,
// one toward the sweep threshold, markDirty when the threshold is reached), on heap h rather
// than the process's malloc heap.
inline void remoteFree(MHeap& h, MSpan* s, size_t idx) {
    __atomic_fetch_or(&s->freeBits[idx / 64], uint64_t{1} << (idx % 64), __ATOMIC_SEQ_CST);
    const unsigned after = __atomic_add_fetch(&s->pendingFrees, 1, __ATOMIC_SEQ_CST);
    if (after == s->sweepThreshold) h.central(s->spanclass).markDirty(h, s);
}

}  // namespace spanscope::detail
