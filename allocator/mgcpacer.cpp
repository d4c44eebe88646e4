// The pacer (Go 1.19's mgcpacer.go, gcControllerState): commit computes the GOGC goal, the
// sweep-distance floor and the runway once per cycle; the goal (the lower of the GOGC goal and
// the memory-limit goal) and the trigger are recomputed at every trigger check, as Go's
// heapGoalInternal and trigger() are; revise keeps the assist ratio in step as the heap grows,
// with Go's hard goal. Also GOGC and GOMEMLIMIT from the environment and debug.SetGCPercent /
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

constexpr uint64_t kDefaultHeapMinimum = 4 << 20;           // defaultHeapMinimum
constexpr uint64_t kSweepMinHeapDistance = 1 << 20;         // sweepMinHeapDistance
constexpr uint64_t kMinRunway = 64 << 10;                   // heapGoalInternal's minRunway
constexpr uint64_t kMemoryLimitHeapGoalHeadroom = 1 << 20;  // memoryLimitHeapGoalHeadroom

// Go's memoryLimitHeapGoal: the limit less the memory that is not, and cannot become, heap
// objects (mapped and not released, less free pages, less object bytes: metadata and
// fragmentation), less what the limit is already exceeded by, less 1 MiB of headroom.
uint64_t memoryLimitHeapGoal(const Pacer& p) {
    if (p.memoryLimit == INT64_MAX) return UINT64_MAX;
    PacerHeapStats hs;
    g_gcHeap.readPacerStats(hs);
    const uint64_t limit = static_cast<uint64_t>(p.memoryLimit);
    const uint64_t heapAlloc =
        std::min(hs.heapAlloc, hs.mappedReady - std::min(hs.heapFree, hs.mappedReady));
    const uint64_t nonHeap = hs.mappedReady - std::min(hs.mappedReady, hs.heapFree + heapAlloc);
    const uint64_t overage = hs.mappedReady > limit ? hs.mappedReady - limit : 0;
    if (nonHeap + overage >= limit) return p.heapMarked;
    uint64_t goal = limit - (nonHeap + overage);
    if (goal < kMemoryLimitHeapGoalHeadroom ||
        goal - kMemoryLimitHeapGoalHeadroom < kMemoryLimitHeapGoalHeadroom)
        goal = kMemoryLimitHeapGoalHeadroom;
    else
        goal -= kMemoryLimitHeapGoalHeadroom;
    return std::max(goal, p.heapMarked);
}

// Go's heapGoalInternal: the GOGC goal or the memory-limit goal, whichever is lower; the floors
// (sweep distance, 64 KiB of runway past the point the cycle started) only in the GOGC regime.
uint64_t heapGoalInternal(const Pacer& p, uint64_t* minTrigger) {
    uint64_t goal = p.gcPercentHeapGoal;
    *minTrigger = 0;
    if (uint64_t limitGoal = memoryLimitHeapGoal(p); limitGoal < goal) return limitGoal;
    goal = std::max(goal, p.sweepDistMinTrigger);
    *minTrigger = p.sweepDistMinTrigger;
    if (p.triggered != kNotTriggered && goal < p.triggered + kMinRunway)
        goal = p.triggered + kMinRunway;
    return goal;
}

}  // namespace

// Go's gcControllerState.trigger: the heap size at which the next cycle starts, within 45/64 and
// 61/64 of the way from heapMarked to the goal (or the goal less 4 MiB for large heaps).
uint64_t pacerTrigger(uint64_t* goalOut) {
    const Pacer& p = g_pacer;
    uint64_t minTrigger;
    const uint64_t goal = heapGoalInternal(p, &minTrigger);
    *goalOut = goal;
    if (p.heapMarked >= goal) return goal;
    minTrigger = std::max(minTrigger, p.heapMarked);
    minTrigger = std::max(minTrigger, (goal - p.heapMarked) / 64 * 45 + p.heapMarked);
    uint64_t maxTrigger = (goal - p.heapMarked) / 64 * 61 + p.heapMarked;
    if (goal > kDefaultHeapMinimum && goal - kDefaultHeapMinimum > maxTrigger)
        maxTrigger = goal - kDefaultHeapMinimum;
    maxTrigger = std::max(maxTrigger, minTrigger);
    uint64_t trigger = p.runway > goal ? minTrigger : goal - p.runway;
    return std::min(std::max(trigger, minTrigger), maxTrigger);
}

// Go's gcControllerState.commit, then what gcControllerCommit does with it: the trigger hint the
// heap checks on its slow paths, the sweeper's pace and the scavenger's goal.
void pacerCommit(bool sweepDone) {
    Pacer& p = g_pacer;
    p.sweepDistMinTrigger = sweepDone ? 0 : g_gcHeap.heapLive() + kSweepMinHeapDistance;
    uint64_t goal = UINT64_MAX;
    if (p.gcPercent >= 0)
        goal = p.heapMarked + (p.heapMarked + p.stackScan + p.globalsScan) *
                                  static_cast<uint64_t>(p.gcPercent) / 100;
    p.gcPercentHeapGoal = std::max(goal, p.heapMinimum);
    // The controller can undershoot below zero after a cycle much lighter than the last. Go then
    // converts a negative runway to uint64, which on amd64 wraps to a huge runway: the trigger
    // goes to its lower bound. The same here, without the undefined conversion.
    const double runway = p.consMark * (1 - kBackgroundUtilization) / kBackgroundUtilization *
                          static_cast<double>(p.lastHeapScan + p.stackScan + p.globalsScan);
    p.runway = runway <= -1 ? UINT64_MAX : runway < 1 ? 0 : static_cast<uint64_t>(runway);
    pacerPublish();
}

void pacerPublish() {
    Pacer& p = g_pacer;
    p.trigger = pacerTrigger(&p.goal);
    g_gcHeap.setGoal(p.goal);
    // gcPaceScavenger: retain 10% over the goal-scaled in-use heap, and 95% of the memory limit.
    uint64_t scav = UINT64_MAX;
    PacerHeapStats hs;
    g_gcHeap.readPacerStats(hs);
    if (p.lastHeapGoal && p.gcPercent >= 0)
        scav = static_cast<uint64_t>(static_cast<double>(hs.heapInUse) *
                                     static_cast<double>(p.gcPercentHeapGoal) /
                                     static_cast<double>(p.lastHeapGoal) * 1.10);
    if (p.memoryLimit != INT64_MAX)
        scav = std::min<uint64_t>(scav, static_cast<uint64_t>(p.memoryLimit) / 100 * 95);
    if (p.gcPercent >= 0) p.lastHeapGoal = p.gcPercentHeapGoal;
    g_gcHeap.setScavengeGoal(scav == UINT64_MAX ? 0 : (scav + 4095) & ~uint64_t{4095});
    // With a memory limit the goal moves with non-heap memory, so every slow-path check asks the
    // pacer (Go recomputes the trigger at every test); otherwise the trigger only moves here.
    g_gcHeap.setTrigger(p.memoryLimit != INT64_MAX ? 0 : p.trigger);
    g_gcHeap.paceSweeper(p.trigger);
}

// Go's gcTrigger.test for gcTriggerHeap, with the goal recomputed now.
bool pacerTriggerTest() {
    LockGuard g(g_pacerLock);
    Pacer& p = g_pacer;
    p.trigger = pacerTrigger(&p.goal);
    g_gcHeap.setGoal(p.goal);
    return g_gcHeap.heapLive() >= p.trigger;
}

// Go's gcControllerState.revise: the assist ratio that finishes the remaining scan work by the
// goal; once more work than expected is done the heap is growing, so the goal is extrapolated to
// the worst case, capped at the hard goal (1 + GOGC/100) x goal; past even that, 1.1 x.
void pacerRevise() {
    Pacer& p = g_pacer;
    const int percent = p.gcPercent < 0 ? 100000 : p.gcPercent;
    const uint64_t live = g_gcHeap.heapLive();
    const int64_t work = static_cast<int64_t>(g_gc.scanWork.load(std::memory_order_relaxed) +
                                              p.stackScan + p.globalsScan);
    uint64_t minTrigger;
    const uint64_t soft = std::min<uint64_t>(heapGoalInternal(p, &minTrigger), INT64_MAX / 4);
    int64_t heapGoal = static_cast<int64_t>(soft);
    int64_t expected = static_cast<int64_t>(p.lastHeapScan + p.stackScan + p.globalsScan);
    // maxScanWork: every scannable byte of the heap live (Go's heapScan + stacks + globals).
    const int64_t maxScanWork = static_cast<int64_t>(g_gc.heapScan.load(std::memory_order_relaxed) +
                                                     p.stackScan + p.globalsScan);
    const int64_t triggered =
        static_cast<int64_t>(p.triggered == kNotTriggered ? live : p.triggered);
    // Deliberately unlike Go 1.19: before any cycle has scanned the heap there is nothing to expect
    // scan work from, and Go expects only its globals and stacks. The first revise then gives a
    // tiny assist ratio, and the first assist's 64 KiB of over-assist buys the mutator hundreds of
    // megabytes of allocation: a starved first cycle ran a 48 MiB GOMEMLIMIT heap to 77 MB. Here
    // the first cycle expects every live byte to need scanning.
    if (p.lastHeapScan == 0) expected = std::max(expected, maxScanWork);
    if (work > expected && expected > 0) {
        int64_t ext =
            static_cast<int64_t>(static_cast<double>(heapGoal - triggered) /
                                 static_cast<double>(expected) * static_cast<double>(maxScanWork)) +
            triggered;
        expected = maxScanWork;
        const int64_t hardGoal =
            static_cast<int64_t>((1.0 + percent / 100.0) * static_cast<double>(heapGoal));
        heapGoal = std::min(ext, hardGoal);
    }
    if (static_cast<int64_t>(live) > heapGoal) {
        heapGoal = static_cast<int64_t>(static_cast<double>(heapGoal) * 1.1);
        expected = maxScanWork;
    }
    // Where an assist with no work to do parks until the cycle ends or work appears: the revised
    // goal (Go parks any assist that cannot pay; below it the debt is forgiven here). Parking only
    // past the hard goal (5 x the goal at GOGC=400) let a mutator allocate at full speed while a
    // starved worker was late to terminate the mark: demo gogc400 reached 1.5 GB against 300 MB.
    g_gc.heapGoal.store(static_cast<uint64_t>(std::max<int64_t>(heapGoal, 0)),
                        std::memory_order_relaxed);
    const int64_t remaining = std::max<int64_t>(expected - work, 1000);
    const int64_t heapRemaining = std::max<int64_t>(heapGoal - static_cast<int64_t>(live), 1);
    g_gc.assistWorkPerByte.store(
        static_cast<double>(remaining) / static_cast<double>(heapRemaining),
        std::memory_order_relaxed);
}

namespace {
// Go's atoi64 over the whole string (an optional sign, then digits; no overflow).
bool parseInt(const char* s, size_t n, int64_t* out) {
    bool neg = n > 0 && s[0] == '-';
    size_t i = neg ? 1 : 0;
    if (i == n) return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        if (v > (uint64_t{INT64_MAX} - static_cast<uint64_t>(s[i] - '0')) / 10) return false;
        v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    }
    *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return true;
}

[[noreturn]] void malformed(const char* name, const char* value, const char* want) {
    // Go's throw: a message and exit status 2.
    printErr("%s=%s\nfatal error: malformed %s; %s\n", name, value, name, want);
    _exit(2);
}
}  // namespace

// Go's parseByteCount: digits, optionally followed by B, KiB, MiB, GiB or TiB.
bool parseByteCount(const char* s, int64_t* out) {
    size_t n = strlen(s);
    if (n == 0) return false;
    char last = s[n - 1];
    if (last >= '0' && last <= '9') return parseInt(s, n, out) && *out >= 0;
    if (last != 'B' || n < 2) return false;
    char c = s[n - 2];
    if (c >= '0' && c <= '9') return parseInt(s, n - 1, out) && *out >= 0;
    if (c != 'i' || n < 4) return false;
    int power;
    switch (s[n - 3]) {
        case 'K':
            power = 1;
            break;
        case 'M':
            power = 2;
            break;
        case 'G':
            power = 3;
            break;
        case 'T':
            power = 4;
            break;
        default:
            return false;
    }
    int64_t v;
    if (!parseInt(s, n - 3, &v) || v < 0) return false;
    uint64_t m = uint64_t{1} << (10 * power);
    if (static_cast<uint64_t>(v) > uint64_t{INT64_MAX} / m) return false;
    *out = static_cast<int64_t>(static_cast<uint64_t>(v) * m);
    return true;
}

// Go's readGOGC and readGOMEMLIMIT, then gcControllerState.init: the first goal is
// 4 MiB x GOGC/100. Go 1.19 reads a malformed GOGC as 100; spanscope refuses it as Go refuses a
// malformed GOMEMLIMIT (a typo here would otherwise go unnoticed in a talk).
void pacerInitFromEnv() {
    LockGuard g(g_pacerLock);
    Pacer& p = g_pacer;
    if (const char* e = getenv("GOGC"); e && *e) {
        int64_t v;
        if (!strcmp(e, "off"))
            p.gcPercent = -1;
        else if (parseInt(e, strlen(e), &v) && v >= INT32_MIN && v <= INT32_MAX)
            p.gcPercent = v < 0 ? -1 : static_cast<int>(v);
        else
            malformed("GOGC", e, "want a percentage such as 100, or off");
    }
    if (const char* e = getenv("GOMEMLIMIT"); e && *e && strcmp(e, "off") != 0) {
        int64_t v;
        if (!parseByteCount(e, &v))
            malformed("GOMEMLIMIT", e,
                      "want a byte count with an optional B, KiB, MiB, GiB or TiB suffix, or off");
        p.memoryLimit = v;
    }
    p.heapMinimum = p.gcPercent >= 0
                        ? kDefaultHeapMinimum * static_cast<uint64_t>(p.gcPercent) / 100
                        : UINT64_MAX;
    pacerCommit(true);
}

}  // namespace spanscope::detail

namespace spanscope::gc {
using namespace spanscope::detail;

int setGCPercent(int percent) {
    self();
    LockGuard g(g_pacerLock);
    Pacer& p = g_pacer;
    int old = p.gcPercent;
    p.gcPercent = percent < 0 ? -1 : percent;
    p.heapMinimum = p.gcPercent >= 0
                        ? kDefaultHeapMinimum * static_cast<uint64_t>(p.gcPercent) / 100
                        : UINT64_MAX;
    pacerCommit(p.sweepDistMinTrigger == 0);
    return old;
}

int64_t setMemoryLimit(int64_t bytes) {
    self();
    LockGuard g(g_pacerLock);
    int64_t old = g_pacer.memoryLimit;
    if (bytes >= 0 && bytes != old) {
        g_pacer.memoryLimit = bytes;
        pacerPublish();
    }
    return old;
}

}  // namespace spanscope::gc
