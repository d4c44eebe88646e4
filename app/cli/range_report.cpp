// spanscope-cli report FILE --from A --to B: what happened in a time range, the figures the GUI's
// range panel and its range views (size-class table, fragmentation, heap map) show for the same
// selection: objects and bytes allocated and freed, spans taken and returned, GC cycles and pauses,
// min / mean / max of each heap series, and per size class the same. All of it is
// session::rangeStats (instrumentation/session_range.cpp); --json prints it for scripts.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.h"
#include "spanscope/session_range.h"

namespace spanscope::cli {

namespace {
using namespace spanscope::session;
using Json = nlohmann::ordered_json;

void printRangeJson(const std::string& path, const RangeStats& s) {
    Json doc;
    doc["session"] = path;
    doc["range"] = {{"t0_ns", s.t0}, {"t1_ns", s.t1}};
    doc["objects_allocated"] = s.allocObjects;
    doc["objects_freed"] = s.freedObjects;
    doc["bytes_allocated"] = s.allocBytes;
    doc["bytes_freed"] = s.freedBytes;
    doc["spans_taken"] = s.spansTaken;
    doc["spans_returned"] = s.spansReturned;
    doc["pages_taken"] = s.pagesTaken;
    doc["pages_returned"] = s.pagesReturned;
    doc["cycles"] = Json::array();
    for (const GcCycle& c : s.cycles)
        doc["cycles"].push_back({{"kind", c.kind},
                                 {"cycle", c.cycle},
                                 {"start_ns", c.startNs},
                                 {"heap_live", c.heapLive}});
    doc["pauses"] = Json::array();
    for (const GcPause& p : s.pauses)
        doc["pauses"].push_back({{"cycle", p.cycle},
                                 {"phase", p.phase},
                                 {"start_ns", p.startNs},
                                 {"duration_ns", p.durationNs}});
    doc["pause_total_ns"] = s.pauseTotalNs;
    doc["series"] = Json::object();
    for (const RangeSeries& r : s.series) {
        if (!r.stats.samples) continue;
        doc["series"][r.name] = {{"min", r.stats.min},
                                 {"mean", r.stats.mean},
                                 {"max", r.stats.max},
                                 {"t_min_ns", r.stats.tMin},
                                 {"t_max_ns", r.stats.tMax}};
    }
    doc["classes"] = Json::array();
    for (const ClassRangeStats& c : s.classes)
        doc["classes"].push_back({{"class", c.sizeClass},
                                  {"size", c.size},
                                  {"objects_allocated", c.allocObjects},
                                  {"objects_freed", c.freedObjects},
                                  {"bytes_allocated", c.allocBytes},
                                  {"bytes_freed", c.freedBytes},
                                  {"bytes_requested", c.requestedBytes},
                                  {"spans_at_start", c.spansAtStart},
                                  {"spans_at_end", c.spansAtEnd},
                                  {"spans_taken", c.spansTaken},
                                  {"spans_returned", c.spansReturned}});
    std::fputs((doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n").c_str(), stdout);
}

void printRangeText(const std::string& path, const RangeStats& s) {
    std::printf("session   %s\nrange     %.6f s - %.6f s (%.6f s)\n\n", path.c_str(),
                double(s.t0) / 1e9, double(s.t1) / 1e9, double(s.t1 - s.t0) / 1e9);
    std::printf("  %-20s %14" PRIu64 "  (%" PRIu64 " bytes)\n", "objects allocated", s.allocObjects,
                s.allocBytes);
    std::printf("  %-20s %14" PRIu64 "  (%" PRIu64 " bytes)\n", "objects freed", s.freedObjects,
                s.freedBytes);
    std::printf("  %-20s %14" PRIu64 "  (%" PRIu64 " pages)\n", "spans taken", s.spansTaken,
                s.pagesTaken);
    std::printf("  %-20s %14" PRIu64 "  (%" PRIu64 " pages)\n", "spans returned", s.spansReturned,
                s.pagesReturned);
    std::printf("  %-20s %14zu\n", "cycles started", s.cycles.size());
    std::printf("  %-20s %14zu  (%.3f ms in all, longest %.3f ms)\n\n", "stop-the-world",
                s.pauses.size(), double(s.pauseTotalNs) / 1e6,
                double(s.longestPause.durationNs) / 1e6);
    std::printf("  %-15s %16s %18s %16s\n", "series", "min", "mean", "max");
    for (const RangeSeries& r : s.series)
        if (r.stats.samples)
            std::printf("  %-15s %16" PRIu64 " %18.1f %16" PRIu64 "\n", r.name, r.stats.min,
                        r.stats.mean, r.stats.max);
    std::printf("\nSize classes in the range\n%5s %6s %12s %12s %14s %14s %8s %8s %8s %8s\n",
                "class", "size", "allocated", "freed", "bytes alloc", "bytes freed", "spans@0",
                "spans@1", "taken", "returned");
    for (const ClassRangeStats& c : s.classes) {
        if (!c.allocObjects && !c.freedObjects && !c.spansAtStart && !c.spansAtEnd &&
            !c.spansTaken && !c.spansReturned)
            continue;
        std::printf("%5d %6s %12" PRIu64 " %12" PRIu64 " %14" PRIu64 " %14" PRIu64 " %8" PRIu64
                    " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
                    c.sizeClass, c.sizeClass ? std::to_string(c.size).c_str() : "large",
                    c.allocObjects, c.freedObjects, c.allocBytes, c.freedBytes, c.spansAtStart,
                    c.spansAtEnd, c.spansTaken, c.spansReturned);
    }
}
}  // namespace

int rangeReport(const std::string& path, double fromSeconds, double toSeconds, bool json) {
    std::string err;
    auto r = SessionReader::open(path, &err);
    if (!r) {
        std::fprintf(stderr, "spanscope-cli report: %s\n", err.c_str());
        return 1;
    }
    const int64_t end = r->info().endNs;
    if (fromSeconds >= 0 && static_cast<int64_t>(fromSeconds * 1e9) > end) {
        const std::string msg =
            "--from is after the session's end (" + std::to_string(double(end) / 1e9) + " s)";
        return usageError("report", msg.c_str());
    }
    const int64_t t0 =
        fromSeconds < 0 ? 0 : std::min<int64_t>(end, static_cast<int64_t>(fromSeconds * 1e9));
    const int64_t t1 =
        toSeconds < 0 ? end : std::min<int64_t>(end, static_cast<int64_t>(toSeconds * 1e9));
    if (t0 > t1)
        return usageError("report",
                          "--from must not be after --to (times are clamped to the session)");
    const RangeStats s = rangeStats(*r, t0, t1);
    if (json)
        printRangeJson(path, s);
    else
        printRangeText(path, s);
    return 0;
}

}  // namespace spanscope::cli
