// spanscope-cli diff A B: two sessions compared (heaptrack's --diff, pprof's -base): per size
// class the spans, objects, bytes and waste at each session's end and the cumulative mallocs,
// then GC cycles, pauses and peak heap. --json gives each figure as {"a", "b", "delta"}.
// The figures come from sessionSummary (instrumentation/session_range.cpp).
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.h"
#include "spanscope/session_range.h"

namespace spanscope::cli {

namespace {
using namespace spanscope::session;
using nlohmann::ordered_json;

using Figure = DiffFigure;

bool anyNonZero(const std::vector<Figure>& f) {
    for (const Figure& x : f)
        if (x.a || x.b) return true;
    return false;
}

const ClassSummary& classAt(const SessionSummary& s, size_t i) {
    static const ClassSummary kNone{};
    return i < s.classes.size() ? s.classes[i] : kNone;
}

ordered_json toJson(const std::vector<Figure>& figures) {
    ordered_json o = ordered_json::object();
    for (const Figure& f : figures) o[f.name] = {{"a", f.a}, {"b", f.b}, {"delta", f.delta()}};
    return o;
}

void printJson(const std::string& pa, const std::string& pb, const SessionSummary& a,
               const SessionSummary& b) {
    ordered_json out;
    out["a"] = {{"path", pa}, {"program", a.program}};
    out["b"] = {{"path", pb}, {"program", b.program}};
    out["summary"] = toJson(summaryFigures(a, b));
    out["classes"] = ordered_json::array();
    for (size_t i = 0; i < std::max(a.classes.size(), b.classes.size()); i++) {
        const ClassSummary &ca = classAt(a, i), &cb = classAt(b, i);
        const auto figures = classFigures(ca, cb);
        if (!anyNonZero(figures)) continue;
        ordered_json c = {{"class", i}, {"size", std::max(ca.size, cb.size)}};
        c.update(toJson(figures));
        out["classes"].push_back(std::move(c));
    }
    std::puts(out.dump(2).c_str());
}

void printText(const std::string& pa, const std::string& pb, const SessionSummary& a,
               const SessionSummary& b) {
    std::printf("a: %s (%s)\nb: %s (%s)\n\n", pa.c_str(), a.program.c_str(), pb.c_str(),
                b.program.c_str());
    std::printf("%-16s %16s %16s %16s\n", "", "a", "b", "b - a");
    for (const Figure& f : summaryFigures(a, b))
        std::printf("%-16s %16" PRIu64 " %16" PRIu64 " %+16" PRId64 "\n", f.name, f.a, f.b,
                    f.delta());
    std::printf("\nper size class, at each session's end (b - a; a -> b for spans):\n");
    std::printf("%5s %6s %13s %12s %14s %14s %12s\n", "class", "size", "spans", "objects", "bytes",
                "waste", "mallocs");
    for (size_t i = 0; i < std::max(a.classes.size(), b.classes.size()); i++) {
        const ClassSummary &ca = classAt(a, i), &cb = classAt(b, i);
        const auto f = classFigures(ca, cb);
        if (!anyNonZero(f)) continue;
        char spans[40];
        std::snprintf(spans, sizeof spans, "%" PRIu64 "->%" PRIu64, f[0].a, f[0].b);
        std::printf("%5zu %6u %13s %+12" PRId64 " %+14" PRId64 " %+14" PRId64 " %+12" PRId64 "\n",
                    i, std::max(ca.size, cb.size), spans, f[1].delta(), f[2].delta(), f[3].delta(),
                    f[4].delta());
    }
}
}  // namespace

int diffCommand(int argc, char** argv) {
    std::vector<std::string> files;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::puts(
                "usage: spanscope-cli diff A B [--json]\n\n"
                "Compares two sessions: per size class the spans, objects, bytes in use and waste "
                "at\n"
                "each session's end and the cumulative mallocs and frees; then GC cycles (or "
                "sweep\n"
                "generations), stop-the-world pauses and the peak heap. Deltas are b - a.\n"
                "--json prints every figure as {\"a\": ..., \"b\": ..., \"delta\": ...}.");
            return 0;
        }
        if (a == "--json")
            json = true;
        else if (!a.empty() && a[0] == '-')
            return usageError("diff", ("unknown option " + a).c_str());
        else
            files.push_back(a);
    }
    if (files.size() != 2) return usageError("diff", "needs two session files");
    std::string err;
    auto ra = SessionReader::open(files[0], &err);
    if (!ra) {
        std::fprintf(stderr, "spanscope-cli diff: %s\n", err.c_str());
        return 1;
    }
    auto rb = SessionReader::open(files[1], &err);
    if (!rb) {
        std::fprintf(stderr, "spanscope-cli diff: %s\n", err.c_str());
        return 1;
    }
    const SessionSummary a = sessionSummary(*ra), b = sessionSummary(*rb);
    if (json)
        printJson(files[0], files[1], a, b);
    else
        printText(files[0], files[1], a, b);
    return 0;
}

}  // namespace spanscope::cli
