// emit_bench: what one record costs the allocating thread (issue 12's "emitting side measured"),
// Google Benchmark. The parts of the emit path one by one: SPANSCOPE_RECORD with no sink (the one
// untaken branch every slow path pays), the clock alone, emitEvent into a sink that only counts
// (clock, tid, sequence, the 64-byte record, the indirect call), and the real probe's sink (copy
// into the thread's lock-free ring and publish; probe.cpp), whose stream goes to /dev/null so that
// no recorder competes; and the frame checksum (CRC-32 of a 4,096-record frame, per record). Two
// probe variants:
//   Probe/burst  4,096 records, then the timer stops until the drain thread has emptied the ring:
//                the thread's own cost with room in its ring (what a program emitting fewer
//                records than the drain moves pays);
//   Probe/flood  records back to back: past the drain thread's pace the thread waits for room,
//                so this is the ceiling on records per second; drain_cpu_ns is the probe threads'
//                CPU (drain + sampler: process CPU less the emitting threads') per record.
//   build/bench/emit_bench [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "spanscope/allocator.h"
#include "spanscope/detail/emit.h"
#include "spanscope/detail/platform.h"
#include "spanscope/stream.h"

using namespace spanscope;

namespace {

void emitOne(uint64_t i) {
    SPANSCOPE_RECORD(spanRefill(10 << 1 | 1, 0xc000000000 + (i & 1023) * 8192, /*npages=*/1,
                                /*allocCount=*/17, /*nelems=*/64, /*sweptFreed=*/3, {}));
}

double cpuNs(clockid_t clock) {
    timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

void BM_EmitSinkOff(benchmark::State& state) {
    setEventSink(nullptr, nullptr);
    uint64_t i = 0;
    for (auto _ : state) {
        emitOne(i++);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EmitSinkOff);

void BM_Clock(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(detail::nanotime());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Clock);

// The frame checksum the drain thread computes and the recorder checks: per record (64 bytes) of a
// full frame.
void BM_Crc32Frame(benchmark::State& state) {
    static unsigned char frame[4096 * sizeof(Event)];
    for (size_t i = 0; i < sizeof frame; i++) frame[i] = static_cast<unsigned char>(i * 131 >> 3);
    for (auto _ : state) benchmark::DoNotOptimize(stream::crc32(frame, sizeof frame));
    state.SetItemsProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_Crc32Frame);

std::atomic<uint64_t> g_counted{0};
void countingSink(const Event& e, void*) {
    // A sink stamps its records (spanscope/events.h): the clock is part of the cost.
    g_counted.store(e.a + detail::nanotime() + g_counted.load(std::memory_order_relaxed),
                    std::memory_order_relaxed);
}

void BM_EmitCountingSink(benchmark::State& state) {
    setEventSink(countingSink, nullptr);
    uint64_t i = 0;
    for (auto _ : state) emitOne(i++);
    setEventSink(nullptr, nullptr);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EmitCountingSink);

// The probe for one benchmark run: started in thread 0 before the timed loop, stopped after it.
bool startProbe(benchmark::State& state) {
    probe::Options opts;
    opts.fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    opts.rundown = false;
    char why[256] = "";
    if (opts.fd < 0 || !probe::start(opts, why, sizeof why)) {
        state.SkipWithError(why[0] ? why : "cannot open /dev/null");
        return false;
    }
    return true;
}

// Waits (timer stopped) until the drain thread has written everything emitted so far.
void waitDrained(uint64_t emitted) {
    for (int i = 0; i < 2000 && probe::stats().events + probe::stats().dropped < emitted; i++)
        std::this_thread::sleep_for(std::chrono::microseconds(500));
}

void BM_EmitProbeBurst(benchmark::State& state) {
    constexpr int kBurst = 4096;  // a quarter of a ring: never full, never the half-full wake-up
    if (!startProbe(state)) return;
    const uint64_t before = probe::stats().events;
    uint64_t i = 0;
    for (auto _ : state) {
        for (int k = 0; k < kBurst; k++) emitOne(i++);
        state.PauseTiming();
        waitDrained(before + i);
        state.ResumeTiming();
    }
    probe::stop();
    state.SetItemsProcessed(static_cast<int64_t>(i));
    state.counters["ns_per_record"] = benchmark::Counter(
        static_cast<double>(i), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["dropped"] = static_cast<double>(probe::stats().dropped);
}
BENCHMARK(BM_EmitProbeBurst)->Name("Probe/burst")->UseRealTime();

std::atomic<int> g_floodDone{0};  // threads that have added their CPU time
std::atomic<double> g_floodThreadCpu{0};

void BM_EmitProbeFlood(benchmark::State& state) {
    if (state.thread_index() == 0 && !startProbe(state)) return;
    const double p0 = cpuNs(CLOCK_PROCESS_CPUTIME_ID), t0 = cpuNs(CLOCK_THREAD_CPUTIME_ID);
    uint64_t i = 0;
    for (auto _ : state) emitOne(i++);
    const double mine = cpuNs(CLOCK_THREAD_CPUTIME_ID) - t0;
    double cur = g_floodThreadCpu.load();
    while (!g_floodThreadCpu.compare_exchange_weak(cur, cur + mine)) {
    }
    g_floodDone.fetch_add(1);
    state.SetItemsProcessed(static_cast<int64_t>(i));
    if (state.thread_index() == 0) {
        // Thread 0 leaves the loop last of all (Google Benchmark's barrier), so every record
        // has been emitted: stop() drains them and joins the probe's threads.
        probe::stop();
        while (g_floodDone.load() < state.threads()) std::this_thread::yield();
        g_floodDone.store(0);
        const probe::Stats s = probe::stats();
        const double probeCpu = cpuNs(CLOCK_PROCESS_CPUTIME_ID) - p0 - g_floodThreadCpu.exchange(0);
        state.counters["drain_cpu_ns"] = probeCpu / static_cast<double>(s.events ? s.events : 1);
        state.counters["dropped_pct"] =
            100.0 * static_cast<double>(s.dropped) /
            static_cast<double>(s.events + s.dropped ? s.events + s.dropped : 1);
    }
}
BENCHMARK(BM_EmitProbeFlood)->Name("Probe/flood")->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
