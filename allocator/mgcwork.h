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

// The global pool: full buffers waiting to be scanned and empty ones to reuse.
class WorkPool {
public:
    WorkBuf* getEmpty();
    void putEmpty(WorkBuf* b);
    void putFull(WorkBuf* b);
    WorkBuf* tryGetFull();
    bool empty() const { return m_nfull.load(std::memory_order_acquire) == 0; }
    void lock() { m_lock.lock(); }  // fork handlers
    void unlock() { m_lock.unlock(); }

private:
    SpinLock m_lock;
    WorkBuf* m_full = nullptr;
    WorkBuf* m_empty = nullptr;
    std::atomic<size_t> m_nfull{0};
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

private:
    void putSlow();
    bool getSlow();
};

}  // namespace spanscope::detail
