// Grey-object work buffers (Go's mgcwork.go): 2 KiB buffers of object addresses, a global list of
// full ones, and a per-worker GcWork that fills and drains one buffer at a time.
// Internal to the collector (mgc.cpp, mgcmark.cpp). See spanscope/gc.h.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "spanscope/detail/platform.h"

namespace spanscope::detail {

struct WorkBuf {
    static constexpr size_t kCap = (2048 - 16) / sizeof(uintptr_t);  // Go's _WorkbufSize = 2 KiB
    WorkBuf* next;
    size_t n;
    uintptr_t obj[kCap];
};
static_assert(sizeof(WorkBuf) == 2048);

// A lock-free stack of buffers (Go's lfstack): the pointer packed with a 16-bit push count, so
// that a buffer popped and pushed again between a reader's load and its CAS is noticed (ABA).
// Lock-free because the idle mark worker runs at SCHED_IDLE: were it preempted holding a lock,
// a mutator needing that lock would wait for an idle CPU (priority inversion).
class LfStack {
public:
    void push(WorkBuf* b);
    WorkBuf* pop();
    bool empty() const {
        return (m_head.load(std::memory_order_acquire) & ((uint64_t{1} << kPtrBits) - 1)) == 0;
    }
    void reset() { m_head.store(0, std::memory_order_relaxed); }

private:
    static constexpr int kPtrBits = 48;
    std::atomic<uint64_t> m_head{0};
};

// The global pool: full buffers waiting to be scanned and empty ones to reuse.
class WorkPool {
public:
    WorkBuf* getEmpty();
    void putEmpty(WorkBuf* b) { m_empty.push(b); }
    void putFull(WorkBuf* b) { m_full.push(b); }
    WorkBuf* tryGetFull() { return m_full.empty() ? nullptr : m_full.pop(); }
    bool empty() const { return m_full.empty(); }
    void lock() { m_lock.lock(); }  // fork handlers (the buffer allocator)
    void unlock() { m_lock.unlock(); }

private:
    SpinLock m_lock;  // m_alloc only
    LfStack m_full, m_empty;
    FixAlloc m_alloc;
};

extern WorkPool g_workPool;

// One marker's view (Go's gcWork): the buffer being filled and drained, plus counters flushed
// into the cycle totals.
struct GcWork {
    WorkBuf* buf = nullptr;
    uint64_t bytesMarked = 0;
    uint64_t scanWork = 0;

    void put(uintptr_t obj) {
        if (SPANSCOPE_UNLIKELY(!buf || buf->n == WorkBuf::kCap)) putSlow();
        buf->obj[buf->n++] = obj;
    }
    bool tryGet(uintptr_t* obj) {
        if (SPANSCOPE_UNLIKELY(!buf || buf->n == 0)) {
            if (!getSlow()) return false;
        }
        *obj = buf->obj[--buf->n];
        return true;
    }
    // Hands whatever is buffered to the global pool (ragged barrier, mark termination).
    void flush();
    // Go's gcWork.balance: when the pool has run dry, hand half of this marker's grey objects to
    // it, so that other markers (the idle worker above all) have work to take. A depth-first scan
    // of a tree keeps only a few dozen grey objects, never a full buffer: without this, whoever
    // took the root marked the whole tree alone.
    void balance();

private:
    void putSlow();
    bool getSlow();
};

}  // namespace spanscope::detail
