// The probe's per-thread rings: the allocator's event sink copies each record into the calling
// thread's single-producer ring (mmap'd, never from the heap it observes); the drain thread
// (probe.cpp) empties them. See spanscope/detail/probe.h.
//
// A thread takes a buffer at its first event (a free one, or a new mapping) and gives it back at
// its ThreadExit event. Buffers are never unmapped, so a stale pointer stays valid. A full ring
// makes the thread wait a little (at most 2 ms) for the drain thread, then drops the record and
// counts it per kind (the sink runs with allocator locks held: it must never wait on a watcher).
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <new>

#include "spanscope/detail/platform.h"
#include "spanscope/detail/probe.h"

namespace spanscope::probe::internal {
using namespace spanscope::stream;

std::atomic<ThreadBuffer*> g_buffers{nullptr};
thread_local ThreadBuffer* t_buf __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local bool t_inProbe __attribute__((tls_model("initial-exec"))) = false;
std::atomic<uint32_t> g_wake{0};
std::atomic<uint32_t> g_drained{0};
std::atomic<uint32_t> g_waiters{0};
std::atomic<uint64_t> g_noBuffer{0};

void* mapZeroed(size_t bytes) {
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? nullptr : m;
}

void wakeDrain() {
    g_wake.fetch_add(1, std::memory_order_release);
    detail::futexWake(&g_wake, 1);
}

ThreadBuffer* acquireBuffer(int tid) {
    for (ThreadBuffer* b = g_buffers.load(std::memory_order_acquire); b; b = b->next) {
        int free = 0;
        if (b->owner.load(std::memory_order_relaxed) == 0 &&
            b->owner.compare_exchange_strong(free, tid, std::memory_order_acquire))
            return b;
    }
    void* m = mapZeroed(sizeof(ThreadBuffer));
    if (!m) return nullptr;
    auto* b = new (m) ThreadBuffer;
    b->lastTimeNs = detail::nanotime();  // its records come later (set before it is published)
    b->owner.store(tid, std::memory_order_relaxed);
    b->next = g_buffers.load(std::memory_order_relaxed);
    while (!g_buffers.compare_exchange_weak(b->next, b, std::memory_order_release,
                                            std::memory_order_relaxed)) {
    }
    return b;
}

std::atomic<bool> g_drainStalled{false};
std::atomic<uint64_t> g_stopDeadlineNs{0};

namespace {
// A full ring: wake the drain thread and sleep until it has made room, for at most kMaxWaitNs.
// The sink may run with an allocator lock held, so the wait is short and bounded, and skipped
// altogether while the drain thread cannot make room (g_drainStalled: its rundown holds the
// heap's locks, or its reader does not read). Past the bound the record is dropped and counted,
// and the ring is marked overflowing: later records drop at once, without waiting, until the
// drain thread has emptied it. The program never waits on a watcher for more than kMaxWaitNs per
// episode (a huge first allocation emits more records than a ring holds while the rundown waits
// for the heap lock its thread holds).
constexpr uint64_t kMaxWaitNs = 2000000;
uint64_t waitForRoom(ThreadBuffer* b, uint64_t t) {
    const uint64_t deadline = detail::nanotime() + kMaxWaitNs;
    g_waiters.fetch_add(1, std::memory_order_acq_rel);
    uint64_t h;
    for (;;) {
        const uint32_t seen = g_drained.load(std::memory_order_acquire);
        h = b->head.load(std::memory_order_acquire);
        if (t - h < kRingEvents || g_drainStalled.load(std::memory_order_acquire)) break;
        wakeDrain();
        const uint64_t now = detail::nanotime();
        if (now >= deadline) break;
        detail::futexWait(&g_drained, seen, static_cast<long>(deadline - now));
    }
    g_waiters.fetch_sub(1, std::memory_order_acq_rel);
    return h;
}

void countDrop(ThreadBuffer* b, const Event& e) {
    b->dropped[dropSlot(static_cast<uint16_t>(e.kind))].fetch_add(1, std::memory_order_relaxed);
    uint64_t none = 0;
    const uint64_t t = e.timeNs ? e.timeNs : 1;
    if (b->firstDropNs.load(std::memory_order_relaxed) == 0)
        b->firstDropNs.compare_exchange_strong(none, t, std::memory_order_relaxed);
}

// The sink's slow path: the ring is full.
__attribute__((noinline)) void pushFull(ThreadBuffer* b, const Event& e, uint64_t t) {
    uint64_t h = b->head.load(std::memory_order_acquire);
    if (!b->overflowing.load(std::memory_order_relaxed) &&
        !g_drainStalled.load(std::memory_order_acquire))
        h = waitForRoom(b, t);
    if (t - h >= kRingEvents) {
        b->overflowing.store(true, std::memory_order_relaxed);
        countDrop(b, e);
        return;
    }
    b->ring[t % kRingEvents] = e;
    b->tail.store(t + 1, std::memory_order_release);
}
}  // namespace

// The sink: runs on the allocating thread, allocator locks held. Mark, stamp, copy, publish.
// The mark goes up before the clock is read, so that a thread preempted anywhere between its
// clock read and its publish holds the drain thread's watermark (drainAll) and its record is
// never late. (The mark's store may become visible a moment after the clock read: the
// watermark's slack, a millisecond, covers that.)
void sink(const Event& unstamped, void*) {
    if (t_inProbe) return;
    ThreadBuffer* b = t_buf;
    if (__builtin_expect(!b, 0)) {
        b = acquireBuffer(unstamped.tid ? static_cast<int>(unstamped.tid) : -1);
        if (!b) {
            g_noBuffer.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        t_buf = b;
    }
    const uint64_t t = b->tail.load(std::memory_order_relaxed);
    b->stamping.store(t + 1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the mark before the clock read
    const uint64_t now = detail::nanotime();
    const uint64_t h = b->head.load(std::memory_order_acquire);
    if (__builtin_expect(t - h < kRingEvents, 1)) {
        Event& slot = b->ring[t % kRingEvents];
        slot = unstamped;
        slot.timeNs = now;
        b->tail.store(t + 1, std::memory_order_release);
        if (t - h == kRingEvents / 2) wakeDrain();
    } else {
        Event e = unstamped;
        e.timeNs = now;
        pushFull(b, e, t);
    }
    b->stamping.store(0, std::memory_order_release);
    if (unstamped.kind == EventKind::ThreadExit) {
        t_buf = nullptr;
        b->owner.store(0, std::memory_order_release);
    }
}

// The sampler's records go through its own ring like any thread's, so that the drain thread never
// waits for a heap lock (a thread waiting for room in its ring may hold one).
void toOwnRing(const Event& e) {
    ThreadBuffer* b = t_buf;
    if (!b && !(b = t_buf = acquireBuffer(detail::currentTid()))) return;
    const uint64_t t = b->tail.load(std::memory_order_relaxed);
    if (t - b->head.load(std::memory_order_acquire) >= kRingEvents) {
        countDrop(b, e);
        return;
    }
    b->ring[t % kRingEvents] = e;
    b->tail.store(t + 1, std::memory_order_release);
}

}  // namespace spanscope::probe::internal
