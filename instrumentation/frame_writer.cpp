// The probe's frame writer: assembles records into Events frames and writes them, the stream
// header and the trailer to the probe's descriptor (docs/session-format.md). Drain thread only.
// See spanscope/detail/probe.h.
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "spanscope/detail/platform.h"
#include "spanscope/detail/probe.h"

namespace spanscope::probe::internal {
using namespace spanscope::stream;

Writer g_writer;
Options g_opts;
uint64_t g_startNs = 0;
std::atomic<int> g_drainTid{0};
std::atomic<uint64_t> g_statEvents{0}, g_statDropped{0}, g_statFrames{0}, g_statBytes{0};
std::atomic<int32_t> g_exitStatus{0};

bool Writer::init(int fd) {
    m_fd = fd;
    // Non-blocking (a pipe or a socket; never a terminal or a file, whose description others may
    // share): a reader that does not read makes the drain thread wait in poll (waitWritable),
    // where it can give up at stop(), never in write().
    struct stat st;
    if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        if (int fl = fcntl(fd, F_GETFL); fl >= 0 && !(fl & O_NONBLOCK))
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    m_buf = static_cast<char*>(mapZeroed(sizeof(FrameHeader) + kMaxFramePayload));
    m_failed = !m_buf;
    return m_buf != nullptr;
}

void Writer::flush() {
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

void Writer::trailer(EndReason reason) {
    flush();
    Trailer t{static_cast<uint32_t>(reason),
              reason == EndReason::QuickExit ? g_exitStatus.load() : 0, detail::nanotime(),
              g_statEvents.load(), g_statDropped.load()};
    FrameHeader h = makeFrameHeader(FrameType::Trailer, &t, sizeof t);
    char out[sizeof h + sizeof t];
    std::memcpy(out, &h, sizeof h);
    std::memcpy(out + sizeof h, &t, sizeof t);
    writeAll(out, sizeof out);
}

bool Writer::writeAll(const void* data, size_t n) {
    if (m_failed) return false;
    const char* p = static_cast<const char*>(data);
    if (m_holding) return append(p, n);
    while (n) {
        ssize_t w = ::write(m_fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (waitWritable()) continue;
            w = -1;
        }
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

// The reader does not keep up (or is stopped): wait until it reads, for as long as it takes while
// recording goes on (the rings drop meanwhile: g_drainStalled), but only until the stop deadline
// once stop() was asked for. False: give up on this reader.
bool Writer::waitWritable() {
    g_drainStalled.store(true, std::memory_order_release);
    bool ok = false;
    for (;;) {
        pollfd p{m_fd, POLLOUT, 0};
        const int rc = poll(&p, 1, 50);
        if (rc > 0) {  // writable, or an error that the next write reports
            ok = true;
            break;
        }
        if (rc < 0 && errno != EINTR) break;
        const uint64_t stopBy = g_stopDeadlineNs.load(std::memory_order_acquire);
        if (stopBy && detail::nanotime() > stopBy) break;
    }
    g_drainStalled.store(false, std::memory_order_release);
    return ok;
}

bool Writer::append(const char* p, size_t n) {
    if (m_heldLen + n > m_heldCap) {
        size_t cap = m_heldCap ? m_heldCap : size_t{1} << 20;
        while (cap < m_heldLen + n) cap *= 2;
        void* m = m_held ? mremap(m_held, m_heldCap, cap, MREMAP_MAYMOVE) : mapZeroed(cap);
        if (!m || m == MAP_FAILED) {
            m_failed = true;
            return false;
        }
        m_held = static_cast<char*>(m);
        m_heldCap = cap;
    }
    std::memcpy(m_held + m_heldLen, p, n);
    m_heldLen += n;
    return true;
}

void Writer::hold(bool on) {
    if (on == m_holding) return;
    m_holding = on;
    if (on) return;
    if (m_heldLen) writeAll(m_held, m_heldLen);
    if (m_held) munmap(m_held, m_heldCap);
    m_held = nullptr;
    m_heldLen = m_heldCap = 0;
}

Event record(uint16_t kind, uint64_t now) {
    Event e{};
    e.timeNs = now;
    e.tid = static_cast<uint32_t>(g_drainTid.load(std::memory_order_relaxed));
    e.kind = static_cast<EventKind>(kind);
    return e;
}

namespace {
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
}  // namespace

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

}  // namespace spanscope::probe::internal
