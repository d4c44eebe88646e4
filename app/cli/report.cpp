// spanscope-cli report: a session's summary: how it ended, a MemStats-like table, one line per
// sweep generation / GC cycle (Go's gctrace spirit), and the per-size-class table. --json too.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli.h"
#include "spanscope/session.h"

namespace spanscope::cli {

namespace {
using namespace spanscope::session;

std::string mib(uint64_t b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f MiB", double(b) / 1048576.0);
    return buf;
}

std::string endText(const SessionInfo& in) {
    if (in.endReason == "exit") return "exited with status " + std::to_string(in.exitCode);
    if (in.endReason == "signal") return "killed by signal " + std::to_string(in.signal);
    if (in.endReason == "recording")
        return "interrupted (the recorder stopped without closing the session)";
    return in.endReason;
}

struct Row {
    const char* name;
    uint64_t value;
    const char* what;
};

std::vector<Row> memRows(const HeapSample& h) {
    return {{"HeapAlloc", h.heapAlloc, "bytes of allocated objects"},
            {"TotalAlloc", h.totalAlloc, "cumulative bytes allocated"},
            {"Mallocs", h.mallocs, "cumulative objects allocated"},
            {"Frees", h.frees, "cumulative objects freed"},
            {"HeapObjects", h.heapObjects, "live objects"},
            {"HeapSys", h.heapSys, "heap bytes mapped"},
            {"HeapInuse", h.heapInuse, "bytes in in-use spans"},
            {"HeapIdle", h.heapIdle, "bytes in free pages"},
            {"HeapReleased", h.heapReleased, "free pages returned to the OS"},
            {"Sys", h.sys, "all bytes mapped"},
            {"HeapLive", h.heapLive, "Go's heapLive"},
            {"NextSweep", h.nextSweep,
             "malloc mode: heapLive at which the next sweep starts; managed: the heap goal"},
            {"NumSweepCycles", h.numSweepCycles, "sweep generations"},
            {"LargestFreeRun", h.largestFreeRun, "largest run of free pages (bytes)"}};
}
using Json = nlohmann::ordered_json;

// The --json document. Strings from the session (program, argv) may hold any bytes: invalid UTF-8
// is replaced (U+FFFD), so the output is always valid JSON.
void printJson(const SessionInfo& in, const HeapSample* heap, const std::vector<GcCycle>& cycles,
               const std::vector<ClassTotals>& classes,
               const std::vector<SessionProblem>& warnings) {
    auto orNull = [](bool has, int64_t v) { return has ? Json(v) : Json(nullptr); };
    Json doc;
    doc["session"] = {{"program", in.program},
                      {"argv", in.argv},
                      {"pid", in.pid},
                      {"start_unix_ns", in.startUnixNs},
                      {"duration_ns", in.endNs},
                      {"end_reason", in.endReason},
                      {"exit_code", orNull(in.exitCode >= 0, in.exitCode)},
                      {"signal", orNull(in.signal != 0, in.signal)},
                      {"stream_status", in.streamStatus},
                      {"stream_error", in.streamError},
                      {"events", in.events},
                      {"dropped", in.dropped}};
    Json gaps = Json::array();
    for (const session::DropGap& g : in.gaps)
        gaps.push_back({{"from_ns", g.fromNs},
                        {"to_ns", g.toNs},
                        {"dropped", g.dropped},
                        {"resynced", g.resynced}});
    doc["session"]["gaps"] = gaps;
    if (heap) {
        Json m = {{"t_ns", heap->tNs}};
        for (const Row& row : memRows(*heap)) m[row.name] = row.value;
        doc["memstats"] = m;
    } else {
        doc["memstats"] = nullptr;
    }
    doc["cycles"] = Json::array();
    for (const GcCycle& g : cycles)
        doc["cycles"].push_back({{"kind", g.kind},
                                 {"cycle", g.cycle},
                                 {"start_ns", g.startNs},
                                 {"end_ns", orNull(g.endNs >= 0, g.endNs)},
                                 {"heap_live", g.heapLive},
                                 {"heap_goal", g.heapGoal},
                                 {"trigger", g.trigger},
                                 {"sweepgen", g.sweepgen},
                                 {"stw_ns", g.stwNs}});
    doc["classes"] = Json::array();
    for (const ClassTotals& c : classes) {
        if (!c.spans && !c.mallocs) continue;
        doc["classes"].push_back({{"class", c.sizeClass},
                                  {"size", c.size},
                                  {"spans", c.spans},
                                  {"span_bytes", c.spanBytes},
                                  {"objects", c.objects},
                                  {"bytes_in_use", c.bytesInUse},
                                  {"free_slot_bytes", c.freeSlotBytes},
                                  {"tail_waste", c.tailWaste},
                                  {"waste", c.freeSlotBytes + c.tailWaste},
                                  {"mallocs", c.mallocs},
                                  {"frees", c.frees}});
    }
    doc["warnings"] = Json::array();
    for (const SessionProblem& w : warnings)
        doc["warnings"].push_back({{"part", w.part}, {"what", w.what}});
    const std::string text = doc.dump(2, ' ', false, Json::error_handler_t::replace);
    std::fputs((text + "\n").c_str(), stdout);
}
}  // namespace

int reportCommand(int argc, char** argv) {
    std::string path;
    bool json = false;
    double atSeconds = -1, fromSeconds = -1, toSeconds = -1;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::puts(
                "usage: spanscope-cli report FILE [--json] [--at SECONDS | --from SECONDS --to "
                "SECONDS]\n\n"
                "Summarises a session: how the program ended, a MemStats-like table at the end,\n"
                "one line per sweep generation or GC cycle, and per size class: spans, objects\n"
                "in use, bytes in use and waste (free slots + span tails). --json for scripts;\n"
                "--at shows the heap at that moment instead of the end.\n"
                "--from/--to (either may be left out: the session's start or end) report a time\n"
                "range instead, as the GUI's range panel does for a Shift+drag selection: objects\n"
                "and bytes allocated and freed, spans taken and returned, GC cycles and pauses,\n"
                "min/mean/max of each heap series, and the same per size class.");
            return 0;
        }
        if (a == "--at") {
            if (i + 1 >= argc || !parseSeconds(argv[++i], &atSeconds))
                return usageError("report", "--at needs a time in seconds (0 to 1e9)");
            continue;
        }
        if (a == "--from" || a == "--to") {
            if (i + 1 >= argc ||
                !parseSeconds(argv[++i], a == "--from" ? &fromSeconds : &toSeconds))
                return usageError("report", (a + " needs a time in seconds (0 to 1e9)").c_str());
            continue;
        }
        if (a == "--json")
            json = true;
        else if (!a.empty() && a[0] == '-')
            return usageError("report", ("unknown option " + a).c_str());
        else if (path.empty())
            path = a;
        else
            return usageError("report", "more than one FILE");
    }
    if (path.empty()) return usageError("report", "missing FILE");
    if ((fromSeconds >= 0 || toSeconds >= 0) && atSeconds >= 0)
        return usageError("report", "--at is a moment, --from/--to a range: give one or the other");
    if (fromSeconds >= 0 || toSeconds >= 0) return rangeReport(path, fromSeconds, toSeconds, json);
    std::string err;
    auto r = SessionReader::open(path, &err);
    if (!r) {
        std::fprintf(stderr, "spanscope-cli report: %s\n", err.c_str());
        return 1;
    }
    const SessionInfo& in = r->info();
    for (const SessionProblem& w : r->warnings())
        std::fprintf(stderr, "spanscope-cli report: warning: %s: %s: %s\n", path.c_str(),
                     w.part.c_str(), w.what.c_str());
    const int64_t t = atSeconds >= 0
                          ? std::min<int64_t>(in.endNs, static_cast<int64_t>(atSeconds * 1e9))
                          : in.endNs;
    HeapSample heap;
    const bool haveHeap = r->heapAt(t, &heap);
    auto cycles = r->gcCycles(0, t);
    auto classes = r->classTotalsAt(t);

    if (json) {
        printJson(in, haveHeap ? &heap : nullptr, cycles, classes, r->warnings());
        return 0;
    }

    std::string cmdline;
    for (const auto& a : in.argv) cmdline += (cmdline.empty() ? "" : " ") + a;
    std::printf("session   %s\nprogram   %s (pid %" PRId64 ")\ncommand   %s\n", path.c_str(),
                in.program.c_str(), in.pid, cmdline.c_str());
    std::printf("duration  %.3f s, %s\n", double(in.endNs) / 1e9, endText(in).c_str());
    std::printf("records   %" PRId64 " recorded, %" PRId64 " dropped; stream %s%s%s\n\n", in.events,
                in.dropped, in.streamStatus.empty() ? "incomplete" : in.streamStatus.c_str(),
                in.streamError.empty() ? "" : ": ", in.streamError.c_str());
    if (!in.gaps
             .empty()) {  // where the replayed spans are incomplete (docs/session-format.md, gaps)
        std::printf(
            "gaps      %zu (records dropped; the span table is incomplete until a resync):\n",
            in.gaps.size());
        for (size_t i = 0; i < in.gaps.size() && i < 20; i++) {
            const session::DropGap& g = in.gaps[i];
            std::printf("  %.3f s - %.3f s  %" PRId64 " records dropped%s\n",
                        double(g.fromNs) / 1e9, double(std::min(g.toNs, in.endNs)) / 1e9, g.dropped,
                        g.resynced ? ", resynced" : ", not resynced before the end");
        }
        if (in.gaps.size() > 20) std::printf("  ... %zu more\n", in.gaps.size() - 20);
        std::printf("\n");
    }
    if (haveHeap) {
        std::printf("MemStats at %.3f s\n", double(heap.tNs) / 1e9);
        for (const Row& row : memRows(heap))
            std::printf(
                "  %-15s %14" PRIu64 "  %-12s %s\n", row.name, row.value,
                (std::string(row.name).find("Sys") != std::string::npos || row.name[0] == 'H' ||
                 row.name[0] == 'T' || row.name[0] == 'N' || row.name[0] == 'L') &&
                        std::string(row.name) != "HeapObjects" &&
                        std::string(row.name) != "NumSweepCycles"
                    ? mib(row.value).c_str()
                    : "",
                row.what);
        std::puts("");
    }
    if (!cycles.empty()) {
        std::printf("Cycles (%zu)\n", cycles.size());
        for (const GcCycle& g : cycles) {
            const double dur = g.endNs >= 0 ? double(g.endNs - g.startNs) / 1e6 : -1;
            char took[32] = "running at the end";
            if (dur >= 0) std::snprintf(took, sizeof took, "%.1f ms", dur);
            if (g.kind == "gc")
                std::printf("  gc %" PRId64
                            " @%.3fs: %.2f MB live, %.2f MB goal, %.2f MB trigger, "
                            "stw %.3f ms, %s\n",
                            g.cycle, double(g.startNs) / 1e9, double(g.heapLive) / 1048576.0,
                            double(g.heapGoal) / 1048576.0, double(g.trigger) / 1048576.0,
                            double(g.stwNs) / 1e6, took);
            else if (dur >= 0)
                std::printf("  sweep %" PRId64 " @%.3fs: sweepgen %" PRIu64
                            ", heap live %.2f MB, trigger %.2f MB, %.1f ms\n",
                            g.cycle, double(g.startNs) / 1e9, g.sweepgen,
                            double(g.heapLive) / 1048576.0, double(g.trigger) / 1048576.0, dur);
            else
                std::printf("  sweep %" PRId64 " @%.3fs: sweepgen %" PRIu64
                            ", heap live %.2f MB, trigger %.2f MB, "
                            "current\n",
                            g.cycle, double(g.startNs) / 1e9, g.sweepgen,
                            double(g.heapLive) / 1048576.0, double(g.trigger) / 1048576.0);
        }
        std::puts("");
    }
    std::printf("Size classes at %.3f s\n", double(t) / 1e9);
    std::printf("%5s %6s %6s %10s %13s %13s %8s %12s %12s\n", "class", "size", "spans", "objects",
                "bytes in use", "waste", "waste%", "mallocs", "frees");
    ClassTotals sum;
    for (const ClassTotals& c : classes) {
        if (!c.spans && !c.mallocs) continue;
        const uint64_t waste = c.freeSlotBytes + c.tailWaste;
        std::printf("%5d %6s %6" PRIu64 " %10" PRIu64 " %13" PRIu64 " %13" PRIu64
                    " %7.1f%% %12" PRIu64 " %12" PRIu64 "\n",
                    c.sizeClass, c.sizeClass ? std::to_string(c.size).c_str() : "large", c.spans,
                    c.objects, c.bytesInUse, waste,
                    c.spanBytes ? 100.0 * double(waste) / double(c.spanBytes) : 0.0, c.mallocs,
                    c.frees);
        sum.spans += c.spans, sum.objects += c.objects, sum.bytesInUse += c.bytesInUse;
        sum.freeSlotBytes += waste, sum.spanBytes += c.spanBytes, sum.mallocs += c.mallocs,
            sum.frees += c.frees;
    }
    std::printf("%5s %6s %6" PRIu64 " %10" PRIu64 " %13" PRIu64 " %13" PRIu64 " %7.1f%% %12" PRIu64
                " %12" PRIu64 "\n",
                "total", "", sum.spans, sum.objects, sum.bytesInUse, sum.freeSlotBytes,
                sum.spanBytes ? 100.0 * double(sum.freeSlotBytes) / double(sum.spanBytes) : 0.0,
                sum.mallocs, sum.frees);
    if (in.interrupted())
        std::fprintf(
            stderr,
            "spanscope-cli report: note: %s was not closed by its recorder; it holds everything "
            "committed up to %.3f s\n",
            path.c_str(), double(in.endNs) / 1e9);
    return 0;
}

}  // namespace spanscope::cli
