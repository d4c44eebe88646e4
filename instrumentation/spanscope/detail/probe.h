// The probe's internals shared by its files (see spanscope/stream.h for the public API and
// probe.cpp for the overview): the per-thread rings (probe_ring.cpp), the frame writer
// (frame_writer.cpp), the rundown (rundown.cpp), the counter sampler (sampler.cpp), the drain
// thread and the probe's lifecycle (probe.cpp), and the exec hand-off (exec_handoff.cpp).
// Libc, pthreads and the allocator only; nothing here allocates from the heap it observes.
#pragma once
#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "spanscope/allocator.h"
#include "spanscope/stream.h"

namespace spanscope::probe::internal {
using spanscope::Event;

constexpr uint32_t kRingEvents = 16384;  // 1 MiB of address space per thread, touched as used
constexpr uint32_t kFrameEvents = stream::kMaxFramePayload / sizeof(Event);
constexpr int kDrainPeriodMs = 2;

// ---- Rings (probe_ring.cpp) ------------------------------------------------------------------
// Records dropped are counted per kind: allocator kinds 0..31 in slots 0..31, the probe's own
// kinds 256..271 in slots 32..47, anything else in slot 0.
constexpr uint32_t kDropSlots = 48;
constexpr uint32_t dropSlot(uint16_t kind) {
    return kind < 32 ? kind : kind >= 256 && kind < 272 ? kind - 224u : 0u;
}
constexpr uint16_t dropSlotKind(uint32_t slot) {
    return static_cast<uint16_t>(slot < 32 ? slot : slot + 224);
}

struct ThreadBuffer {
    alignas(64) std::atomic<uint64_t> head{0};  // consumer (drain thread)
    // The drain thread's own: the time of the last record it took from this ring, and the
    // stamping mark it has been holding the watermark for since heldSinceNs (drainAll).
    uint64_t lastTimeNs = 0, heldMark = 0, heldSinceNs = 0;
    alignas(64) std::atomic<uint64_t> tail{0};  // producer (owning thread)
    // Set by the owner from before it reads the clock for a record until it has published it
    // (tail + 1 of that record, 0 between records): the drain thread sends no watermark past a
    // record still on its way. Covers a wait for room in a full ring too.
    std::atomic<uint64_t> stamping{0};
    std::atomic<int> owner{0};  // tid of the owning thread, 0 when free
    // Set by the owner when a wait for room timed out: until the drain thread has emptied the
    // ring (it clears the flag), a full ring drops at once instead of waiting again.
    std::atomic<bool> overflowing{false};
    ThreadBuffer* next = nullptr;
    std::atomic<uint64_t> dropped[kDropSlots] = {};  // per kind (dropSlot), cumulative
    // The time of the oldest record dropped since the drain thread last looked (0: none); the
    // owner sets it, the drain thread takes it (exchange 0). Where the session's gap begins.
    std::atomic<uint64_t> firstDropNs{0};
    alignas(64) Event ring[kRingEvents];
};

extern std::atomic<ThreadBuffer*> g_buffers;
extern thread_local ThreadBuffer* t_buf __attribute__((tls_model("initial-exec")));
extern thread_local bool t_inProbe __attribute__((tls_model("initial-exec")));
extern std::atomic<uint32_t> g_wake;  // futex: the drain thread sleeps on it
extern std::atomic<uint32_t>
    g_drained;  // bumped (and futex-woken) after a drain pass if anyone waits
extern std::atomic<uint32_t> g_waiters;
extern std::atomic<uint64_t> g_noBuffer;  // records lost because no ring could be mapped
// Set by the drain thread while it cannot empty rings (the rundown, which holds the heap's locks;
// a reader that does not read): a full ring then drops at once instead of waiting.
extern std::atomic<bool> g_drainStalled;
// When stop() was asked for, plus the time the drain thread may still spend writing (0: not
// stopping). A writer past it gives up: a client that does not read cannot hold up exit.
extern std::atomic<uint64_t> g_stopDeadlineNs;

void* mapZeroed(size_t bytes);
void wakeDrain();
ThreadBuffer* acquireBuffer(int tid);
// The allocator's event sink: runs on the allocating thread, allocator locks held.
void sink(const Event& e, void*);
// Pushes a probe record (the sampler's) into the calling thread's ring; drops it if full.
void toOwnRing(const Event& e);

// ---- Frame writer (frame_writer.cpp) ---------------------------------------------------------
// Frame assembly and output; used by the drain thread only (and stop() after the join).
class Writer {
public:
    bool init(int fd);
    void add(const Event& e) {
        if (m_n == kFrameEvents) flush();
        std::memcpy(m_buf + sizeof(stream::FrameHeader) + size_t{m_n} * sizeof(Event), &e,
                    sizeof e);
        m_n++;
    }
    void flush();
    void trailer(stream::EndReason reason);
    bool writeAll(const void* data, size_t n);
    bool failed() const { return m_failed; }
    // hold(true): frames are kept in memory (an mmap'd buffer) instead of written; hold(false)
    // writes what was held. For the rundown, which runs with the heap's locks held.
    void hold(bool on);

private:
    bool waitWritable();
    bool append(const char* p, size_t n);
    int m_fd = -1;
    char* m_buf = nullptr;
    uint32_t m_n = 0;
    bool m_failed = false;
    bool m_holding = false;
    char* m_held = nullptr;
    size_t m_heldLen = 0, m_heldCap = 0;
};

extern Writer g_writer;
extern Options g_opts;
extern uint64_t g_startNs;
extern std::atomic<int> g_drainTid;  // probe records carry the drain thread's tid
extern std::atomic<uint64_t> g_statEvents, g_statDropped, g_statFrames, g_statBytes;
extern std::atomic<int32_t> g_exitStatus;  // the status given to _exit (QuickExit trailer)

// A probe record of the given kind, stamped with the drain thread's tid.
Event record(uint16_t kind, uint64_t now);
// Writes the stream header (program, argv, page size, start time). False if the write failed.
bool writeHeader();

// ---- Rundown (rundown.cpp) -------------------------------------------------------------------
// Writes RundownBegin, a SpanState (and SpanBits) per span, RundownEnd. A resync rundown (after
// records were dropped) says so in RundownBegin's b; the replay's gap ends with it.
void rundown(bool resync = false);

// ---- Sampler (sampler.cpp) -------------------------------------------------------------------
// Reads MemStats and emits ClassCounters for the classes that changed (all: every class in use),
// then the heap totals. out() is where the records go.
void emitCounters(MemStats& prev, bool all, void (*out)(const Event&));
void toWriter(const Event& e);
extern MemStats g_prevStats;  // the sampler's, then (after it is joined) the drain thread's
bool startSampler();          // the sampler thread (false if it cannot start)
void stopSampler();           // wakes and joins it

}  // namespace spanscope::probe::internal
