// spanscope::instrumentation: the recorder side. Decodes the probe's stream (StreamDecoder),
// records it into a SQLite session file (Recorder), and answers questions about a session
// (SessionReader). The GUI, the CLI and the tests use these three. See docs/session-format.md.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "spanscope/allocator.h"
#include "spanscope/events.h"
#include "spanscope/stream.h"

namespace spanscope {

// ---- The stream decoder --------------------------------------------------------------------
// Incremental: feed() bytes as they arrive, then call next() until it returns NeedMore.
// Never trusts a length before checking it; every error is a one-line message and sticky.
struct StreamInfo {
    uint32_t version = 0, pageSize = 0, pid = 0, flags = 0;
    uint64_t arenaBytes = 0, startNs = 0, startUnixNs = 0;
    std::vector<stream::ClassEntry> classes;
    std::string program;
    std::vector<std::string> argv;
};

class StreamDecoder {
public:
    enum class Status { NeedMore, Header, Events, Trailer, Error };
    void feed(const void* data, size_t n);
    Status next();
    const StreamInfo& info() const { return m_info; }
    // After Status::Events: the frame's records (valid until the next call to next()).
    std::span<const Event> events() const { return {m_events.data(), m_nEvents}; }
    const stream::Trailer& trailer() const { return m_trailer; }   // after Status::Trailer
    const std::string& error() const { return m_error; }
    bool headerSeen() const { return m_state != State::Prologue; }
    bool ended() const { return m_state == State::Ended; }
    // At end of input: empty if the stream ended with its trailer, else why it is incomplete.
    std::string checkComplete() const;
    bool corrupt() const { return m_state == State::Failed || !m_pendingError.empty(); }
    uint64_t offset() const { return m_consumed; }  // stream bytes decoded so far
    // A program that execs continues the stream with a new segment (a new header, same pid).
    uint32_t segments() const { return m_segments; }
    uint32_t cutSegments() const { return m_cutSegments; }  // segments that ended mid-frame

private:
    enum class State { Prologue, Frames, Ended, Failed };
    Status fail(std::string msg);
    Status resync(std::string why);
    const char* findMagic(size_t from) const;
    size_t available() const { return m_buf.size() - m_pos; }
    std::vector<char> m_buf;
    size_t m_pos = 0;
    uint64_t m_consumed = 0;
    State m_state = State::Prologue;
    StreamInfo m_info;
    std::vector<Event> m_events;  // only grows: resizing would zero what memcpy overwrites
    size_t m_nEvents = 0;
    stream::Trailer m_trailer{};
    std::string m_error;
    std::string m_pendingError;
    uint32_t m_segments = 0, m_cutSegments = 0;
};

namespace session {

// PRAGMA user_version. 2: SpanRefill records (kind 24) and the inspector's partial indexes; a
// version-1 file reads the same way (it has no kind 24).
inline constexpr int kSchemaVersion = 2;
inline constexpr int32_t kApplicationId = 0x53534350;  // PRAGMA application_id, "SSCP"

// A span's state in a session: the allocator's SpanWhere (None: just taken from the heap).
using SpanState = spanscope::SpanWhere;
const char* spanStateName(uint8_t state);
const char* kindName(uint16_t kind);  // "SpanAlloc", ..., "RundownBegin", or "kind<N>"

// One span at one moment; also the 24-byte element of a keyframe blob (little-endian).
struct SpanRecord {
    uint64_t base;
    uint32_t npages;
    uint16_t nelems;
    uint16_t allocCount;
    uint8_t spanClass;  // sizeclass << 1 | noscan; 0/1 = large
    uint8_t state;      // SpanState
    uint16_t reserved;
    uint32_t ownerTid;  // thread whose mcache holds it (Cached), else 0
};
static_assert(sizeof(SpanRecord) == 24);

struct SessionInfo {
    std::string program;
    std::vector<std::string> argv;
    int64_t pid = 0;
    int64_t startUnixNs = 0;
    int64_t endNs = 0;  // last event time, ns since the stream began
    // recording (or the recorder died), exit, signal, detached, lost, recorder-stopped,
    // stream-error, disk-full, write-error
    std::string endReason;
    int64_t exitCode = -1, signal = 0;
    std::string streamStatus;  // complete, truncated, corrupt, or empty while recording
    std::string streamError;
    int64_t events = 0, dropped = 0;
    int64_t pageSize = 0, arenaBytes = 0;
    int64_t flags = 0;  // the stream header's flags (stream::kFlagObjectLevel, kFlagAttached)
    int formatVersion = 0;
    bool interrupted() const { return endReason == "recording"; }  // the recorder died mid-way
};

struct HeapSample {  // MemStats-like totals at one moment (heap_totals)
    int64_t tNs = 0;
    uint64_t heapAlloc = 0, heapInuse = 0, heapIdle = 0, heapReleased = 0, heapSys = 0, sys = 0;
    uint64_t heapObjects = 0, totalAlloc = 0, nextSweep = 0, numSweepCycles = 0;
    uint64_t mallocs = 0, frees = 0, heapLive = 0, largestFreeRun = 0;
};

struct ClassSample {  // cumulative per-class counters at one moment (class_counters)
    int64_t tNs = 0;
    int sizeClass = 0;
    uint64_t mallocs = 0, frees = 0, requestedBytes = 0, slotBytes = 0, spans = 0;
};

struct GcCycle {  // one sweep generation (malloc mode) or GC cycle (managed mode)
    int64_t cycle = 0;
    std::string kind;                 // "sweep" or "gc"
    int64_t startNs = 0, endNs = -1;  // endNs -1: still running at the end of the session
    uint64_t heapLive = 0, heapGoal = 0, trigger = 0, sweepgen = 0, stwNs = 0;
};

struct GcPhase {  // one GCPhase record of a managed session (gc_phases)
    int64_t cycle = 0;
    std::string phase;  // sweep-termination, mark, mark-termination, off
    int64_t tNs = 0;
    uint64_t heapLive = 0, heapGoal = 0, trigger = 0, stwNs = 0;
};

struct EventRow {  // one recorded record and its row (events.id: recording order breaks time ties)
    int64_t id = 0;
    Event event{};  // timeNs in ns since the stream began
};

struct ClassTotals {  // per size class at one moment, from the span state
    int sizeClass = 0;
    uint32_t size = 0;
    uint64_t spans = 0, spanBytes = 0, objects = 0, bytesInUse = 0;
    uint64_t freeSlotBytes = 0, tailWaste = 0;  // waste = freeSlotBytes + tailWaste
    uint64_t mallocs = 0, frees = 0;            // cumulative, from the latest counters <= t
    uint64_t requestedBytes = 0;                // cumulative bytes asked for (same counters)
};

// One span's object slots at one moment, for the span inspector (SessionReader::spanObjectsAt).
// Slots are known only in sessions recorded with object-level events (SPANSCOPE_OBJECTS=1, the
// teaching scenarios); otherwise bitsKnown is false and only the span's counts are.
enum class SlotState : uint8_t {
    Free = 0,       // not allocated
    Allocated = 1,  // allocated (no marking in progress)
    White = 2,      // allocated, not (yet) marked in the current GC cycle's mark phase
    Grey = 3,       // marked, not yet scanned (in a work buffer)
    Black = 4,      // marked and scanned
};
struct SpanObjects {
    SpanRecord span{};
    uint32_t elemSize = 0;
    bool bitsKnown = false;        // slots below come from object-level events
    bool marking = false;          // t falls in a GC cycle's mark phase (white/grey/black apply)
    int64_t cycle = 0;             // that cycle (managed sessions)
    std::vector<SlotState> slotStates;  // nelems entries when bitsKnown (not "slots": a Qt macro)
};

// ---- The recorder --------------------------------------------------------------------------
struct RecorderOptions {
    std::string path;
    bool overwrite = false;                // replace an existing file (else it is an error)
    int commitIntervalMs = 100;            // a live reader sees data at most this old
    uint32_t keyframeEveryEvents = 20000;  // a keyframe after this many span events (at least
                                           // twice the number of spans) ...
    int64_t keyframeEveryNs = 500000000;   // ... or this long, whichever comes first
};

struct EndInfo {
    std::string reason;  // exit, signal, detached, recorder-stopped, stream-error
    int exitCode = -1;
    int signal = 0;
};

struct RecorderStats {
    uint64_t events = 0, frames = 0, bytes = 0, commits = 0, keyframes = 0;
};

class SessionWriter;
class SpanModel;

// Decodes a stream and records it. Lifecycle (checked by the methods):
//
//    open() --> [Recording] --feed()/pump()--> [Recording] --finish()--> [Finished]
//                    |  corrupt stream: error(), feed() returns false; finish() still records
//                    |  how it ended, and everything committed stays.
class Recorder {
public:
    Recorder();
    ~Recorder();
    bool open(const RecorderOptions& opts, std::string* err);
    // Decodes and buffers; commits when commitIntervalMs has passed. False on a stream or disk
    // error.
    bool feed(const void* data, size_t n);
    // Reads fd until end of file, *stop, or an error; polls so that commits stay on time.
    bool pump(int fd, const std::atomic<bool>* stop = nullptr);
    bool commit();
    // Final commit and the end of the session. The stream status comes from the decoder.
    bool finish(const EndInfo& end);
    const std::string& error() const { return m_error; }
    bool headerSeen() const { return m_decoder.headerSeen(); }
    const StreamDecoder& decoder() const { return m_decoder; }
    RecorderStats stats() const { return m_stats; }

private:
    bool handleEvents(std::span<const Event> events);
    bool releasePending(uint64_t upTo);
    bool applyEvents(const Event* events, size_t n);
    bool maybeKeyframe(bool force);
    bool writeFailed();
    StreamDecoder m_decoder;
    std::unique_ptr<SessionWriter> m_writer;
    std::unique_ptr<SpanModel> m_model;
    RecorderOptions m_opts;
    std::string m_error;
    RecorderStats m_stats;
    int64_t m_lastCommitMono = 0;
    uint64_t m_spanEventsSinceKeyframe = 0;
    int64_t m_lastKeyframeT = 0;
    int64_t m_lastT = 0;
    uint64_t m_droppedSeen = 0;
    uint64_t m_baseNs = 0;
    bool m_inTx = false, m_finished = false, m_streamFailed = false, m_dirty = false,
         m_writeFailed = false;
    std::vector<Event> m_pending;  // held until a watermark covers them
    bool m_watermarks = false;     // the stream sends watermarks
    Event m_ext{}, m_ext2{};       // HeapTotalsExt/Ext2, for the HeapTotals that follows
};

// ---- The reader ----------------------------------------------------------------------------
// Times are ns since the stream began. Opening refuses a missing file, a file that is not a
// spanscope session, and a session from a newer schema, each with a one-line reason.
class SessionReader {
public:
    ~SessionReader();
    static std::unique_ptr<SessionReader> open(const std::string& path, std::string* err);
    const SessionInfo& info() const { return m_info; }
    bool refresh();  // re-reads the session row (a live session grows)
    const std::vector<stream::ClassEntry>& sizeClasses() const { return m_classes; }
    std::vector<SpanRecord> spansAt(int64_t t);
    std::vector<HeapSample> heapSeries(int64_t t0, int64_t t1);
    std::vector<ClassSample> classSeries(int64_t t0, int64_t t1, int sizeClass = -1);
    std::vector<GcCycle> gcCycles(int64_t t0, int64_t t1);
    std::vector<GcPhase> gcPhases(int64_t t0, int64_t t1);  // phases with t0 <= t_ns <= t1
    // The first record after (t, afterId) in (time, id) order whose kind is in kinds (any kind if
    // kinds is empty); false if there is none. eventBefore: the last one before (t, beforeId).
    // Bounded by the keyframes' event ids, so a step costs about the distance it moves.
    bool eventAfter(int64_t t, int64_t afterId, const std::vector<uint16_t>& kinds, EventRow* out);
    bool eventBefore(int64_t t, int64_t beforeId, const std::vector<uint16_t>& kinds, EventRow* out);
    std::vector<ClassTotals> classTotalsAt(int64_t t);
    // Fills mallocs, frees and requested bytes of totals from the latest counters at or before t.
    void addClassCounters(int64_t t, std::vector<ClassTotals>* totals);
    bool heapAt(int64_t t, HeapSample* out);  // the latest sample at or before t
    // Recorded records (not counters) with t0 <= time <= t1, in recording order, at most limit;
    // times are ns since the stream began. For timelines and narration.
    std::vector<Event> eventsBetween(int64_t t0, int64_t t1, size_t limit = 10000);
    // The span containing addr at time t and, with object-level events, its slots. False if no
    // span holds addr then.
    bool spanObjectsAt(uint64_t addr, int64_t t, SpanObjects* out);
    // Events replayed by the last spansAt() after its keyframe (the bound the keyframes keep).
    uint64_t lastReplayCount() const { return m_lastReplay; }
    const std::string& error() const { return m_error; }

private:
    SessionReader() = default;
    struct Db;
    std::unique_ptr<Db> m_db;
    SessionInfo m_info;
    std::vector<stream::ClassEntry> m_classes;
    std::string m_error;
    uint64_t m_lastReplay = 0;
};

// Per-class totals (spans, objects, bytes, free-slot and tail waste) of a span table; mallocs and
// frees are left 0 (they come from the class counters).
std::vector<ClassTotals> classTotalsOf(const std::vector<SpanRecord>& spans,
                                       const std::vector<stream::ClassEntry>& classes, uint64_t pageSize);

// ---- Live processes (the attach client, live_processes.cpp) -----------------------------------
struct LiveProcess {  // a process listening for attach (docs/session-format.md 1.6)
    long pid = 0;
    std::string program;  // /proc/PID/exe, "?" if unreadable
    uint64_t heapSys = 0, heapAlloc = 0, heapInuse = 0;
    bool attached = false;  // a client is attached
    bool answered = false;  // it answered STAT (else the figures are 0)
};
// Connects to a process's attach socket (peer uid checked); -1 with a one-line reason.
int connectToProcess(long pid, std::string* err);
// The attachable processes of this user (sockets in probe::socketDir answering STAT), by pid.
// Removes the sockets of processes that are gone. Blocks up to a second per silent process.
std::vector<LiveProcess> listLiveProcesses();

}  // namespace session
}  // namespace spanscope
