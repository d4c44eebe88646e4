// The in-process probe: the event sink, per-thread lock-free rings, and the drain thread that
// writes the stream (header, rundown, event frames, counters, trailer). See spanscope/stream.h.
//
// Threads and buffers
//   allocating thread --sink--> its ThreadBuffer (SPSC ring, mmap'd) --drain thread--> frames -> fd
//   sampler thread --MemStats--> its own ThreadBuffer (same path)
// This file holds the drain thread and the probe's lifecycle (start, stop, fork, _exit); the rings
// are in probe_ring.cpp, frames in frame_writer.cpp, the rundown in rundown.cpp, the sampler in
// sampler.cpp, the exec hand-off (SPANSCOPE_STREAM) in exec_handoff.cpp and live attach in
// listener.cpp. The drain thread sets t_inProbe: nothing it allocates is recorded.
#include "spanscope/detail/probe.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "spanscope/detail/platform.h"

namespace spanscope::probe {

using namespace internal;

namespace {
using namespace spanscope::stream;

std::atomic<bool> g_running{false};
std::atomic<bool> g_stopRequested{false};
pthread_t g_drainThread;
std::atomic<bool> g_forkRegistered{false};
std::atomic<pid_t> g_probePid{0};  // the process that started the probe
uint64_t g_lastWatermark = 0;      // drain thread only
std::atomic<uint32_t> g_endReason{0};
pthread_mutex_t g_control = PTHREAD_MUTEX_INITIALIZER;  // start() and stop() one at a time
// How long stop() lets the drain thread write its last frames and trailer to a reader that does
// not read (a stopped attach client): exit is delayed by at most this much.
constexpr uint64_t kStopWriteNs = 1000000000;

uint64_t g_droppedSent[kDropSlots];  // drain thread only: per-kind counts already sent
// Drain thread only: records were dropped since the last rundown, so the replay has a gap that a
// resync rundown must close; and when the last rundown began.
bool g_resyncWanted = false;
uint64_t g_lastRundownNs = 0;
// At most one resync rundown per this interval: a rundown holds the heap's locks while it walks
// the spans, so a reader that keeps falling behind must not make the program pay for it often.
constexpr uint64_t kResyncIntervalNs = 250000000;

// Sends a Dropped record for each kind whose count of dropped records grew since the last pass:
// a = all records dropped so far, b = the kind, c = that kind's records dropped so far, d = the
// time of the oldest record dropped since the last pass (where the replay's gap begins).
void sendDropped(const uint64_t (&bySlot)[kDropSlots], uint64_t total, uint64_t firstDrop) {
    g_statDropped.store(total, std::memory_order_relaxed);
    const uint64_t now = detail::nanotime();
    for (uint32_t s = 0; s < kDropSlots; s++) {
        if (bySlot[s] == g_droppedSent[s]) continue;
        g_droppedSent[s] = bySlot[s];
        Event e = record(kDropped, now);
        e.a = total;
        e.b = dropSlotKind(s);
        e.c = bySlot[s];
        e.d = firstDrop ? firstDrop : now;
        g_writer.add(e);
    }
    g_resyncWanted = true;
}

// Copies what every ring holds into frames, then a Watermark record: every record older than it
// has been sent (the recorder releases records in time order up to it). The watermark is the
// pass's start minus kWatermarkSlackNs, held back to the last record taken from any ring whose
// owner is between its clock read and its publish (the sink's stamping mark): that thread may have
// been preempted there, for as long as the scheduler likes (an idle mark worker under load waits
// for tens of milliseconds), and its record, older than the pass, must not arrive after a
// watermark that passed it. A mark held for more than kMaxHoldNs stops holding (the live view
// must not freeze behind a starved thread); its record then arrives late, and the recorder counts
// it. Returns the records moved.
constexpr uint64_t kWatermarkSlackNs = 1000000;
constexpr uint64_t kMaxHoldNs = 1000000000;
uint64_t drainAll() {
    uint64_t moved = 0, dropped = 0, firstDrop = 0;
    uint64_t bySlot[kDropSlots] = {};
    const uint64_t now = detail::nanotime();
    uint64_t watermark = now - kWatermarkSlackNs;
    for (ThreadBuffer* b = g_buffers.load(std::memory_order_acquire); b; b = b->next) {
        // The mark is read before the tail: a record published after this read is newer than it.
        const uint64_t mark = b->stamping.load(std::memory_order_acquire);
        uint64_t h = b->head.load(std::memory_order_relaxed);
        const uint64_t t = b->tail.load(std::memory_order_acquire);
        if (t != h) b->lastTimeNs = b->ring[(t - 1) % kRingEvents].timeNs;
        for (; h != t; h++) g_writer.add(b->ring[h % kRingEvents]);
        if (mark == 0 || mark <= t) {
            b->heldMark = 0;  // nothing on its way, or published since the mark was read
        } else {
            if (mark != b->heldMark) b->heldMark = mark, b->heldSinceNs = now;
            if (now - b->heldSinceNs < kMaxHoldNs && b->lastTimeNs < watermark)
                watermark = b->lastTimeNs;
        }
        moved += t - b->head.load(std::memory_order_relaxed);
        b->head.store(t, std::memory_order_release);
        b->overflowing.store(false,
                             std::memory_order_relaxed);  // emptied: its owner may wait again
        for (uint32_t s = 0; s < kDropSlots; s++) {
            const uint64_t n = b->dropped[s].load(std::memory_order_relaxed);
            bySlot[s] += n;
            dropped += n;
        }
        const uint64_t first = b->firstDropNs.exchange(0, std::memory_order_relaxed);
        if (first && (!firstDrop || first < firstDrop)) firstDrop = first;
    }
    const uint64_t noBuffer = g_noBuffer.load(std::memory_order_relaxed);
    bySlot[0] += noBuffer;
    dropped += noBuffer;
    if (dropped != g_statDropped.load(std::memory_order_relaxed))
        sendDropped(bySlot, dropped, firstDrop);
    if (watermark < g_lastWatermark) watermark = g_lastWatermark;  // held: never goes back
    if (moved || watermark > g_lastWatermark + 50000000) {         // idle: one every 50 ms at most
        Event w = record(kWatermark, watermark);
        w.a = watermark;
        g_writer.add(w);
        g_lastWatermark = watermark;
    }
    g_writer.flush();
    return moved;
}

// On the drain thread, after the sampler is joined: the last records, last counters, the trailer.
// (Written by the drain thread, which blocks every signal: a reader gone makes EPIPE, not SIGPIPE.)
void finalFlush(EndReason reason) {
    // The last counters are read while the allocator's records still flow: the replay at their
    // time then holds every record before it. (Read after the sink was removed, they counted what
    // the program's threads and the background sweeper did meanwhile, which no record tells.)
    emitCounters(g_prevStats, false, toWriter);
    setEventSink(nullptr, nullptr);
    drainAll();
    // Records dropped since the last rundown: one more, so that the session's end is whole.
    if (g_resyncWanted && !g_writer.failed()) {
        g_resyncWanted = false;
        rundown(true);
    }
    g_writer.trailer(reason);
}

void* drainMain(void*) {
    t_inProbe = true;
    g_drainTid.store(detail::currentTid(), std::memory_order_relaxed);
    if (!writeHeader()) {
        setEventSink(nullptr, nullptr);
        return nullptr;
    }
    drainAll();
    g_resyncWanted = false;
    if (g_opts.rundown) rundown();
    g_lastRundownNs = detail::nanotime();
    while (!g_stopRequested.load(std::memory_order_acquire)) {
        uint32_t seen = g_wake.load(std::memory_order_acquire);
        drainAll();
        // Records were dropped: the replay has lost track of some spans. A resync rundown (the
        // whole span table again) closes the gap, once the rings have been emptied.
        if (g_resyncWanted && detail::nanotime() - g_lastRundownNs >= kResyncIntervalNs) {
            g_resyncWanted = false;
            g_lastRundownNs = detail::nanotime();
            rundown(true);
            drainAll();
        }
        if (g_waiters.load(std::memory_order_acquire)) {
            g_drained.fetch_add(1, std::memory_order_release);
            detail::futexWakeAll(&g_drained);
        }
        if (g_writer.failed()) {
            // The reader went away: stop recording, let the program run on.
            setEventSink(nullptr, nullptr);
            return nullptr;
        }
        detail::futexWait(&g_wake, seen, kDrainPeriodMs * 1000000L);
    }
    finalFlush(static_cast<EndReason>(g_endReason.load()));
    return nullptr;
}

void forkChild() {
    // The child has no drain thread and must not write into the parent's stream.
    if (!g_running.load()) return;
    setEventSink(nullptr, nullptr);
    g_running.store(false);
    if (g_opts.closeFd && g_opts.fd >= 0) ::close(g_opts.fd);
}

void fail(char* why, size_t cap, const char* msg) {
    if (why && cap) std::snprintf(why, cap, "%s", msg);
}

bool startLocked(const Options& opts, char* why, size_t cap) {
    if (g_running.load()) {
        fail(why, cap, "the probe is already running");
        return false;
    }
    if (opts.fd < 0) {
        fail(why, cap, "no output file descriptor");
        return false;
    }
    g_opts = opts;
    g_writer = Writer();
    if (!g_writer.init(opts.fd)) {
        fail(why, cap, "cannot map the frame buffer");
        return false;
    }
    g_stopRequested.store(false);
    g_stopDeadlineNs.store(0);
    g_drainStalled.store(false);
    g_lastWatermark = 0;
    g_resyncWanted = false;
    std::memset(g_droppedSent, 0, sizeof g_droppedSent);
    g_statEvents.store(0);
    g_statDropped.store(0);
    g_statFrames.store(0);
    g_statBytes.store(0);
    if (!g_forkRegistered.exchange(true)) pthread_atfork(nullptr, nullptr, forkChild);

    // Records a straggler pushed after the previous session's final drain are not this session's,
    // nor are its drops.
    const uint64_t startNs = detail::nanotime();
    for (ThreadBuffer* b = g_buffers.load(std::memory_order_acquire); b; b = b->next) {
        b->head.store(b->tail.load(std::memory_order_acquire), std::memory_order_release);
        b->lastTimeNs = startNs, b->heldMark = 0;  // the drain thread's, not running yet
        for (auto& d : b->dropped) d.store(0, std::memory_order_relaxed);
        b->firstDropNs.store(0, std::memory_order_relaxed);
        b->overflowing.store(false, std::memory_order_relaxed);
    }
    g_noBuffer.store(0);
    g_startNs = detail::nanotime();
    const bool wasInProbe = t_inProbe;
    t_inProbe = true;  // pthread_create's own allocations are not the program's
    setEventSink(sink, nullptr, opts.objectLevel);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all,
                    &old);  // the drain thread takes no signals (EPIPE, not SIGPIPE)
    std::memset(&g_prevStats, 0, sizeof g_prevStats);
    int rc = pthread_create(&g_drainThread, nullptr, drainMain, nullptr);
    bool samplerOk = rc == 0 && startSampler();
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    t_inProbe = wasInProbe;
    if (rc != 0 || !samplerOk) {
        setEventSink(nullptr, nullptr);
        if (rc == 0) {
            g_stopRequested.store(true);
            wakeDrain();
            pthread_join(g_drainThread, nullptr);
        }
        fail(why, cap, "cannot start the probe's threads");
        return false;
    }
    g_probePid.store(getpid());
    g_running.store(true);
    return true;
}

void stopLocked(EndReason reason) {
    if (!g_running.exchange(false)) return;
    stopSampler();
    g_endReason.store(static_cast<uint32_t>(reason));
    g_stopDeadlineNs.store(detail::nanotime() + kStopWriteNs, std::memory_order_release);
    g_stopRequested.store(true, std::memory_order_release);
    wakeDrain();
    pthread_join(g_drainThread, nullptr);
    if (g_opts.closeFd) ::close(g_opts.fd);
}
}  // namespace

bool start(const Options& opts, char* why, size_t cap) {
    pthread_mutex_lock(&g_control);
    bool ok = startLocked(opts, why, cap);
    pthread_mutex_unlock(&g_control);
    return ok;
}

void stop(EndReason reason) {
    pthread_mutex_lock(&g_control);
    stopLocked(reason);
    pthread_mutex_unlock(&g_control);
}

void beforeQuickExit(int status) {
    if (!g_running.load() || getpid() != g_probePid.load()) return;
    if (pthread_mutex_trylock(&g_control) != 0) return;  // start/stop under way on another thread
    g_exitStatus.store(status);
    stopLocked(EndReason::QuickExit);
    pthread_mutex_unlock(&g_control);
}

bool running() {
    return g_running.load();
}

Stats stats() {
    return Stats{g_statEvents.load(), g_statDropped.load(), g_statFrames.load(),
                 g_statBytes.load()};
}

}  // namespace spanscope::probe
