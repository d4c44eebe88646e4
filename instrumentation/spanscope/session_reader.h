// SessionReader: answers the GUI's and the report's questions about a session file (the state at
// any moment from a keyframe plus a bounded replay, series, GC cycles, stepping between records).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "spanscope/events.h"
#include "spanscope/session_check.h"
#include "spanscope/session_types.h"
#include "spanscope/stream.h"

namespace spanscope::session {

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
    bool eventBefore(int64_t t, int64_t beforeId, const std::vector<uint16_t>& kinds,
                     EventRow* out);
    std::vector<ClassTotals> classTotalsAt(int64_t t);
    // Fills mallocs, frees and requested bytes of totals from the latest counters at or before t.
    void addClassCounters(int64_t t, std::vector<ClassTotals>* totals);
    // Each class's latest counters at or before t (classes with none before t are left out).
    std::vector<ClassSample> classCountersAt(int64_t t);
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
    // Damaged parts found on open and since (keyframes, replayed records), one per part; the rest
    // of the session is browsable. spanscope-cli check runs the full check (session_check.h).
    const std::vector<SessionProblem>& warnings() const { return m_warnings; }
    // Records dropped by the probe because a ring was full, per kind (the last Dropped record's
    // count for each); empty for streams that did not say which kinds.
    std::map<uint16_t, int64_t> droppedByKind();

private:
    std::vector<SpanRecord> plausibleSpans(const void* blob, int bytes, int64_t spanCount);
    void warnOnce(const std::string& part, const std::string& what);
    std::vector<SessionProblem> m_warnings;
    SessionReader() = default;
    struct Db;
    std::unique_ptr<Db> m_db;
    SessionInfo m_info;
    std::vector<stream::ClassEntry> m_classes;
    std::string m_error;
    uint64_t m_lastReplay = 0;
    bool m_hasMemoryLimit =
        false;  // gc_cycles.memory_limit (sessions recorded before it have none)
};

// Per-class totals (spans, objects, bytes, free-slot and tail waste) of a span table; mallocs and
// frees are left 0 (they come from the class counters).
std::vector<ClassTotals> classTotalsOf(const std::vector<SpanRecord>& spans,
                                       const std::vector<stream::ClassEntry>& classes,
                                       uint64_t pageSize);

}  // namespace spanscope::session
