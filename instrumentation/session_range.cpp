// Range statistics and session summaries (spanscope/session_range.h): differences of cumulative
// class counters, time-weighted heap series, GC cycles and pauses, and the span tables at a
// range's two ends. Everything comes through SessionReader's queries on the derived tables, so
// the cost depends on the range's samples and the keyframe interval, not on the records.
#include "spanscope/session_range.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace spanscope::session {

namespace {

// Fills one class's figures from its counters at t0 (a, may be null) and t1 (b).
ClassRangeStats classDelta(int sizeClass, uint32_t size, const ClassSample* a,
                           const ClassSample& b) {
    ClassRangeStats c;
    c.sizeClass = sizeClass;
    c.size = size;
    const ClassSample zero{};
    const ClassSample& s = a ? *a : zero;
    auto diff = [](uint64_t hi, uint64_t lo) { return hi > lo ? hi - lo : 0; };
    c.allocObjects = diff(b.mallocs, s.mallocs);
    c.freedObjects = diff(b.frees, s.frees);
    c.requestedBytes = diff(b.requestedBytes, s.requestedBytes);
    c.spansAtStart = s.spans;
    c.spansAtEnd = b.spans;
    if (sizeClass == 0) {  // large objects: the counters keep the bytes asked for
        c.allocBytes = c.requestedBytes;
        const double mean = b.mallocs ? double(b.requestedBytes) / double(b.mallocs) : 0.0;
        c.freedBytes = static_cast<uint64_t>(double(c.freedObjects) * mean + 0.5);
    } else {
        c.allocBytes = c.allocObjects * size;
        c.freedBytes = c.freedObjects * size;
    }
    return c;
}

void addClasses(SessionReader& r, RangeStats* out) {
    const auto& table = r.sizeClasses();
    const std::vector<ClassSample> at0 = r.classCountersAt(out->t0 - 1);  // before the range
    const std::vector<ClassSample> at1 = r.classCountersAt(out->t1);
    std::unordered_map<int, const ClassSample*> start;
    for (const ClassSample& s : at0) start[s.sizeClass] = &s;
    for (const ClassSample& b : at1) {
        auto it = start.find(b.sizeClass);
        const uint32_t size =
            b.sizeClass < static_cast<int>(table.size()) ? table[size_t(b.sizeClass)].size : 0;
        ClassRangeStats c =
            classDelta(b.sizeClass, size, it == start.end() ? nullptr : it->second, b);
        out->allocObjects += c.allocObjects, out->freedObjects += c.freedObjects;
        out->allocBytes += c.allocBytes, out->freedBytes += c.freedBytes;
        out->classes.push_back(c);
    }
}

// The span changes, counted in total and per class (a class with changes and no counter row
// gets a row of its own, so that the per-class counts always sum to the totals).
void addSpanChanges(const SpanChanges& ch, const std::vector<stream::ClassEntry>& table,
                    RangeStats* out) {
    auto classRow = [&](int sizeClass) -> ClassRangeStats& {
        for (ClassRangeStats& c : out->classes)
            if (c.sizeClass == sizeClass) return c;
        ClassRangeStats c;
        c.sizeClass = sizeClass;
        c.size = sizeClass < static_cast<int>(table.size()) ? table[size_t(sizeClass)].size : 0;
        out->classes.push_back(c);
        return out->classes.back();
    };
    for (const SpanRecord& s : ch.taken) {
        out->spansTaken++, out->pagesTaken += s.npages;
        classRow(s.spanClass >> 1).spansTaken++;
    }
    for (const SpanRecord& s : ch.returned) {
        out->spansReturned++, out->pagesReturned += s.npages;
        classRow(s.spanClass >> 1).spansReturned++;
    }
    std::sort(out->classes.begin(), out->classes.end(),
              [](const ClassRangeStats& a, const ClassRangeStats& b) {
                  return a.sizeClass < b.sizeClass;
              });
}

void addGc(SessionReader& r, RangeStats* out) {
    for (GcCycle& c : r.gcCycles(out->t0, out->t1))
        if (c.startNs >= out->t0 && c.startNs <= out->t1) out->cycles.push_back(std::move(c));
    for (const GcPhase& ph : r.gcPhases(out->t0, out->t1)) {
        if (ph.stwNs == 0) continue;
        GcPause p{ph.cycle, ph.phase, ph.tNs - static_cast<int64_t>(ph.stwNs),
                  static_cast<int64_t>(ph.stwNs)};
        out->pauseTotalNs += ph.stwNs;
        if (p.durationNs > out->longestPause.durationNs) out->longestPause = p;
        out->pauses.push_back(std::move(p));
    }
}

// Time-weighted statistics of one field over the samples in effect during [t0, t1].
template <class Field>
SeriesStats seriesOf(const std::vector<HeapSample>& samples, int64_t t0, int64_t t1, Field field) {
    SeriesStats s;
    double weighted = 0, weight = 0, plain = 0;
    for (size_t i = 0; i < samples.size(); i++) {
        const uint64_t v = field(samples[i]);
        const int64_t from = std::max(samples[i].tNs, t0);
        const int64_t to = i + 1 < samples.size() ? std::min(samples[i + 1].tNs, t1) : t1;
        if (s.samples == 0 || v < s.min) s.min = v, s.tMin = from;
        if (s.samples == 0 || v > s.max) s.max = v, s.tMax = from;
        s.samples++;
        plain += double(v);
        if (to > from) weighted += double(v) * double(to - from), weight += double(to - from);
    }
    if (s.samples) s.mean = weight > 0 ? weighted / weight : plain / double(s.samples);
    return s;
}

void addSeries(SessionReader& r, RangeStats* out) {
    std::vector<HeapSample> samples;
    HeapSample before;
    if (r.heapAt(out->t0, &before) && before.tNs < out->t0) samples.push_back(before);
    for (HeapSample& h : r.heapSeries(out->t0, out->t1)) samples.push_back(h);
    const int64_t t0 = out->t0, t1 = out->t1;
    auto add = [&](const char* name, auto field) {
        out->series.push_back({name, seriesOf(samples, t0, t1, field)});
    };
    add("HeapAlloc", [](const HeapSample& h) { return h.heapAlloc; });
    add("HeapInuse", [](const HeapSample& h) { return h.heapInuse; });
    add("HeapIdle", [](const HeapSample& h) { return h.heapIdle; });
    add("HeapReleased", [](const HeapSample& h) { return h.heapReleased; });
    add("HeapSys", [](const HeapSample& h) { return h.heapSys; });
    add("HeapObjects", [](const HeapSample& h) { return h.heapObjects; });
    add("HeapLive", [](const HeapSample& h) { return h.heapLive; });
    add("Fragmentation", [](const HeapSample& h) {
        return h.heapInuse > h.heapAlloc ? h.heapInuse - h.heapAlloc : 0;
    });
}

}  // namespace

const SeriesStats* RangeStats::find(const char* name) const {
    for (const RangeSeries& s : series)
        if (!std::strcmp(s.name, name)) return &s.stats;
    return nullptr;
}

SpanChanges spanChanges(const std::vector<SpanRecord>& a, const std::vector<SpanRecord>& b) {
    SpanChanges out;
    size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        if (j == b.size() || (i < a.size() && a[i].base < b[j].base)) {
            out.returned.push_back(a[i++]);
        } else if (i == a.size() || b[j].base < a[i].base) {
            out.taken.push_back(b[j++]);
        } else {  // the same base: the same span unless its size changed (freed and taken again)
            if (a[i].npages != b[j].npages || (a[i].spanClass >> 1) != (b[j].spanClass >> 1)) {
                out.returned.push_back(a[i]);
                out.taken.push_back(b[j]);
            }
            i++, j++;
        }
    }
    return out;
}

RangeStats rangeStats(SessionReader& reader, int64_t t0, int64_t t1) {
    return rangeStats(reader, t0, t1, nullptr);
}

RangeStats rangeStats(SessionReader& reader, int64_t t0, int64_t t1, RangeSpans* spans) {
    RangeStats out;
    out.t0 = std::min(t0, t1);
    out.t1 = std::max(t0, t1);
    addClasses(reader, &out);
    RangeSpans local;
    RangeSpans& sp = spans ? *spans : local;
    sp.atStart = reader.spansAt(out.t0);
    sp.atEnd = reader.spansAt(out.t1);
    addSpanChanges(spanChanges(sp.atStart, sp.atEnd), reader.sizeClasses(), &out);
    addGc(reader, &out);
    addSeries(reader, &out);
    return out;
}

JumpTargets jumpTargets(const RangeStats& range) {
    JumpTargets j;
    if (const SeriesStats* s = range.find("HeapAlloc"); s && s->samples) j.peakHeap = s->tMax;
    if (const SeriesStats* s = range.find("Fragmentation"); s && s->samples)
        j.peakFragmentation = s->tMax;
    if (range.longestPause.durationNs > 0) j.longestPause = range.longestPause.startNs;
    for (const GcCycle& c : range.cycles) j.cycleStarts.emplace_back(c.cycle, c.startNs);
    return j;
}

FlowRates allocationFlow(SessionReader& reader, int64_t t0, int64_t t1, size_t maxRecords) {
    FlowRates f;
    f.t0 = std::min(t0, t1), f.t1 = std::max(t0, t1);
    const std::vector<Event> events = reader.eventsBetween(f.t0, f.t1, maxRecords);
    const double page = double(reader.info().pageSize ? reader.info().pageSize : 8192);
    f.records = events.size();
    f.capped = events.size() >= maxRecords && maxRecords > 0;
    f.coveredNs = f.capped ? static_cast<int64_t>(events.back().timeNs) - f.t0 : f.t1 - f.t0;
    for (const Event& e : events) {
        switch (e.kind) {
            case EventKind::SpanRefill:
                f.refills++;
                if (e.flags & kRefillUncached) f.handBacks++;
                if (e.flags & kRefillSwept) f.sweeps++;
                break;
            case EventKind::SpanCache:
                f.refills++;
                break;
            case EventKind::SpanUncache:
                f.handBacks++;
                break;
            case EventKind::SpanSweep:
                f.sweeps++;
                break;
            case EventKind::SweepProgress:
                f.sweeps += double(e.c);
                break;  // sweeps that freed nothing
            case EventKind::SpanAlloc:
                f.spanAllocs++;
                break;
            case EventKind::SpanFree:
                f.spanFrees++;
                break;
            case EventKind::LargeAlloc:
                f.largeAllocs++;
                break;
            case EventKind::LargeFree:
                f.largeFrees++;
                break;
            case EventKind::HeapGrow:
                f.grownBytes += e.npages * page;
                break;
            case EventKind::Scavenge:
                f.releasedBytes += e.npages * page;
                break;
            case EventKind::ScavReuse:
                f.reusedBytes += e.npages * page;
                break;
            default:
                break;
        }
    }
    const double seconds = f.coveredNs > 0 ? double(f.coveredNs) / 1e9 : 0;
    for (double* v :
         {&f.refills, &f.handBacks, &f.sweeps, &f.spanAllocs, &f.spanFrees, &f.largeAllocs,
          &f.largeFrees, &f.grownBytes, &f.releasedBytes, &f.reusedBytes})
        *v = seconds > 0 ? *v / seconds : 0;
    return f;
}

SessionSummary sessionSummary(SessionReader& reader) {
    SessionSummary s;
    const SessionInfo& in = reader.info();
    s.program = in.program;
    s.durationNs = in.endNs;
    for (const ClassTotals& ct : reader.classTotalsAt(in.endNs))
        s.classes.push_back(ClassSummary{ct.sizeClass, ct.size, ct.spans, ct.objects, ct.bytesInUse,
                                         ct.freeSlotBytes + ct.tailWaste, ct.mallocs, ct.frees});
    const RangeStats whole = rangeStats(reader, 0, in.endNs);
    s.cycles = whole.cycles.size();
    s.pauses = whole.pauses.size();
    s.pauseTotalNs = whole.pauseTotalNs;
    s.longestPauseNs = static_cast<uint64_t>(whole.longestPause.durationNs);
    if (const SeriesStats* p = whole.find("HeapAlloc")) s.peakHeapAlloc = p->max;
    if (const SeriesStats* p = whole.find("HeapInuse")) s.peakHeapInuse = p->max;
    if (const SeriesStats* p = whole.find("HeapSys")) s.peakHeapSys = p->max;
    if (const SeriesStats* p = whole.find("Fragmentation"))
        s.peakFragmentation = p->max, s.meanFragmentation = static_cast<uint64_t>(p->mean + 0.5);
    if (HeapSample end; reader.heapAt(in.endNs, &end)) {
        s.endHeapAlloc = end.heapAlloc;
        s.totalAlloc = end.totalAlloc;
        s.mallocs = end.mallocs;
        s.frees = end.frees;
    }
    return s;
}

std::vector<DiffFigure> summaryFigures(const SessionSummary& a, const SessionSummary& b) {
    return {{"durationNs", uint64_t(a.durationNs), uint64_t(b.durationNs)},
            {"cycles", a.cycles, b.cycles},
            {"pauses", a.pauses, b.pauses},
            {"pauseTotalNs", a.pauseTotalNs, b.pauseTotalNs},
            {"longestPauseNs", a.longestPauseNs, b.longestPauseNs},
            {"peakHeapAlloc", a.peakHeapAlloc, b.peakHeapAlloc},
            {"peakHeapInuse", a.peakHeapInuse, b.peakHeapInuse},
            {"peakHeapSys", a.peakHeapSys, b.peakHeapSys},
            {"endHeapAlloc", a.endHeapAlloc, b.endHeapAlloc},
            {"peakFragmentation", a.peakFragmentation, b.peakFragmentation},
            {"meanFragmentation", a.meanFragmentation, b.meanFragmentation},
            {"totalAlloc", a.totalAlloc, b.totalAlloc},
            {"mallocs", a.mallocs, b.mallocs},
            {"frees", a.frees, b.frees}};
}

std::vector<DiffFigure> classFigures(const ClassSummary& a, const ClassSummary& b) {
    return {{"spans", a.spans, b.spans},       {"objects", a.objects, b.objects},
            {"bytes", a.bytes, b.bytes},       {"waste", a.waste, b.waste},
            {"mallocs", a.mallocs, b.mallocs}, {"frees", a.frees, b.frees}};
}

}  // namespace spanscope::session
