// session_bench: how fast a recorded session opens and answers the reader's questions, as issue 3's
// budget puts it (open a 10-million-event session and rebuild the state at an arbitrary moment in
// under 200 ms). Prints the open time, then for SEEKS moments scattered over the session: the span
// table at t (latest keyframe + replay), the per-class totals at t, and the records replayed; each
// as wall time and as this thread's CPU time (which a loaded machine disturbs less).
//   build/bench/session_bench SESSION [SEEKS]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "spanscope/session.h"

using namespace spanscope::session;
using Clock = std::chrono::steady_clock;

namespace {
double msSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double cpuMs() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

void printTimes(const char* what, std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    const auto at = [&](double q) {
        return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
    };
    std::printf("%-28s median %7.1f ms   p90 %7.1f ms   max %7.1f ms\n", what, at(0.5), at(0.9),
                ms.back());
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: session_bench SESSION [SEEKS]\n");
        return 2;
    }
    int seeks = argc == 3 ? std::atoi(argv[2]) : 40;
    if (seeks < 1) {
        std::fprintf(stderr, "session_bench: SEEKS must be a positive number\n");
        return 2;
    }
    if (seeks % 7 == 0) seeks++;  // the scatter below steps by 7
    auto t0 = Clock::now();
    std::string err;
    auto r = SessionReader::open(argv[1], &err);
    if (!r) {
        std::fprintf(stderr, "session_bench: %s\n", err.c_str());
        return 1;
    }
    const double openMs = msSince(t0);
    const SessionInfo& in = r->info();
    std::printf("session: %s, %lld records, %.2f s, ended: %s\n", in.program.c_str(),
                static_cast<long long>(in.events), in.endNs / 1e9, in.endReason.c_str());
    std::printf("%-28s %7.1f ms\n", "open (first query answered)", openMs);

    // The first state, from a cold reader: what a user opening the file waits for.
    t0 = Clock::now();
    auto first = r->spansAt(in.endNs / 2);
    std::printf("%-28s %7.1f ms (%zu spans)\n", "open + state at the middle", openMs + msSince(t0),
                first.size());

    std::vector<double> state, totals, both, stateCpu, bothCpu;
    uint64_t replayMax = 0, spansMax = 0;
    for (int i = 0; i < seeks; i++) {
        const int64_t t = in.endNs * ((i * 7) % seeks + 1) / seeks;
        t0 = Clock::now();
        const double c0 = cpuMs();
        auto spans = r->spansAt(t);
        state.push_back(msSince(t0));
        stateCpu.push_back(cpuMs() - c0);
        replayMax = std::max<uint64_t>(replayMax, r->lastReplayCount());
        spansMax = std::max<uint64_t>(spansMax, spans.size());
        auto t1 = Clock::now();
        auto ct = r->classTotalsAt(t);
        totals.push_back(msSince(t1));
        both.push_back(msSince(t0));
        bothCpu.push_back(cpuMs() - c0);
    }
    printTimes("state at t (spansAt)", state);
    printTimes("per-class totals at t", totals);
    printTimes("both", both);
    printTimes("state at t, CPU", stateCpu);
    printTimes("both, CPU", bothCpu);
    std::printf("replayed after a keyframe: at most %llu records; at most %llu spans\n",
                static_cast<unsigned long long>(replayMax),
                static_cast<unsigned long long>(spansMax));
    return 0;
}
