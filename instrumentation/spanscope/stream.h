// spanscope::probe: the wire stream an instrumented process writes (format, encoders) and the
// in-process probe that writes it. Libc, pthreads and the allocator only: no SQLite, no Qt.
// docs/session-format.md describes the format byte by byte; spanscope/session.h decodes it.
#pragma once
#include <cstddef>
#include <cstdint>

#include "spanscope/events.h"

namespace spanscope::stream {

// ---- Stream layout -------------------------------------------------------------------------
//   "SPANSCOP" u32 version u32 bodyLength | header body (bodyLength bytes) | u32 crc32(body)
//   then frames:  FrameHeader (16 bytes) | payload (length bytes, crc32 in the header)
//     Events frame:  payload = N x 64-byte spanscope::Event records (N = length / 64)
//     Trailer frame: payload = Trailer (32 bytes); nothing may follow it.
// All integers little-endian (the host order of every platform the allocator runs on).
inline constexpr char kMagic[8] = {'S', 'P', 'A', 'N', 'S', 'C', 'O', 'P'};
inline constexpr uint32_t kVersion = 1;
inline constexpr uint32_t kFrameMagic = 0x4d415246;  // "FRAM"
inline constexpr uint32_t kMaxHeaderBody = 1u << 20;
inline constexpr uint32_t kMaxFramePayload = 1u << 20;  // 16384 events
inline constexpr uint32_t kPrologueBytes = 16;          // magic + version + bodyLength

enum class FrameType : uint32_t { Events = 1, Trailer = 2 };

struct FrameHeader {
    uint32_t magic;   // kFrameMagic
    uint32_t type;    // FrameType
    uint32_t length;  // payload bytes
    uint32_t crc;     // crc32 of the payload
};
static_assert(sizeof(FrameHeader) == 16);

// Why the stream ended, written by the probe in the trailer.
enum class EndReason : uint32_t {
    Exit = 1,      // the process is exiting (atexit): the exit status is known only to the parent
    Detached = 2,  // the client detached (live attach) or stop() was called
    WriteError =
        3,  // the reader went away (EPIPE) or the disk filled: never written, by definition
    QuickExit =
        4,  // the process called _exit/_Exit (libspanscope.so intercepts them): status known
};

struct Trailer {
    uint32_t reason;   // EndReason
    int32_t status;    // QuickExit: the status given to _exit; otherwise 0
    uint64_t timeNs;   // CLOCK_MONOTONIC
    uint64_t events;   // records written in Events frames
    uint64_t dropped;  // records lost because a thread's buffer was full
};
static_assert(sizeof(Trailer) == 32);

// Header body, fixed part (followed by numClasses ClassEntry, then the strings).
struct HeaderFixed {
    uint32_t pageSize;
    uint32_t numClasses;
    uint64_t arenaBytes;
    uint32_t pid;
    uint32_t flags;        // HeaderFlags
    uint64_t startNs;      // CLOCK_MONOTONIC at stream start: event times are on this clock
    uint64_t startUnixNs;  // CLOCK_REALTIME at the same moment
};
static_assert(sizeof(HeaderFixed) == 40);
enum HeaderFlags : uint32_t { kFlagObjectLevel = 1, kFlagAttached = 2 };

struct ClassEntry {
    uint32_t size;    // bytes per object (0 for class 0, large)
    uint16_t npages;  // pages per span
    uint16_t nelems;  // objects per span (noscan)
};
static_assert(sizeof(ClassEntry) == 8);
// Strings after the classes: u32 programLen, program bytes, u32 argc, u32 argvBytes,
// argv bytes (each argument NUL-terminated).

// ---- Records the instrumentation layer adds (same 64-byte Event layout) ---------------------
// Allocator kinds are < 256 (spanscope::EventKind, event_kinds.h); these are >= 256, declared
// in the same form: X(Name, number, flags, "fields (units)", "what a record says").
// spanscope/kinds.h joins both lists into the one table everything else derives from.
#define SPANSCOPE_PROBE_KINDS(X)                                                                   \
    X(RundownBegin, 256, kKindSpanModel | kKindStep,                                               \
      "a full-state rundown follows: forget every span; a = sweepgen, b = 1 for a resync "         \
      "rundown (sent after records were dropped)",                                                 \
      "A list of every span the heap holds follows (the rundown)")                                 \
    X(SpanState, 257, kKindSpanModel,                                                              \
      "one span: addr, npages, spanClass, flags = state (SpanWhere), a = nelems | allocCount "     \
      "<< 16 | freeindex << 32, b = elemsize (bytes), c = owner tid, d = sweepgen | nwords << 32", \
      "Rundown: one span")                                                                         \
    X(SpanBits, 258, 0,                                                                            \
      "four words of the preceding span's allocBits: addr = span base, npages = first word "       \
      "index, a..d = the words",                                                                   \
      "Rundown: a span's allocation bits")                                                         \
    X(RundownEnd, 259, kKindStep,                                                                  \
      "a = spans in the rundown, b = sweepgen, c = time of the profile walk (ns)",                 \
      "The rundown is done")                                                                       \
    X(HeapSizes, 260, kKindCounter,                                                                \
      "a heap sample's sizes, at its HeapTotals' time: addr = TotalAlloc, a = HeapSys, b = Sys "   \
      "(bytes), c = HeapObjects, d = NextSweep (bytes), npages = NumSweepCycles",                  \
      "The sampler measured what the heap has mapped")                                             \
    X(Dropped, 261, kKindStep,                                                                     \
      "a = records dropped so far (cumulative), b = a kind, c = that kind's count so far, d = "    \
      "the stream time of the oldest record dropped since the previous drain pass (ns)",           \
      "Records were lost (a thread's buffer was full)")                                            \
    X(HeapCounts, 262, kKindCounter,                                                               \
      "a heap sample's counts, at its HeapTotals' time: a = Mallocs, b = Frees, c = HeapLive "     \
      "(bytes), d = LargestFreeRunBytes",                                                          \
      "The sampler counted allocations and frees")                                                 \
    X(Watermark, 263, kKindTransient,                                                              \
      "a = time (ns): every record older than a has been sent (not stored in the session)",        \
      "Every older record has arrived")                                                            \
    X(Module, 264, kKindProfile,                                                                   \
      "a loaded object, for the heap profile's symbols: addr = its lowest mapped address, a = "    \
      "end, b = load bias, c = module number (per stream), d = path bytes, npages = ModuleName "   \
      "records that follow",                                                                       \
      "A loaded object (for the heap profile's symbols)")                                          \
    X(ModuleName, 265, kKindProfile,                                                               \
      "npages = module number, spanClass = chunk index, flags = bytes in this chunk (1..40), "     \
      "addr..d = the path's bytes",                                                                \
      "Part of a loaded object's path")

enum RecordKind : uint16_t {
#define SPANSCOPE_KIND_ENUM(name, number, ...) k##name = number,
    SPANSCOPE_PROBE_KINDS(SPANSCOPE_KIND_ENUM)
#undef SPANSCOPE_KIND_ENUM
};

// CRC-32 (IEEE 802.3, the zlib one).
uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);

// The size-class table as it goes into the header (68 entries, from detail/sizeclasses.h).
void fillClassTable(ClassEntry* out, uint32_t n);

// Encodes the prologue + header body + crc into out (no allocation). Returns the bytes needed;
// writes only if cap is large enough. argv is argc NUL-terminated strings laid end to end.
size_t encodeHeader(char* out, size_t cap, const HeaderFixed& fixed, const char* program,
                    size_t programLen, const char* argv, size_t argvBytes, uint32_t argc);

// Fills a frame header for payload.
FrameHeader makeFrameHeader(FrameType type, const void* payload, uint32_t length);

}  // namespace spanscope::stream

// SpanState's packed fields (rundown.cpp writes them, the span model and narration read them).
namespace spanscope::payload {
constexpr uint64_t packSpanCounts(uint64_t nelems, uint64_t allocCount, uint64_t freeindex) {
    return (nelems & 0xffff) | (allocCount & 0xffff) << 16 | freeindex << 32;
}
constexpr uint16_t spanStateNelems(const Event& e) {
    return static_cast<uint16_t>(e.a & 0xffff);
}
constexpr uint16_t spanStateAllocCount(const Event& e) {
    return static_cast<uint16_t>((e.a >> 16) & 0xffff);
}
constexpr uint32_t spanStateFreeindex(const Event& e) {
    return static_cast<uint32_t>(e.a >> 32);
}
constexpr uint64_t packSweepgenWords(uint64_t sweepgen, uint64_t nwords) {
    return (sweepgen & 0xffffffff) | nwords << 32;
}
constexpr uint32_t spanStateSweepgen(const Event& e) {
    return static_cast<uint32_t>(e.d & 0xffffffff);
}
constexpr uint32_t spanStateWords(const Event& e) {
    return static_cast<uint32_t>(e.d >> 32);
}
}  // namespace spanscope::payload

namespace spanscope::probe {

// The in-process probe: installs the allocator's event sink, copies each record into a lock-free
// per-thread ring (mmap'd, never from the heap it observes), and one drain thread writes frames
// to a file descriptor. Every intervalMs it adds ClassCounters and HeapTotals from readMemStats.
struct Options {
    int fd = -1;               // where the stream goes (a pipe, a file or a connected socket)
    bool closeFd = true;       // close fd when the probe stops
    bool objectLevel = false;  // ask the allocator for object-level events
    bool rundown = true;       // start with a full-state rundown (walkSpans)
    uint32_t intervalMs = 10;  // counters period
    bool attached = false;     // header flag: a live attach rather than a launch
};

// Starts the probe. Returns false (with a reason in why) if it is already running or the drain
// thread cannot start. Call from one thread at a time.
bool start(const Options& opts, char* why = nullptr, size_t cap = 0);
// Reads SPANSCOPE_STREAM ("fd:N", or a file path; a path naming a Unix socket is connected to)
// and starts the probe (see exec_handoff.cpp for how exec'd images and child processes are told
// apart). Returns true if the probe started; on failure prints one line to stderr.
bool startFromEnvironment();
// Drains every buffer, writes final counters and the trailer, removes the sink and joins the
// drain thread. Safe to call when not running.
void stop(stream::EndReason reason = stream::EndReason::Detached);
bool running();
// Called by libspanscope.so's _exit/_Exit: atexit handlers do not run there, so the probe drains
// and sends its trailer (QuickExit, with the status) itself. Only in the process that started the
// probe (not in a vfork child sharing its memory), and never waits for a lock another thread holds.
void beforeQuickExit(int status);

// ---- Live attach -----------------------------------------------------------------------------
// The per-user socket directory: $XDG_RUNTIME_DIR/spanscope, else /tmp/spanscope-UID; it must be a
// directory of this user with mode 0700. create: make it if missing. False with a reason in why.
bool socketDir(char* out, size_t cap, bool create, char* why = nullptr, size_t whyCap = 0);
// Listens on <socketDir>/<pid>.sock (peer uid checked) for "STAT" and "ATTACH" (listener.cpp).
bool startListener(char* why = nullptr, size_t cap = 0);
// Starts the listener unless SPANSCOPE_ATTACH=0 or a stream is running (every process running
// with spanscope is attachable). With SPANSCOPE_ATTACH=1, prints why it cannot.
bool startListenerFromEnvironment();
// Removes this process's attach socket (not a parent's, in a forked child); for _exit.
void removeListenerSocket();

struct Stats {
    uint64_t events;   // records written
    uint64_t dropped;  // records lost to full buffers
    uint64_t frames;
    uint64_t bytes;
};
Stats stats();

}  // namespace spanscope::probe
