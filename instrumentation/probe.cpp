// The in-process probe: the event sink, per-thread lock-free rings, and the drain thread that
// writes the stream (header, rundown, event frames, counters, trailer). See spanscope/stream.h.
//
// Threads and buffers
//   allocating thread --sink--> its ThreadBuffer (SPSC ring, mmap'd) --drain thread--> frames -> fd
// A thread takes a buffer at its first event (a free one, or a new mapping) and gives it back at
// its ThreadExit event. Buffers are never unmapped, so a stale pointer stays valid. A full ring
// makes the thread wait a little for the drain thread, then drops the record and counts it (the
// sink runs with allocator locks held: it must never wait without a bound).
// The drain thread sets t_inProbe: nothing it allocates is recorded (the recursion guard).
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "spanscope/allocator.h"
#include "spanscope/detail/platform.h"
#include "spanscope/detail/probe_profile.h"
#include "spanscope/stream.h"

namespace spanscope::probe {

namespace {
using namespace spanscope::stream;

constexpr uint32_t kRingEvents = 16384;  // 1 MiB of address space per thread, touched as used
constexpr uint32_t kFrameEvents = kMaxFramePayload / sizeof(Event);
constexpr int kDrainPeriodMs = 2;

struct ThreadBuffer {
    alignas(64) std::atomic<uint64_t> head{0};  // consumer (drain thread)
    alignas(64) std::atomic<uint64_t> tail{0};  // producer (owning thread)
    std::atomic<uint64_t> dropped{0};
    std::atomic<int> owner{0};              // tid of the owning thread, 0 when free
    std::atomic<uint64_t> waitingSince{0};  // time of the record waiting for room, or 0
    ThreadBuffer* next = nullptr;
    alignas(64) Event ring[kRingEvents];
};

std::atomic<ThreadBuffer*> g_buffers{nullptr};
thread_local ThreadBuffer* t_buf __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local bool t_inProbe __attribute__((tls_model("initial-exec"))) = false;

std::atomic<uint32_t> g_wake{0};
std::atomic<bool> g_running{false};
std::atomic<bool> g_stopRequested{false};
std::atomic<uint64_t> g_noBuffer{0};
pthread_t g_drainThread;
Options g_opts;
std::atomic<bool> g_forkRegistered{false};

std::atomic<uint64_t> g_statEvents{0}, g_statDropped{0}, g_statFrames{0}, g_statBytes{0};
std::atomic<int32_t> g_exitStatus{0};  // the status given to _exit (QuickExit trailer)
std::atomic<pid_t> g_probePid{0};     // the process that started the probe

void* mapZeroed(size_t bytes) {
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? nullptr : m;
}

void wakeDrain() {
    g_wake.fetch_add(1, std::memory_order_release);
    syscall(SYS_futex, &g_wake, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
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
    b->owner.store(tid, std::memory_order_relaxed);
    b->next = g_buffers.load(std::memory_order_relaxed);
    while (!g_buffers.compare_exchange_weak(b->next, b, std::memory_order_release,
                                            std::memory_order_relaxed)) {
    }
    return b;
}

// A full ring: wake the drain thread and sleep until it has made room, for at most kMaxWaitNs.
// The drain thread takes no allocator lock once running (the sampler thread reads MemStats), so
// the wait normally ends as soon as it is scheduled; the bound covers the start-up rundown, which
// holds the heap's locks, and a drain thread that has died. Past the bound the record is dropped
// and counted (a Dropped record tells the recorder).
constexpr uint64_t kMaxWaitNs = 200000000;
std::atomic<uint32_t> g_drained{0};  // bumped (and futex-woken) after a drain pass if anyone waits
std::atomic<uint32_t> g_waiters{0};
uint64_t waitForRoom(ThreadBuffer* b, uint64_t t, uint64_t eventTime) {
    const uint64_t deadline = detail::nanotime() + kMaxWaitNs;
    b->waitingSince.store(eventTime ? eventTime : 1,
                          std::memory_order_seq_cst);  // holds the watermark
    g_waiters.fetch_add(1, std::memory_order_acq_rel);
    uint64_t h;
    for (;;) {
        const uint32_t seen = g_drained.load(std::memory_order_acquire);
        h = b->head.load(std::memory_order_acquire);
        if (t - h < kRingEvents) break;
        wakeDrain();
        const uint64_t now = detail::nanotime();
        if (now >= deadline) break;
        const uint64_t left = deadline - now < 1000000 ? deadline - now : 1000000;
        timespec ts{0, static_cast<long>(left)};
        syscall(SYS_futex, &g_drained, FUTEX_WAIT_PRIVATE, seen, &ts, nullptr, 0);
    }
    g_waiters.fetch_sub(1, std::memory_order_acq_rel);
    return h;
}

// Called when the record has been pushed (or dropped) after a wait.
void doneWaiting(ThreadBuffer* b) {
    b->waitingSince.store(0, std::memory_order_release);
}

// The sink: runs on the allocating thread, allocator locks held. Copy, publish, return.
void sink(const Event& e, void*) {
    if (t_inProbe) return;
    ThreadBuffer* b = t_buf;
    if (!b) {
        b = acquireBuffer(e.tid ? static_cast<int>(e.tid) : -1);
        if (!b) {
            g_noBuffer.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        t_buf = b;
    }
    const uint64_t t = b->tail.load(std::memory_order_relaxed);
    uint64_t h = b->head.load(std::memory_order_acquire);
    bool waited = false;
    if (t - h >= kRingEvents) {
        h = waitForRoom(b, t, e.timeNs);
        waited = true;
    }
    if (t - h >= kRingEvents) {
        b->dropped.fetch_add(1, std::memory_order_relaxed);
    } else {
        b->ring[t % kRingEvents] = e;
        b->tail.store(t + 1, std::memory_order_release);
        if (t - h == kRingEvents / 2) wakeDrain();
    }
    if (waited) doneWaiting(b);
    if (e.kind == EventKind::ThreadExit) {
        t_buf = nullptr;
        b->owner.store(0, std::memory_order_release);
    }
}

// Frame assembly and output; used by the drain thread only (and stop() after the join).
class Writer {
public:
    bool init(int fd) {
        m_fd = fd;
        m_buf = static_cast<char*>(mapZeroed(sizeof(FrameHeader) + kMaxFramePayload));
        m_failed = !m_buf;
        return m_buf != nullptr;
    }
    void add(const Event& e) {
        if (m_n == kFrameEvents) flush();
        std::memcpy(m_buf + sizeof(FrameHeader) + size_t{m_n} * sizeof(Event), &e, sizeof e);
        m_n++;
    }
    void flush() {
        if (!m_n) return;
        const uint32_t len = m_n * static_cast<uint32_t>(sizeof(Event));
        FrameHeader h = makeFrameHeader(FrameType::Events, m_buf + sizeof(FrameHeader), len);
        std::memcpy(m_buf, &h, sizeof h);
        if (writeAll(m_buf, sizeof h + len)) {
            g_statEvents.fetch_add(m_n, std::memory_order_relaxed);
            g_statFrames.fetch_add(1, std::memory_order_relaxed);
        }
        m_n = 0;
    }
    void trailer(EndReason reason) {
        flush();
        Trailer t{static_cast<uint32_t>(reason), reason == EndReason::QuickExit ? g_exitStatus.load() : 0,
                  detail::nanotime(), g_statEvents.load(), g_statDropped.load()};
        FrameHeader h = makeFrameHeader(FrameType::Trailer, &t, sizeof t);
        char out[sizeof h + sizeof t];
        std::memcpy(out, &h, sizeof h);
        std::memcpy(out + sizeof h, &t, sizeof t);
        writeAll(out, sizeof out);
    }
    bool writeAll(const void* data, size_t n) {
        if (m_failed) return false;
        const char* p = static_cast<const char*>(data);
        while (n) {
            ssize_t w = ::write(m_fd, p, n);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                m_failed = true;
                return false;
            }
            p += w;
            n -= static_cast<size_t>(w);
            g_statBytes.fetch_add(static_cast<uint64_t>(w), std::memory_order_relaxed);
        }
        return true;
    }
    bool failed() const { return m_failed; }
    char* scratch() { return m_buf; }  // valid only while no events are pending

private:
    int m_fd = -1;
    char* m_buf = nullptr;
    uint32_t m_n = 0;
    bool m_failed = false;
};

Writer g_writer;
uint64_t g_startNs = 0;
uint64_t g_lastWatermark = 0;    // drain thread only
std::atomic<int> g_drainTid{0};  // probe records carry the drain thread's tid

Event record(uint16_t kind, uint64_t now) {
    Event e{};
    e.timeNs = now;
    e.tid = static_cast<uint32_t>(g_drainTid.load(std::memory_order_relaxed));
    e.kind = static_cast<EventKind>(kind);
    return e;
}

// Reads a whole small file (/proc/self/cmdline) into buf without allocating.
size_t readSmallFile(const char* path, char* buf, size_t cap) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    size_t n = 0;
    while (n < cap) {
        ssize_t r = ::read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += static_cast<size_t>(r);
    }
    ::close(fd);
    return n;
}

bool writeHeader() {
    constexpr size_t kArgvCap = 64 << 10;
    char program[4096];
    ssize_t plen = readlink("/proc/self/exe", program, sizeof program);
    if (plen < 0) plen = 0;
    char* argv = static_cast<char*>(mapZeroed(kArgvCap));
    size_t argvBytes = argv ? readSmallFile("/proc/self/cmdline", argv, kArgvCap) : 0;
    if (argvBytes == kArgvCap) {  // truncated: cut at the last complete argument
        while (argvBytes && argv[argvBytes - 1]) argvBytes--;
    }
    uint32_t argc = 0;
    for (size_t i = 0; i < argvBytes; i++) argc += argv[i] == 0;
    if (argvBytes && argv[argvBytes - 1]) argv[argvBytes++ - 1] = 0;

    HeaderFixed fixed{};
    fixed.pageSize = static_cast<uint32_t>(kPageSize);
    fixed.numClasses = kNumSizeClasses;
    fixed.arenaBytes = uint64_t{64} << 20;
    fixed.pid = static_cast<uint32_t>(getpid());
    fixed.flags = (g_opts.objectLevel ? uint32_t{kFlagObjectLevel} : 0u) |
                  (g_opts.attached ? uint32_t{kFlagAttached} : 0u);
    fixed.startNs = g_startNs;  // taken before the sink went in: no record is older
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fixed.startUnixNs =
        static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);

    size_t need =
        encodeHeader(nullptr, 0, fixed, program, static_cast<size_t>(plen), argv, argvBytes, argc);
    char* out = static_cast<char*>(mapZeroed(need));
    bool ok = false;
    if (out) {
        encodeHeader(out, need, fixed, program, static_cast<size_t>(plen), argv, argvBytes, argc);
        ok = g_writer.writeAll(out, need);
        munmap(out, need);
    }
    if (argv) munmap(argv, kArgvCap);
    return ok;
}

// Copies what every ring holds into frames. Returns the records moved.
// Copies what every ring holds into frames, then a Watermark record: every record older than it
// has been sent (the recorder releases records in time order up to it). Records reach a ring a
// moment after they are timestamped, so the watermark is the pass's start minus kWatermarkSlackNs,
// and no later than the oldest record still waiting for room. Returns the records moved.
constexpr uint64_t kWatermarkSlackNs = 1000000;
uint64_t drainAll() {
    uint64_t moved = 0, dropped = 0;
    uint64_t watermark = detail::nanotime() - kWatermarkSlackNs;
    for (ThreadBuffer* b = g_buffers.load(std::memory_order_acquire); b; b = b->next) {
        const uint64_t waiting = b->waitingSince.load(std::memory_order_seq_cst);
        if (waiting && waiting - 1 < watermark) watermark = waiting - 1;
        uint64_t h = b->head.load(std::memory_order_relaxed);
        const uint64_t t = b->tail.load(std::memory_order_acquire);
        for (; h != t; h++) g_writer.add(b->ring[h % kRingEvents]);
        moved += t - b->head.load(std::memory_order_relaxed);
        b->head.store(t, std::memory_order_release);
        dropped += b->dropped.load(std::memory_order_relaxed);
    }
    dropped += g_noBuffer.load(std::memory_order_relaxed);
    if (dropped != g_statDropped.load(std::memory_order_relaxed)) {
        g_statDropped.store(dropped, std::memory_order_relaxed);
        Event e = record(kDropped, detail::nanotime());
        e.a = dropped;
        g_writer.add(e);
    }
    if (moved || watermark > g_lastWatermark + 50000000) {  // idle: one every 50 ms at most
        Event w = record(kWatermark, watermark);
        w.a = watermark;
        g_writer.add(w);
        g_lastWatermark = watermark;
    }
    g_writer.flush();
    return moved;
}

struct RundownCtx {
    uint64_t now;
    uint64_t spans;
};

void rundownSpan(const SpanInfo& s, void* arg) {
    auto* ctx = static_cast<RundownCtx*>(arg);
    Event e = record(kSpanState, ctx->now);
    e.spanClass = s.spanClass;
    e.flags = s.where;
    e.npages = s.npages;
    e.addr = s.base;
    e.a = uint64_t{s.nelems} | uint64_t{s.allocCount} << 16 | uint64_t{s.freeindex} << 32;
    e.b = s.elemsize;
    e.c = static_cast<uint64_t>(s.ownerTid);
    e.d = uint64_t{s.sweepgen} | uint64_t{s.nwords} << 32;
    g_writer.add(e);
    if (s.allocBits)
        for (uint32_t w = 0; w < s.nwords; w += 4) {
            Event bits = record(kSpanBits, ctx->now);
            bits.addr = s.base;
            bits.npages = w;
            uint64_t* dst[4] = {&bits.a, &bits.b, &bits.c, &bits.d};
            for (uint32_t k = 0; k < 4; k++) *dst[k] = w + k < s.nwords ? s.allocBits[w + k] : 0;
            g_writer.add(bits);
        }
    ctx->spans++;
}

void toWriter(const Event& e);

void rundown() {
    RundownCtx ctx{detail::nanotime(), 0};
    g_writer.add(record(kRundownBegin, ctx.now));
    // walkSpans holds the heap's locks: slow paths wait while we copy (and write full frames).
    uint32_t sweepgen = walkSpans(rundownSpan, &ctx);
    profile::rundownProfile(record(kRundownBegin, ctx.now), toWriter);  // the heap profile so far
    Event end = record(kRundownEnd, ctx.now);
    end.a = ctx.spans;
    end.b = sweepgen;
    g_writer.add(end);
    g_writer.flush();
}

// Reads MemStats (which takes heap locks) and emits ClassCounters for the classes that changed,
// then HeapTotalsExt, HeapTotalsExt2 and HeapTotals. out() is where the records go.
void emitCounters(MemStats& prev, bool all, void (*out)(const Event&)) {
    MemStats st;
    readMemStats(&st);
    // A process observed here uses one heap in earnest: the malloc-mode heap (preloaded programs,
    // malloc demos) or the managed one (GC scenarios). Report the one that holds memory.
    if (MemStats managed; readManagedMemStats(&managed) && managed.HeapSys > st.HeapSys) st = managed;
    const uint64_t now = detail::nanotime();
    bool changed = all;
    for (int c = 0; c < kNumSizeClasses; c++) {
        const auto& b = st.BySize[c];
        const auto& p = prev.BySize[c];
        if (!all && b.Mallocs == p.Mallocs && b.Frees == p.Frees && b.Spans == p.Spans &&
            b.RequestedBytes == p.RequestedBytes)
            continue;
        if (all && !b.Mallocs && !b.Spans) continue;
        changed = true;
        Event e = record(static_cast<uint16_t>(EventKind::ClassCounters), now);
        e.spanClass = static_cast<uint8_t>(c);
        e.npages = static_cast<uint32_t>(b.Spans);
        e.a = b.Mallocs;
        e.b = b.Frees;
        e.c = b.RequestedBytes;
        e.d = b.Mallocs * kClassToSize[c];
        out(e);
    }
    if (changed || st.HeapAlloc != prev.HeapAlloc || st.HeapSys != prev.HeapSys ||
        st.HeapReleased != prev.HeapReleased || st.HeapIdle != prev.HeapIdle) {
        Event x = record(kHeapTotalsExt, now);
        x.addr = st.TotalAlloc;
        x.npages = static_cast<uint32_t>(st.NumSweepCycles);
        x.a = st.HeapSys;
        x.b = st.Sys;
        x.c = st.HeapObjects;
        x.d = st.NextSweep;
        out(x);
        Event x2 = record(kHeapTotalsExt2, now);
        x2.a = st.Mallocs;
        x2.b = st.Frees;
        x2.c = st.HeapLive;
        x2.d = st.LargestFreeRunBytes;
        out(x2);
        Event t = record(static_cast<uint16_t>(EventKind::HeapTotals), now);
        t.a = st.HeapAlloc;
        t.b = st.HeapInuse;
        t.c = st.HeapIdle;
        t.d = st.HeapReleased;
        out(t);
    }
    prev = st;
}

void toWriter(const Event& e) {
    g_writer.add(e);
}

// The sampler's records go through its own ring like any thread's, so that the drain thread never
// waits for a heap lock (a thread waiting for room in its ring may hold one).
void toOwnRing(const Event& e) {
    ThreadBuffer* b = t_buf;
    if (!b && !(b = t_buf = acquireBuffer(detail::currentTid()))) return;
    const uint64_t t = b->tail.load(std::memory_order_relaxed);
    if (t - b->head.load(std::memory_order_acquire) >= kRingEvents) {
        b->dropped.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    b->ring[t % kRingEvents] = e;
    b->tail.store(t + 1, std::memory_order_release);
}

MemStats g_prevStats;  // the sampler's, then (after it is joined) the drain thread's last sample
std::atomic<uint32_t> g_samplerWake{0};
std::atomic<bool> g_samplerStop{false};
std::atomic<uint32_t> g_endReason{0};
pthread_t g_samplerThread;
pthread_mutex_t g_control = PTHREAD_MUTEX_INITIALIZER;  // start() and stop() one at a time

void* samplerMain(void*) {
    t_inProbe = true;
    bool first = true;
    const long interval = long{g_opts.intervalMs ? g_opts.intervalMs : 10} * 1000000L;
    while (!g_samplerStop.load(std::memory_order_acquire)) {
        emitCounters(g_prevStats, first, toOwnRing);
        profile::emitModules(record(kModule, detail::nanotime()), toOwnRing, first);  // for symbols
        first = false;
        timespec ts{interval / 1000000000L, interval % 1000000000L};
        syscall(SYS_futex, &g_samplerWake, FUTEX_WAIT_PRIVATE, 0, &ts, nullptr, 0);
    }
    // Give the ring back (the final drain still reads it): the next session's sampler reuses it.
    if (t_buf) {
        t_buf->owner.store(0, std::memory_order_release);
        t_buf = nullptr;
    }
    return nullptr;
}

// On the drain thread, after the sampler is joined: the last records, last counters, the trailer.
// (Written by the drain thread, which blocks every signal: a reader gone makes EPIPE, not SIGPIPE.)
void finalFlush(EndReason reason) {
    setEventSink(nullptr, nullptr);
    drainAll();
    emitCounters(g_prevStats, false, toWriter);
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
    if (g_opts.rundown) rundown();
    while (!g_stopRequested.load(std::memory_order_acquire)) {
        uint32_t seen = g_wake.load(std::memory_order_acquire);
        drainAll();
        if (g_waiters.load(std::memory_order_acquire)) {
            g_drained.fetch_add(1, std::memory_order_release);
            syscall(SYS_futex, &g_drained, FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
        }
        if (g_writer.failed()) {
            // The reader went away: stop recording, let the program run on.
            setEventSink(nullptr, nullptr);
            return nullptr;
        }
        timespec ts{0, kDrainPeriodMs * 1000000L};
        syscall(SYS_futex, &g_wake, FUTEX_WAIT_PRIVATE, seen, &ts, nullptr, 0);
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

void atExit() {
    stop(EndReason::Exit);
}
}  // namespace

namespace {
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
    g_lastWatermark = 0;
    g_samplerStop.store(false);
    g_samplerWake.store(0);
    g_statEvents.store(0);
    g_statDropped.store(0);
    g_statFrames.store(0);
    g_statBytes.store(0);
    if (!g_forkRegistered.exchange(true)) pthread_atfork(nullptr, nullptr, forkChild);

    // Records a straggler pushed after the previous session's final drain are not this session's.
    for (ThreadBuffer* b = g_buffers.load(std::memory_order_acquire); b; b = b->next)
        b->head.store(b->tail.load(std::memory_order_acquire), std::memory_order_release);
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
    int rc2 = rc == 0 ? pthread_create(&g_samplerThread, nullptr, samplerMain, nullptr) : -1;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    t_inProbe = wasInProbe;
    if (rc != 0 || rc2 != 0) {
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
    g_samplerStop.store(true, std::memory_order_release);
    g_samplerWake.fetch_add(1);
    syscall(SYS_futex, &g_samplerWake, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    pthread_join(g_samplerThread, nullptr);
    g_endReason.store(static_cast<uint32_t>(reason));
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

// SPANSCOPE_STREAM stays in the environment and the stream's fd stays open across exec, so that
// a program reached through wrappers (a shell script, pyenv's shims) is recorded: its new image
// has the same pid and starts a new segment of the same stream.
// SPANSCOPE_STREAM_OWNER="pid:dev:ino" tells a child process (another pid) that the stream is not
// its own: it closes its inherited copy of the descriptor (so the recorder sees end of file when
// the program exits) and records nothing.
bool startFromEnvironment() {
    const char* spec = std::getenv("SPANSCOPE_STREAM");
    if (!spec || !*spec) return false;
    Options opts;
    const char* objects = std::getenv("SPANSCOPE_OBJECTS");
    opts.objectLevel = objects && *objects == '1';
    char path[4096];
    std::snprintf(path, sizeof path, "%s", spec);
    long owner = 0;
    unsigned long long ownerDev = 0, ownerIno = 0;
    if (const char* o = std::getenv("SPANSCOPE_STREAM_OWNER"))
        if (std::sscanf(o, "%ld:%llu:%llu", &owner, &ownerDev, &ownerIno) != 3) owner = 0;
    const bool isFd = !std::strncmp(path, "fd:", 3);
    long fdNum = -1;
    if (isFd) {
        char* end = nullptr;
        fdNum = std::strtol(path + 3, &end, 10);
        if (!end || *end || fdNum < 0) fdNum = -1;
    }
    if (owner && owner != static_cast<long>(getpid())) {
        struct stat st;
        if (isFd && fdNum >= 0 && fstat(static_cast<int>(fdNum), &st) == 0 &&
            st.st_dev == ownerDev && st.st_ino == ownerIno)
            ::close(static_cast<int>(fdNum));
        return false;
    }
    if (isFd) {
        if (fdNum < 0 || fcntl(static_cast<int>(fdNum), F_GETFD) < 0) {
            detail::printErr("spanscope: SPANSCOPE_STREAM=%s: not an open file descriptor\n", path);
            return false;
        }
        opts.fd = static_cast<int>(fdNum);
    } else {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
            int s = socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            const size_t plen = std::strlen(path);
            if (plen < sizeof addr.sun_path) std::memcpy(addr.sun_path, path, plen + 1);
            if (s < 0 || plen >= sizeof addr.sun_path ||
                connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
                detail::printErr("spanscope: SPANSCOPE_STREAM=%s: cannot connect\n", path);
                if (s >= 0) ::close(s);
                return false;
            }
            opts.fd = s;
        } else {
            opts.fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (opts.fd < 0) {
                detail::printErr("spanscope: SPANSCOPE_STREAM=%s: cannot open\n", path);
                return false;
            }
        }
        char fdSpec[32];
        std::snprintf(fdSpec, sizeof fdSpec, "fd:%d", opts.fd);
        setenv("SPANSCOPE_STREAM", fdSpec, 1);  // an exec'd successor continues on this descriptor
    }
    struct stat st;
    if (fstat(opts.fd, &st) == 0) {
        char ownerSpec[96];
        std::snprintf(ownerSpec, sizeof ownerSpec, "%ld:%llu:%llu", static_cast<long>(getpid()),
                      static_cast<unsigned long long>(st.st_dev),
                      static_cast<unsigned long long>(st.st_ino));
        setenv("SPANSCOPE_STREAM_OWNER", ownerSpec, 1);
    }
    char why[128];
    if (!start(opts, why, sizeof why)) {
        detail::printErr("spanscope: cannot start the probe: %s\n", why);
        return false;
    }
    std::atexit(atExit);
    return true;
}

}  // namespace spanscope::probe
