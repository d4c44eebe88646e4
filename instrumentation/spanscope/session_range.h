// Time ranges and whole-session summaries over a recorded session: what happened between two
// moments (allocations and frees per size class, spans taken and returned, GC cycles and their
// stop-the-world pauses, min/max/mean of each heap series, fragmentation), where to jump (peak
// heap, peak fragmentation, longest pause, GC n), and two sessions compared class by class.
// Computed from the derived tables (class counters, heap totals, GC cycles and phases) and the
// span table at the range's ends (SessionReader), never from the raw records: a statistic costs
// the same on a 10 M-record session as on a small one. See docs/session-format.md, section 5.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "spanscope/session.h"

namespace spanscope::session {

// One series over a range: the samples in effect during [t0, t1] (the latest at or before t0,
// then every one inside). mean is time-weighted: each sample holds until the next one.
struct SeriesStats {
    uint64_t min = 0, max = 0;
    double mean = 0;
    int64_t tMin = 0, tMax = 0;  // when min and max were first reached (>= t0)
    size_t samples = 0;          // samples that count (0: no data in or before the range)
};

// One size class over a range: its cumulative counters at t1 (the latest class_counters row at or
// before t1) less those before the range (the latest row before t0; none: zero), so that the
// samples taken in [t0, t1] are the range's.
struct ClassRangeStats {
    int sizeClass = 0;
    uint32_t size = 0;  // 0 for class 0 (large objects)
    uint64_t allocObjects = 0, freedObjects = 0;
    // Slot bytes (objects x size). Class 0: allocBytes are the bytes asked for; freedBytes are
    // freedObjects x the mean large-object size so far (the counters keep no freed bytes).
    uint64_t allocBytes = 0, freedBytes = 0;
    uint64_t requestedBytes = 0;                // bytes asked for in the range
    uint64_t spansAtStart = 0, spansAtEnd = 0;  // spans in use (class counters)
    // Spans of this class taken and returned in the range (SpanChanges, by the span tables at the
    // range's ends); over all classes they sum to RangeStats::spansTaken / spansReturned.
    uint64_t spansTaken = 0, spansReturned = 0;
};

struct GcPause {  // one stop-the-world pause (a gc_phases row with stw_ns > 0: it ends at its t_ns)
    int64_t cycle = 0;
    std::string phase;  // sweep-termination or mark-termination
    int64_t startNs = 0, durationNs = 0;
};

// The named series of RangeStats, in one place (the CLI, the GUI and the tests loop over it).
struct RangeSeries {
    const char* name;  // MemStats-like name: HeapAlloc, ..., Fragmentation
    SeriesStats stats;
};

struct RangeStats {
    int64_t t0 = 0, t1 = 0;
    std::vector<ClassRangeStats> classes;  // classes with any counter row at or before t1
    uint64_t allocObjects = 0, freedObjects = 0, allocBytes = 0, freedBytes = 0;  // sums of classes
    // Spans in the span table at t1 and not at t0 (taken from the heap), and the reverse
    // (returned to it), by base address; a span taken and returned inside the range is in neither.
    uint64_t spansTaken = 0, spansReturned = 0, pagesTaken = 0, pagesReturned = 0;
    std::vector<GcCycle> cycles;  // cycles / sweep generations that started in [t0, t1]
    std::vector<GcPause> pauses;  // pauses that ended in [t0, t1]
    uint64_t pauseTotalNs = 0;
    GcPause longestPause;  // durationNs 0: no pause in the range
    // HeapAlloc, HeapInuse, HeapIdle, HeapReleased, HeapSys, HeapObjects, HeapLive, and
    // Fragmentation = HeapInuse - HeapAlloc (bytes in in-use spans that hold no object).
    std::vector<RangeSeries> series;
    const SeriesStats* find(const char* name) const;  // nullptr if no such series
};

// Throws nothing; t0 > t1 are swapped. Reads only what the range needs (see the file comment).
RangeStats rangeStats(SessionReader& reader, int64_t t0, int64_t t1);

// The span tables at a range's two ends, as rangeStats read them (the GUI draws the heap map of a
// range from them without reading them again).
struct RangeSpans {
    std::vector<SpanRecord> atStart, atEnd;  // spansAt(t0), spansAt(t1), sorted by base
};
RangeStats rangeStats(SessionReader& reader, int64_t t0, int64_t t1, RangeSpans* spans);

// Spans in the table at the range's end and not at its start (taken from the heap) and the
// reverse (returned to it), by base address; a base whose span changed size or class counts as
// one returned and one taken; a span taken and returned inside the range is in neither. Both
// tables sorted by base (as spansAt returns them). RangeStats' span counts are these lists' sizes.
struct SpanChanges {
    std::vector<SpanRecord> taken, returned;
};
SpanChanges spanChanges(const std::vector<SpanRecord>& atStart,
                        const std::vector<SpanRecord>& atEnd);

// "Jump to" targets: moments the GUI's menu offers. -1: none.
struct JumpTargets {
    int64_t peakHeap = -1;           // HeapAlloc at its highest
    int64_t peakFragmentation = -1;  // HeapInuse - HeapAlloc at its highest
    int64_t longestPause = -1;       // the start of the longest stop-the-world pause
    std::vector<std::pair<int64_t, int64_t>>
        cycleStarts;  // (cycle, start) of each GC cycle / sweep
};
JumpTargets jumpTargets(const RangeStats& range);

// The allocation flow over [t0, t1] (the GUI's flow view): how often each path between the
// allocator's levels was taken, per second. mcache <-> mcentral: refills (a span cached) and
// hand-backs (a span uncached); sweeps on the way; mcentral <-> mheap: spans taken and freed;
// mcache <-> mheap directly: large objects; mheap <-> OS: pages grown and reused (bytes) and
// released by the scavenger (bytes). From the recorded records (SessionReader::eventsBetween), at
// most maxRecords of them: past that the rates are over the part of the range they cover.
struct FlowRates {
    int64_t t0 = 0, t1 = 0, coveredNs = 0;
    bool capped = false;  // maxRecords reached: coveredNs < t1 - t0
    uint64_t records = 0;
    double refills = 0, handBacks = 0, sweeps = 0, spanAllocs = 0, spanFrees = 0, largeAllocs = 0,
           largeFrees = 0, grownBytes = 0, releasedBytes = 0, reusedBytes = 0;
};
FlowRates allocationFlow(SessionReader& reader, int64_t t0, int64_t t1, size_t maxRecords = 300000);

// A session's figures for `diff` and the compare view: per class at the session's end, and
// cumulative counters; cycles, pauses, peak heap over the whole session.
struct ClassSummary {
    int sizeClass = 0;
    uint32_t size = 0;
    uint64_t spans = 0, objects = 0, bytes = 0, waste = 0;  // at the end (span table)
    uint64_t mallocs = 0, frees = 0;                        // cumulative (class counters)
};
struct SessionSummary {
    std::string program;
    int64_t durationNs = 0;
    std::vector<ClassSummary> classes;  // every class of the size-class table, by class
    uint64_t cycles = 0, pauses = 0, pauseTotalNs = 0, longestPauseNs = 0;
    uint64_t peakHeapAlloc = 0, peakHeapInuse = 0, peakHeapSys = 0, endHeapAlloc = 0;
    uint64_t peakFragmentation = 0,
             meanFragmentation = 0;  // HeapInuse - HeapAlloc (time-weighted mean)
    uint64_t totalAlloc = 0, mallocs = 0, frees = 0;
};
SessionSummary sessionSummary(SessionReader& reader);

// The figures `diff` and the compare view show, in one list: each named, of both sessions.
struct DiffFigure {
    const char* name;
    uint64_t a, b;
    int64_t delta() const { return static_cast<int64_t>(b) - static_cast<int64_t>(a); }
};
std::vector<DiffFigure> summaryFigures(const SessionSummary& a, const SessionSummary& b);
std::vector<DiffFigure> classFigures(const ClassSummary& a, const ClassSummary& b);  // spans first

}  // namespace spanscope::session
