// The pacer (Go's mgcpacer.go, gcControllerState): the heap goal from GOGC and the memory limit,
// the trigger, the scavenger's goal, and the runtime controls debug.SetGCPercent and
// debug.SetMemoryLimit. See mgc.h for how the collector is split.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "mgc.h"
#include "spanscope/detail/mheap.h"

namespace spanscope::detail {

Pacer g_pacer;
SpinLock g_pacerLock;

namespace {
uint64_t heapMinimum(int percent) { return (uint64_t{4} << 20) * static_cast<uint64_t>(percent) / 100; }

}  // namespace

// gcControllerCommit: heap goal, trigger and the scavenger's goal.
void pacerCommit(const MemStats& ms) {
    Pacer& p = g_pacer;
    const uint64_t kInf = UINT64_MAX / 4;
    uint64_t percentGoal = kInf;
    if (p.gcPercent >= 0) {
        percentGoal = p.heapMarked + (p.heapMarked + p.stackScan + p.globalsScan) * static_cast<uint64_t>(p.gcPercent) / 100;
        percentGoal = std::max(percentGoal, heapMinimum(p.gcPercent));
    }
    uint64_t goal = percentGoal;
    bool limitRegime = false;
    if (p.memoryLimit != INT64_MAX) {
        int64_t mappedReady = static_cast<int64_t>(ms.Sys - ms.HeapReleased);
        int64_t nonHeap = static_cast<int64_t>(ms.Sys - ms.HeapSys);
        int64_t limit = p.memoryLimit;
        int64_t g = limit - (nonHeap + std::max<int64_t>(mappedReady - limit, 0));
        g -= std::max<int64_t>(g * 3 / 100, 1 << 20);
        if (g < static_cast<int64_t>(p.heapMarked)) g = static_cast<int64_t>(p.heapMarked);
        if (static_cast<uint64_t>(g) < goal) {
            goal = static_cast<uint64_t>(g);
            limitRegime = true;
        }
    }
    if (!limitRegime && goal != kInf) {
        goal = std::max(goal, p.heapMarked + (1 << 20));  // sweepMinHeapDistance
        goal = std::max(goal, p.triggered + (64 << 10));  // minRunway
    }
    p.goal = goal;
    if (goal >= kInf) {
        p.trigger = kInf;
    } else {
        uint64_t d = goal > p.heapMarked ? goal - p.heapMarked : 0;
        double cons = 0;
        for (double c : p.consMark) cons = std::max(cons, c);
        uint64_t runway = static_cast<uint64_t>(cons * 0.75 / 0.25 * static_cast<double>(p.lastHeapScan + p.stackScan + p.globalsScan));
        uint64_t lo = p.heapMarked + d * 45 / 64, hi = p.heapMarked + d * 61 / 64;
        if (goal > (4u << 20) && goal - (4u << 20) > hi) hi = goal - (4u << 20);
        uint64_t t = goal > runway ? goal - runway : 0;
        p.trigger = std::clamp(t, lo, std::max(hi, lo));
    }
    // gcPaceScavenger: retain 10% over the goal-scaled in-use heap, and 95% of the memory limit.
    uint64_t scav = UINT64_MAX;
    if (p.lastHeapGoal && p.goal < kInf)
        scav = static_cast<uint64_t>(static_cast<double>(ms.HeapInuse) * static_cast<double>(p.goal) /
                                     static_cast<double>(p.lastHeapGoal) * 1.10);
    if (p.memoryLimit != INT64_MAX) scav = std::min<uint64_t>(scav, static_cast<uint64_t>(p.memoryLimit) / 100 * 95);
    p.lastHeapGoal = p.goal;
    p.lastHeapInUse = ms.HeapInuse;
    g_gcHeap.setScavengeGoal(scav == UINT64_MAX ? 0 : (scav + 4095) & ~uint64_t{4095});
    g_gcHeap.setTrigger(p.trigger);
    g_gcHeap.paceSweeper(p.trigger);
}

void pacerInitFromEnv() {
    if (const char* e = getenv("GOGC")) {
        if (!strcmp(e, "off")) g_pacer.gcPercent = -1;
        else if (*e) g_pacer.gcPercent = atoi(e);
    }
    if (const char* e = getenv("GOMEMLIMIT")) {
        char* end = nullptr;
        double v = strtod(e, &end);
        double mul = 1;
        if (end && !strcmp(end, "KiB")) mul = 1024.0;
        else if (end && !strcmp(end, "MiB")) mul = 1024.0 * 1024;
        else if (end && !strcmp(end, "GiB")) mul = 1024.0 * 1024 * 1024;
        if (v > 0) g_pacer.memoryLimit = static_cast<int64_t>(v * mul);
    }
}

}  // namespace spanscope::detail

namespace spanscope::gc {
using namespace spanscope::detail;

int setGCPercent(int percent) {
    self();
    LockGuard g(g_pacerLock);
    int old = g_pacer.gcPercent;
    g_pacer.gcPercent = percent < 0 ? -1 : percent;
    MemStats ms;
    g_gcHeap.readStats(ms);
    pacerCommit(ms);
    return old;
}

int64_t setMemoryLimit(int64_t bytes) {
    self();
    LockGuard g(g_pacerLock);
    int64_t old = g_pacer.memoryLimit;
    if (bytes >= 0) {
        g_pacer.memoryLimit = bytes;
        MemStats ms;
        g_gcHeap.readStats(ms);
        pacerCommit(ms);
    }
    return old;
}

}  // namespace spanscope::gc
