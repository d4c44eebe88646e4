// range_bench: how fast a range statistic (spanscope/session_range.h) is on a recorded session, as
// issue 15's budget puts it (a range statistic over a 10 M-record session in under 200 ms, off the
// GUI thread), and a session summary (what `diff` and the compare view compute per session).
// Alternates, per round, a baseline (the state at one moment, SessionReader::spansAt: the seek
// every panel already waits for) with range statistics over the whole session, a tenth of it and
// a hundredth of it at scattered places; prints medians and each one's ratio to the baseline.
// "range views, a tenth" is what the GUI's range worker adds for the size-class table, the
// fragmentation panel and the heap map over a range: the statistics with the span tables kept,
// the spans taken and returned, and the per-class totals and counters at both ends (the heap
// map's scene, built from the same tables in the ui library, is not in it).
//   build/bench/range_bench SESSION [ROUNDS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "spanscope/session.h"
#include "spanscope/session_range.h"

using namespace spanscope::session;
using Clock = std::chrono::steady_clock;

namespace {
double msSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: range_bench SESSION [ROUNDS]\n");
        return 2;
    }
    const int rounds = argc == 3 ? std::atoi(argv[2]) : 15;
    if (rounds < 1) {
        std::fprintf(stderr, "range_bench: ROUNDS must be a positive number\n");
        return 2;
    }
    std::string err;
    auto r = SessionReader::open(argv[1], &err);
    if (!r) {
        std::fprintf(stderr, "range_bench: %s\n", err.c_str());
        return 1;
    }
    const int64_t end = r->info().endNs;
    std::printf("session: %s, %lld records, %.2f s (%d rounds, alternating)\n",
                r->info().program.c_str(), static_cast<long long>(r->info().events), end / 1e9,
                rounds);
    std::vector<double> seek, whole, tenth, hundredth, summary, flow, views, maxRange;
    size_t cycles = 0;
    for (int i = 0; i < rounds; i++) {
        const int64_t at = end * ((i * 7) % rounds + 1) / (rounds + 1);
        auto t0 = Clock::now();
        (void)r->spansAt(at);
        seek.push_back(msSince(t0));
        t0 = Clock::now();
        cycles = rangeStats(*r, 0, end).cycles.size();
        whole.push_back(msSince(t0));
        t0 = Clock::now();
        (void)rangeStats(*r, at, std::min(end, at + end / 10));
        tenth.push_back(msSince(t0));
        t0 = Clock::now();
        (void)rangeStats(*r, at, std::min(end, at + end / 100));
        hundredth.push_back(msSince(t0));
        t0 = Clock::now();
        (void)sessionSummary(*r);
        summary.push_back(msSince(t0));
        t0 = Clock::now();
        (void)allocationFlow(*r, std::max<int64_t>(0, at - 100000000), at + 100000000);
        flow.push_back(msSince(t0));
        t0 = Clock::now();
        {
            const int64_t a = at, b = std::min(end, at + end / 10);
            RangeSpans spans;
            (void)rangeStats(*r, a, b, &spans);
            (void)spanChanges(spans.atStart, spans.atEnd);
            const uint64_t page = static_cast<uint64_t>(r->info().pageSize);
            auto atStart = classTotalsOf(spans.atStart, r->sizeClasses(), page);
            auto atEnd = classTotalsOf(spans.atEnd, r->sizeClasses(), page);
            r->addClassCounters(a, &atStart);
            r->addClassCounters(b, &atEnd);
        }
        views.push_back(msSince(t0));
        maxRange.push_back(std::max({whole.back(), tenth.back(), hundredth.back(), views.back()}));
    }
    const double base = median(seek);
    auto line = [&](const char* what, const std::vector<double>& v) {
        std::printf("%-36s median %8.1f ms  max %8.1f ms  %6.2fx the seek\n", what, median(v),
                    *std::max_element(v.begin(), v.end()), median(v) / base);
    };
    line("baseline: state at t (spansAt)", seek);
    line("range stats, whole session", whole);
    line("range stats, a tenth", tenth);
    line("range stats, a hundredth", hundredth);
    line("session summary (diff, compare)", summary);
    line("allocation flow, 200 ms window", flow);
    line("range views, a tenth (GUI worker)", views);
    std::printf("slowest range statistic: %.1f ms (budget 200 ms); %zu cycles in the session\n",
                *std::max_element(maxRange.begin(), maxRange.end()), cycles);
    return 0;
}
