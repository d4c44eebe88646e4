// The probe's counter sampler: a thread that reads MemStats every intervalMs and pushes
// ClassCounters and heap-totals records through its own ring (so that the drain thread never takes
// a heap lock). See spanscope/detail/probe.h.
#include <time.h>
#include <unistd.h>

#include "spanscope/detail/platform.h"
#include "spanscope/detail/probe.h"
#include "spanscope/detail/probe_profile.h"

namespace spanscope::probe::internal {
using namespace spanscope::stream;

MemStats g_prevStats;

namespace {
std::atomic<uint32_t> g_samplerWake{0};
std::atomic<bool> g_samplerStop{false};
pthread_t g_samplerThread;
}  // namespace

// Reads MemStats (which takes heap locks) and emits ClassCounters for the classes that changed,
// then a heap sample: HeapSizes, HeapCounts and HeapTotals, at the same time and each meaningful
// alone (the recorder writes each one's columns of the sample's heap_totals row as it comes).
// out() is where the records go.
void emitCounters(MemStats& prev, bool all, void (*out)(const Event&)) {
    MemStats st;
    readMemStats(&st);
    // A process observed here uses one heap in earnest: the malloc-mode heap (preloaded programs,
    // malloc demos) or the managed one (GC scenarios). Report the one that holds memory.
    if (MemStats managed; readManagedMemStats(&managed) && managed.HeapSys > st.HeapSys)
        st = managed;
    const uint64_t now = detail::nanotime();
    bool changed = all;
    for (int c = 0; c < kNumSizeClasses; c++) {
        const auto& b = st.BySize[c];
        const auto& p = prev.BySize[c];
        if (!all && b.Mallocs == p.Mallocs && b.Frees == p.Frees && b.Spans == p.Spans &&
            b.RequestedBytes == p.RequestedBytes)
            continue;
        if (all && !b.Mallocs && !b.Spans) continue;
        changed = true;
        Event e = record(static_cast<uint16_t>(EventKind::ClassCounters), now);
        e.spanClass = static_cast<uint8_t>(c);
        e.npages = static_cast<uint32_t>(b.Spans);
        e.a = b.Mallocs;
        e.b = b.Frees;
        e.c = b.RequestedBytes;
        e.d = b.Mallocs * kClassToSize[c];
        out(e);
    }
    if (changed || st.HeapAlloc != prev.HeapAlloc || st.HeapSys != prev.HeapSys ||
        st.HeapReleased != prev.HeapReleased || st.HeapIdle != prev.HeapIdle) {
        Event x = record(kHeapSizes, now);
        x.addr = st.TotalAlloc;
        x.npages = static_cast<uint32_t>(st.NumSweepCycles);
        x.a = st.HeapSys;
        x.b = st.Sys;
        x.c = st.HeapObjects;
        x.d = st.NextSweep;
        out(x);
        Event x2 = record(kHeapCounts, now);
        x2.a = st.Mallocs;
        x2.b = st.Frees;
        x2.c = st.HeapLive;
        x2.d = st.LargestFreeRunBytes;
        out(x2);
        Event t = record(static_cast<uint16_t>(EventKind::HeapTotals), now);
        t.a = st.HeapAlloc;
        t.b = st.HeapInuse;
        t.c = st.HeapIdle;
        t.d = st.HeapReleased;
        out(t);
    }
    prev = st;
}

void toWriter(const Event& e) {
    g_writer.add(e);
}

namespace {
void* samplerMain(void*) {
    t_inProbe = true;
    bool first = true;
    const long interval = long{g_opts.intervalMs ? g_opts.intervalMs : 10} * 1000000L;
    while (!g_samplerStop.load(std::memory_order_acquire)) {
        emitCounters(g_prevStats, first, toOwnRing);
        profile::emitModules(record(kModule, detail::nanotime()), toOwnRing, first);  // for symbols
        first = false;
        detail::futexWait(&g_samplerWake, 0, interval);
    }
    // Give the ring back (the final drain still reads it): the next session's sampler reuses it.
    if (t_buf) {
        t_buf->owner.store(0, std::memory_order_release);
        t_buf = nullptr;
    }
    return nullptr;
}
}  // namespace

bool startSampler() {
    g_samplerStop.store(false);
    g_samplerWake.store(0);
    return pthread_create(&g_samplerThread, nullptr, samplerMain, nullptr) == 0;
}

void stopSampler() {
    g_samplerStop.store(true, std::memory_order_release);
    g_samplerWake.fetch_add(1);
    detail::futexWake(&g_samplerWake, 1);
    pthread_join(g_samplerThread, nullptr);
}

}  // namespace spanscope::probe::internal
