// The session's value types: what a session file holds (its schema version, the span record of a
// keyframe, the session row) and what SessionReader answers with (heap and class samples, GC
// cycles and phases, event rows, per-class totals, a span's objects). See docs/session-format.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "spanscope/allocator.h"
#include "spanscope/events.h"

namespace spanscope::session {

// PRAGMA user_version. 4: the heap profile's samples in compressed blocks too
// (prof_sample_blocks), read through the virtual table `prof_samples`. 3: records in compressed
// blocks (event_blocks), read through the virtual table `events`; one `prof_samples` row per
// sample. 2: SpanRefill records (kind 24), one `events` row per record; 1: the same without kind
// 24. Versions 1 to 3 still open (their real `events` or `prof_samples` table answers the same
// queries); `spanscope-cli upgrade` converts them.
inline constexpr int kSchemaVersion = 4;
inline constexpr int kOldestSchemaVersion = 1;
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

// Where the replay is incomplete: the probe dropped records (a ring was full) from fromNs, and the
// span table is whole again from toNs (a resync rundown), or not before the end (resynced false).
struct DropGap {
    int64_t fromNs = 0, toNs = 0;
    int64_t dropped = 0;
    bool resynced = false;
};

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
    // A bounded recording (record --max-size/--keep) that dropped its beginning: the time of its
    // first kept keyframe, from which the state is known. 0: nothing was dropped.
    int64_t keptFromNs = 0;
    // The gaps (sorted by fromNs). A session recorded before gaps were tracked that dropped records
    // has one gap over the whole session.
    std::vector<DropGap> gaps;
    bool interrupted() const { return endReason == "recording"; }  // the recorder died mid-way
    // The gap holding t (fromNs <= t < toNs), or null: at t the replayed spans may be incomplete.
    const DropGap* gapAt(int64_t t) const {
        for (const DropGap& g : gaps)
            if (g.fromNs <= t && t < g.toNs) return &g;
        return nullptr;
    }
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
    uint64_t memoryLimit = 0;  // managed: GOMEMLIMIT when the cycle began (0: none)
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
    bool bitsKnown = false;  // slots below come from object-level events
    bool marking = false;    // t falls in a GC cycle's mark phase (white/grey/black apply)
    int64_t cycle = 0;       // that cycle (managed sessions)
    std::vector<SlotState> slotStates;  // nelems entries when bitsKnown (not "slots": a Qt macro)
};

}  // namespace spanscope::session
