// decimate and fillMomentHeap (see snapshots.h).
#include "snapshots.h"

#include <algorithm>

namespace spanscope::ui {

std::vector<session::HeapSample> decimate(const std::vector<session::HeapSample>& in,
                                          size_t maxPoints) {
    if (maxPoints < 2 || in.size() <= maxPoints) return in;
    std::vector<session::HeapSample> out;
    out.reserve(maxPoints + 1);
    const int64_t t0 = in.front().tNs, t1 = in.back().tNs;
    const double width = std::max<double>(1.0, double(t1 - t0) / double(maxPoints));
    size_t i = 0;
    out.push_back(in[i++]);  // keep the first sample exactly
    while (i < in.size()) {
        const auto bucket = static_cast<int64_t>(double(in[i].tNs - t0) / width);
        session::HeapSample m = in[i++];
        while (i < in.size() && static_cast<int64_t>(double(in[i].tNs - t0) / width) == bucket) {
            const auto& s = in[i++];
            m.tNs = s.tNs;
            m.heapAlloc = std::max(m.heapAlloc, s.heapAlloc);
            m.heapInuse = std::max(m.heapInuse, s.heapInuse);
            m.heapIdle = std::max(m.heapIdle, s.heapIdle);
            m.heapReleased = std::max(m.heapReleased, s.heapReleased);
            m.heapSys = std::max(m.heapSys, s.heapSys);
            m.sys = std::max(m.sys, s.sys);
            m.heapObjects = std::max(m.heapObjects, s.heapObjects);
            m.totalAlloc = s.totalAlloc;
            m.nextSweep = std::max(m.nextSweep, s.nextSweep);
            m.numSweepCycles = s.numSweepCycles;
            m.mallocs = s.mallocs, m.frees = s.frees;
            m.heapLive = std::max(m.heapLive, s.heapLive);
            m.largestFreeRun = std::max(m.largestFreeRun, s.largestFreeRun);
        }
        out.push_back(m);
    }
    return out;
}

std::vector<session::ClassTotals> computeClassTotals(const std::vector<session::SpanRecord>& spans,
                                                     const std::vector<stream::ClassEntry>& classes,
                                                     uint64_t pageSize) {
    return session::classTotalsOf(spans, classes, pageSize);
}

void fillMomentHeap(session::SessionReader& reader, int64_t t,
                    const std::vector<session::SpanRecord>& spans, MomentSnapshot* m) {
    m->tNs = t;
    m->hasHeap = reader.heapAt(t, &m->heap);
    const auto& info = reader.info();
    m->scene = buildHeapScene(
        spans, static_cast<uint64_t>(info.pageSize), static_cast<uint64_t>(info.arenaBytes),
        m->hasHeap ? m->heap.heapSys : 0, m->hasHeap ? m->heap.heapReleased : 0);
    m->classes =
        computeClassTotals(spans, reader.sizeClasses(), static_cast<uint64_t>(info.pageSize));
    reader.addClassCounters(t, &m->classes);  // requested vs slot bytes, for fragmentation
}

}  // namespace spanscope::ui
