// Session exports for other tools (spanscope/session_export.h): Chrome's trace-event JSON for
// Perfetto's UI and chrome://tracing, and CSV files of the size-class table and every timeline
// series. Used by `spanscope-cli export` and the viewer's File > Export. Everything comes through
// SessionReader; outputs are written to a temporary file and renamed into place.
#include "spanscope/session_export.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace spanscope::session {

namespace {
using nlohmann::json;

// Named tracks of the trace, on thread ids no kernel hands out (pid_max is at most 2^22).
constexpr int64_t kGcTrack = 5000001, kPauseTrack = 5000002, kSweepTrack = 5000003;

}  // namespace

bool writeFileAtomically(const std::string& path, const std::string& text, std::string* err) {
    const std::string tmp = path + ".tmp" + std::to_string(getpid());
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f || !(f << text) || !(f.flush())) {
            *err = path + ": " + std::strerror(errno ? errno : EIO);
            std::remove(tmp.c_str());
            return false;
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        *err = path + ": " + std::strerror(errno);
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

namespace {
double us(int64_t ns) {
    return static_cast<double>(ns) / 1000.0;
}

json slice(const char* name, int64_t pid, int64_t tid, int64_t t0, int64_t t1,
           json args = json::object()) {
    return {{"ph", "X"},
            {"name", name},
            {"pid", pid},
            {"tid", tid},
            {"ts", us(t0)},
            {"dur", us(std::max<int64_t>(t1 - t0, 0))},
            {"args", std::move(args)}};
}

json threadName(int64_t pid, int64_t tid, const std::string& name) {
    return {{"ph", "M"}, {"name", "thread_name"},   {"pid", pid}, {"tid", tid},
            {"ts", 0},   {"args", {{"name", name}}}};
}

// One managed GC cycle: a slice covering its phases, each phase a slice nested inside.
// A cycle's pause is measured from when it asked to stop the world, which on a busy machine can be
// before the previous cycle's last record: slices start no earlier than notBefore (the previous
// cycle's end), so that the track's slices nest; the measured pause stays in the cycle's args.
// Returns the cycle's end.
int64_t addGcCycle(json& ev, int64_t pid, const GcCycle& c, const std::vector<GcPhase>& phases,
                   int64_t end, int64_t notBefore) {
    struct Part {
        std::string name;
        int64_t t0, t1;
    };
    std::vector<Part> parts;
    int64_t markStart = -1;
    for (const GcPhase& ph : phases) {
        const int64_t stw = static_cast<int64_t>(ph.stwNs);
        if (ph.phase == "sweep-termination")
            parts.push_back({"sweep termination (STW)", ph.tNs - stw, ph.tNs});
        else if (ph.phase == "mark")
            markStart = ph.tNs;
        else if (ph.phase == "mark-termination") {
            if (markStart >= 0)
                parts.push_back({"mark", markStart, std::max(markStart, ph.tNs - stw)});
            parts.push_back({"mark termination (STW)", std::max(markStart, ph.tNs - stw), ph.tNs});
            markStart = -1;
        }
    }
    if (markStart >= 0)
        parts.push_back({"mark", markStart, std::max(markStart, end)});  // still marking
    int64_t lo = c.startNs, hi = c.endNs < 0 ? end : c.endNs;
    for (const Part& p : parts) lo = std::min(lo, p.t0), hi = std::max(hi, p.t1);
    lo = std::max(lo, notBefore), hi = std::max(hi, lo);
    ev.push_back(
        slice(("GC " + std::to_string(c.cycle)).c_str(), pid, kGcTrack, lo, hi,
              {{"heap_live", c.heapLive}, {"heap_goal", c.heapGoal}, {"stw_ns", c.stwNs}}));
    int64_t prev = lo;  // the phases follow one another
    for (const Part& p : parts) {
        const int64_t t0 = std::clamp(p.t0, prev, hi), t1 = std::clamp(p.t1, t0, hi);
        ev.push_back(slice(p.name.c_str(), pid, kGcTrack, t0, t1));
        prev = t1;
    }
    return hi;
}

void addCycles(json& ev, SessionReader& r, int64_t pid, int64_t end) {
    const std::vector<GcCycle> cycles = r.gcCycles(0, end);
    const std::vector<GcPhase> phases = r.gcPhases(0, end);
    int64_t gcEnd = 0;
    for (size_t i = 0; i < cycles.size(); i++) {
        const GcCycle& c = cycles[i];
        if (c.kind == "gc") {
            std::vector<GcPhase> mine;
            for (const GcPhase& ph : phases)
                if (ph.cycle == c.cycle) mine.push_back(ph);
            gcEnd = addGcCycle(ev, pid, c, mine, end, gcEnd);
            continue;
        }
        // Sweep generations follow one another: each ends where the next begins at the latest.
        int64_t stop = c.endNs < 0 ? end : c.endNs;
        for (size_t k = i + 1; k < cycles.size(); k++)
            if (cycles[k].kind == c.kind) {
                stop = std::min(stop, cycles[k].startNs);
                break;
            }
        ev.push_back(slice(("sweep generation " + std::to_string(c.cycle)).c_str(), pid,
                           kSweepTrack, c.startNs, std::max(stop, c.startNs),
                           {{"sweepgen", c.sweepgen}, {"heap_live", c.heapLive}}));
    }
    int64_t pauseEnd = 0;  // pauses one after the other (see addGcCycle)
    for (const GcPhase& ph : phases)
        if (ph.stwNs > 0) {
            const int64_t t0 = std::max(ph.tNs - static_cast<int64_t>(ph.stwNs), pauseEnd),
                          t1 = std::max(ph.tNs, t0);
            ev.push_back(slice(("GC " + std::to_string(ph.cycle) + " " + ph.phase).c_str(), pid,
                               kPauseTrack, t0, t1, {{"stw_ns", ph.stwNs}}));
            pauseEnd = t1;
        }
}

void addCounters(json& ev, SessionReader& r, int64_t pid, int64_t end) {
    for (const HeapSample& h : r.heapSeries(0, end)) {
        const std::pair<const char*, uint64_t> series[] = {
            {"HeapAlloc", h.heapAlloc},
            {"HeapInuse", h.heapInuse},
            {"HeapIdle", h.heapIdle},
            {"HeapReleased", h.heapReleased},
            {"HeapSys", h.heapSys},
            {"HeapLive", h.heapLive},
            {"Fragmentation", h.heapInuse > h.heapAlloc ? h.heapInuse - h.heapAlloc : 0}};
        for (const auto& [name, v] : series)
            ev.push_back({{"ph", "C"},
                          {"name", name},
                          {"pid", pid},
                          {"tid", 0},
                          {"ts", us(h.tNs)},
                          {"args", {{"bytes", v}}}});
        ev.push_back({{"ph", "C"},
                      {"name", "HeapObjects"},
                      {"pid", pid},
                      {"tid", 0},
                      {"ts", us(h.tNs)},
                      {"args", {{"objects", h.heapObjects}}}});
    }
}

// The program's threads, from their ThreadStart / ThreadExit records.
std::set<uint32_t> threadsOf(SessionReader& r) {
    std::set<uint32_t> tids;
    const std::vector<uint16_t> kinds = {static_cast<uint16_t>(EventKind::ThreadStart),
                                         static_cast<uint16_t>(EventKind::ThreadExit)};
    EventRow row;
    int64_t t = -1, id = 0;
    while (r.eventAfter(t, id, kinds, &row)) {
        tids.insert(row.event.tid);
        t = static_cast<int64_t>(row.event.timeNs), id = row.id;
    }
    return tids;
}

}  // namespace

std::string perfettoTrace(SessionReader& r) {
    const SessionInfo& in = r.info();
    const int64_t pid = in.pid, end = in.endNs;
    json ev = json::array();
    std::string name = in.program.substr(in.program.find_last_of('/') + 1);
    ev.push_back({{"ph", "M"},
                  {"name", "process_name"},
                  {"pid", pid},
                  {"tid", 0},
                  {"ts", 0},
                  {"args", {{"name", name.empty() ? std::string("program") : name}}}});
    ev.push_back(threadName(pid, kGcTrack, "GC cycles"));
    ev.push_back(threadName(pid, kPauseTrack, "stop-the-world pauses"));
    ev.push_back(threadName(pid, kSweepTrack, "sweep generations"));
    std::set<uint32_t> tids =
        threadsOf(r);  // ThreadStart / ThreadExit (malloc mode), and the main thread
    tids.insert(static_cast<uint32_t>(in.pid));
    for (uint32_t tid : tids)
        ev.push_back(threadName(
            pid, tid, (tid == in.pid ? "main thread " : "thread ") + std::to_string(tid)));
    addCycles(ev, r, pid, end);
    addCounters(ev, r, pid, end);
    json out = {{"traceEvents", std::move(ev)},
                {"displayTimeUnit", "ms"},
                {"otherData",
                 {{"program", in.program}, {"pid", in.pid}, {"start_unix_ns", in.startUnixNs}}}};
    return out.dump() + "\n";
}

// ---- CSV ----
namespace {
template <class Row, class Fn>
std::string csv(const char* header, const std::vector<Row>& rows, Fn line) {
    std::ostringstream o;
    o << header << '\n';
    for (const Row& r : rows) o << line(r) << '\n';
    return o.str();
}

template <class... T>
std::string joined(T... v) {
    std::ostringstream o;
    bool first = true;
    ((o << (first ? "" : ",") << v, first = false), ...);
    return o.str();
}

}  // namespace

bool exportCsv(SessionReader& r, const std::string& dir, std::string* err) {
    const int64_t end = r.info().endNs;
    if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
        *err = dir + ": " + std::strerror(errno);
        return false;
    }
    const auto& table = r.sizeClasses();
    const uint64_t pageSize = r.info().pageSize ? r.info().pageSize : 8192;
    const std::string classes =
        csv("class,size,npages,nelems,spans,span_bytes,objects,bytes_in_use,free_slot_bytes,tail_"
            "waste,mallocs,frees,"
            "requested_bytes",
            r.classTotalsAt(end), [&](const ClassTotals& c) {
                // Pages and slots per span as the spans at the end have them (malloc mode
                // enlarges the spans of classes up to 1 KiB: ARCHITECTURE, "Span sizes"); the
                // session's table (Go's) for a class with no span then.
                const auto& e = table[static_cast<size_t>(c.sizeClass)];
                uint64_t npages = e.npages, nelems = e.nelems;
                if (c.spans && c.size) {
                    npages = c.spanBytes / c.spans / pageSize;
                    nelems = (c.bytesInUse + c.freeSlotBytes) / c.size / c.spans;
                }
                return joined(c.sizeClass, c.size, npages, nelems, c.spans, c.spanBytes, c.objects,
                              c.bytesInUse, c.freeSlotBytes, c.tailWaste, c.mallocs, c.frees,
                              c.requestedBytes);
            });
    const std::string heap =
        csv("t_ns,heap_alloc,heap_inuse,heap_idle,heap_released,heap_sys,sys,heap_objects,total_"
            "alloc,next_sweep,"
            "num_sweep_cycles,mallocs,frees,heap_live,largest_free_run,fragmentation",
            r.heapSeries(0, end), [](const HeapSample& h) {
                return joined(h.tNs, h.heapAlloc, h.heapInuse, h.heapIdle, h.heapReleased,
                              h.heapSys, h.sys, h.heapObjects, h.totalAlloc, h.nextSweep,
                              h.numSweepCycles, h.mallocs, h.frees, h.heapLive, h.largestFreeRun,
                              h.heapInuse > h.heapAlloc ? h.heapInuse - h.heapAlloc : 0);
            });
    const std::string counters = csv("t_ns,class,mallocs,frees,requested_bytes,slot_bytes,spans",
                                     r.classSeries(0, end), [](const ClassSample& c) {
                                         return joined(c.tNs, c.sizeClass, c.mallocs, c.frees,
                                                       c.requestedBytes, c.slotBytes, c.spans);
                                     });
    const std::string cycles = csv(
        "kind,cycle,start_ns,end_ns,heap_live,heap_goal,trigger_bytes,sweepgen,stw_ns,memory_limit",
        r.gcCycles(0, end), [](const GcCycle& c) {
            return joined(c.kind, c.cycle, c.startNs,
                          c.endNs < 0 ? std::string() : std::to_string(c.endNs), c.heapLive,
                          c.heapGoal, c.trigger, c.sweepgen, c.stwNs, c.memoryLimit);
        });
    const std::string phases =
        csv("cycle,phase,t_ns,heap_live,heap_goal,trigger_bytes,stw_ns", r.gcPhases(0, end),
            [](const GcPhase& p) {
                return joined(p.cycle, p.phase, p.tNs, p.heapLive, p.heapGoal, p.trigger, p.stwNs);
            });
    const std::pair<const char*, const std::string*> files[] = {{"size_classes.csv", &classes},
                                                                {"heap_totals.csv", &heap},
                                                                {"class_counters.csv", &counters},
                                                                {"gc_cycles.csv", &cycles},
                                                                {"gc_phases.csv", &phases}};
    for (const auto& [name, text] : files)
        if (!writeFileAtomically(dir + "/" + name, *text, err)) return false;
    return true;
}

}  // namespace spanscope::session
