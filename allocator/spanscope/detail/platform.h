// OS memory (Go's mem_linux.go: reserve, map, unused/used, metadata), a spin lock that needs no
// allocation or initialisation, a fixed-size metadata allocator (Go's fixalloc), and fatal errors.
// Nothing here may call malloc: it runs inside malloc, before libc is fully up.
#pragma once
#include <sched.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#define SPANSCOPE_LIKELY(x) __builtin_expect(!!(x), 1)
#define SPANSCOPE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SPANSCOPE_NOINLINE __attribute__((noinline))
#define SPANSCOPE_INLINE inline __attribute__((always_inline))

namespace spanscope::detail {

// Prints "spanscope: <message>" to stderr without allocating, then aborts (like glibc's
// malloc_printerr). printf-style %s, %zu, %p and %d only.
[[noreturn]] void fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Same formatting, no abort (diagnostics, gctrace).
void printErr(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Address space: Reserved (PROT_NONE) -> Ready (read/write) -> released (MADV_DONTNEED) -> reused.
void* sysReserve(size_t bytes, size_t align, void* hint);
bool sysMap(void* p, size_t bytes);   // Reserved -> Ready; false when the kernel refuses
void sysFree(void* p, size_t bytes);  // Reserved -> gone (a reservation that was refused)
size_t sysMemoryBytes();  // physical memory plus swap (sysinfo), or SPANSCOPE_RESERVE_LIMIT; once
void sysUnused(void* p, size_t bytes);  // give the physical pages back; contents read as zero
void* sysAllocMeta(size_t bytes);       // zeroed read/write metadata, never freed
uint64_t nanotime();                    // CLOCK_MONOTONIC in ns
int currentTid();

// Futexes (process-private): wait while *w == seen, at most timeoutNs (0: no limit), or until
// woken; wake up to n waiters.
void futexWait(std::atomic<uint32_t>* w, uint32_t seen, long timeoutNs);
void futexWake(std::atomic<uint32_t>* w, int n);
inline void futexWakeAll(std::atomic<uint32_t>* w) {
    futexWake(w, 0x7fffffff);
}

// Test-and-test-and-set lock with backoff to sched_yield. Zero-initialised, so it works in static
// storage before any constructor runs and needs no cleanup at fork (handlers take and release it).
class SpinLock {
public:
    void lock() {
        if (SPANSCOPE_LIKELY(!m_locked.exchange(true, std::memory_order_acquire))) return;
        lockSlow();
    }
    bool tryLock() { return !m_locked.exchange(true, std::memory_order_acquire); }
    void unlock() { m_locked.store(false, std::memory_order_release); }
    bool isLocked() const { return m_locked.load(std::memory_order_relaxed); }

private:
    SPANSCOPE_NOINLINE void lockSlow() {
        for (int spins = 0;; spins++) {
            while (m_locked.load(std::memory_order_relaxed)) {
                if (spins < 64)
                    __builtin_ia32_pause();
                else
                    sched_yield();
                spins++;
            }
            if (!m_locked.exchange(true, std::memory_order_acquire)) return;
        }
    }
    std::atomic<bool> m_locked{false};
};

class LockGuard {
public:
    explicit LockGuard(SpinLock& l) : m_lock(l) { m_lock.lock(); }
    ~LockGuard() { m_lock.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    SpinLock& m_lock;
};

// Threads inside a region that a fork must not cut in half, and a gate the fork's prepare handler
// closes: one atomic word, the gate in its top bit and the count below it, so that entering and
// seeing the gate are one read-modify-write (no Dekker pair of seq_cst stores and loads). Used for
// the managed heap's sweeps (MHeap) and the heap profiler's stack walks (mprof.cpp). A child
// inherits the word as it was: count() there is the number of threads the fork left behind inside.
class ForkGate {
public:
    // Enters unless the gate is closed (false: the caller skips the region or waits for it).
    bool tryEnter() {
        uint32_t v = m_word.load(std::memory_order_relaxed);
        while (!(v & kClosed))
            if (m_word.compare_exchange_weak(v, v + 1, std::memory_order_acquire,
                                             std::memory_order_relaxed))
                return true;
        return false;
    }
    // Enters, waiting for a fork to finish if the gate is closed.
    void enter() {
        while (!tryEnter()) {
            const uint32_t v = m_word.load(std::memory_order_relaxed);
            if (v & kClosed) futexWait(&m_word, v, 0);
        }
    }
    // Counted even through a closed gate: for a count that only drain() waits for.
    void enterUngated() { m_word.fetch_add(1, std::memory_order_relaxed); }
    void exit() {
        if (m_word.fetch_sub(1, std::memory_order_release) - 1 == kClosed)
            futexWakeAll(&m_word);  // the last one a closing fork waits for
    }
    // Closes the gate and waits for the threads inside to leave, at most timeoutNs (0: no limit).
    // Returns how many are still inside.
    uint32_t closeAndWait(long timeoutNs) {
        uint32_t v = m_word.fetch_or(kClosed, std::memory_order_acq_rel) | kClosed;
        const uint64_t start = timeoutNs ? nanotime() : 0;
        while (v != kClosed) {
            long left = 0;
            if (timeoutNs) {
                left = timeoutNs - static_cast<long>(nanotime() - start);
                if (left <= 0) break;
            }
            futexWait(&m_word, v, left);
            v = m_word.load(std::memory_order_acquire);
        }
        return v & ~kClosed;
    }
    void open() {
        m_word.fetch_and(~kClosed, std::memory_order_release);
        futexWakeAll(&m_word);  // those that waited at the gate (none in a child)
    }
    // Waits (yielding) until no thread is inside, the gate left as it is.
    void drain() const {
        while (count() != 0) sched_yield();
    }
    uint32_t count() const { return m_word.load(std::memory_order_acquire) & ~kClosed; }
    bool closed() const { return (m_word.load(std::memory_order_acquire) & kClosed) != 0; }
    void reset() { m_word.store(0, std::memory_order_relaxed); }  // a fork child, one thread

private:
    static constexpr uint32_t kClosed = 1u << 31;
    std::atomic<uint32_t> m_word{0};
};

// Go's fixalloc: a free list of fixed-size blocks carved from 64 KiB metadata chunks. The caller
// holds a lock. Blocks are never returned to the OS, so a stale pointer into one stays readable.
class FixAlloc {
public:
    void init(size_t size) { m_size = (size + 15) & ~size_t{15}; }
    void* alloc() {
        if (m_free) {
            Node* n = m_free;
            m_free = n->next;
            m_inuse += m_size;
            return n;
        }
        if (m_chunkLeft < m_size) {
            size_t chunk = m_size > kChunk ? m_size : kChunk;
            m_chunk = static_cast<char*>(sysAllocMeta(chunk));
            m_chunkLeft = chunk;
            m_sys += chunk;
        }
        void* p = m_chunk;
        m_chunk += m_size;
        m_chunkLeft -= m_size;
        m_inuse += m_size;
        return p;
    }
    void free(void* p) {
        Node* n = static_cast<Node*>(p);
        n->next = m_free;
        m_free = n;
        m_inuse -= m_size;
    }
    size_t size() const { return m_size; }
    size_t inuse() const { return m_inuse; }
    size_t sys() const { return m_sys; }

private:
    struct Node {
        Node* next;
    };
    static constexpr size_t kChunk = 64 << 10;
    size_t m_size = 0;
    Node* m_free = nullptr;
    char* m_chunk = nullptr;
    size_t m_chunkLeft = 0;
    size_t m_inuse = 0;
    size_t m_sys = 0;
};

// Population count without a libgcc call (the x86-64 baseline has no POPCNT instruction).
SPANSCOPE_INLINE unsigned popcount64(uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return static_cast<unsigned>((x * 0x0101010101010101ull) >> 56);
}

// Set once at heap initialisation (detectCpuFeatures): the CPU has the POPCNT instruction.
extern bool g_cpuHasPopcnt;
void detectCpuFeatures();

// popcount64 on a hot path: the POPCNT instruction where the CPU has it (every x86-64 CPU since
// 2008, but not the baseline the library is built for), else the portable sequence.
SPANSCOPE_INLINE unsigned popcount64Hot(uint64_t x) {
#if defined(__POPCNT__)
    return static_cast<unsigned>(__builtin_popcountll(x));
#elif defined(__x86_64__)
    if (SPANSCOPE_LIKELY(g_cpuHasPopcnt)) {
        uint64_t r;
        __asm__("popcntq %1, %0" : "=r"(r) : "rm"(x) : "cc");
        return static_cast<unsigned>(r);
    }
    return popcount64(x);
#else
    return popcount64(x);
#endif
}

// Relaxed atomic access to plain words that other threads may read (bitmaps, counters).
template <typename T>
SPANSCOPE_INLINE T loadRelaxed(const T& v) {
    return __atomic_load_n(&v, __ATOMIC_RELAXED);
}
template <typename T>
SPANSCOPE_INLINE void storeRelaxed(T& v, T x) {
    __atomic_store_n(&v, x, __ATOMIC_RELAXED);
}

}  // namespace spanscope::detail
