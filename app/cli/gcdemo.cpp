// spanscope-cli demo, managed-heap scenarios: deterministic workloads on Go's collector (binary
// trees, a server with a live set, fragmentation, large and tiny objects, GOGC 50/100/400, a memory
// limit squeeze), each with a live report and, with --gctrace, Go's gctrace lines.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "cli.h"
#include "spanscope/gc.h"

namespace spanscope::cli {

namespace {
using gc::Ptr;
using gc::Root;
using gc::Type;

// Binary-trees node (Go's test/bench/garbage tree): two pointers.
struct TreeNode {
    Ptr<TreeNode> left, right;
};
constexpr uint64_t kTwoPtrs[1] = {0b11};
const Type kTreeType{sizeof(TreeNode), 16, kTwoPtrs, "TreeNode"};

// A server object: a pointer to a payload and some data.
struct Obj {
    Ptr<void> payload;
    uint64_t id;
    uint64_t data[6];
};
constexpr uint64_t kOnePtr[1] = {0b1};
const Type kObjType{sizeof(Obj), 8, kOnePtr, "Obj"};
const Type kSlotType{sizeof(void*), 8, kOnePtr, "*Obj"};

TreeNode* bottomUp(int depth) {
    Root<TreeNode> n(static_cast<TreeNode*>(gc::alloc(&kTreeType)));
    if (depth > 0) {
        n->left = bottomUp(depth - 1);
        n->right = bottomUp(depth - 1);
    }
    return n.get();
}

// Walking a tree allocates nothing, so it polls: the collector stops threads only at safe points.
int check(const TreeNode* n) {
    if (!n->left) return 1;
    gc::poll();
    return 1 + check(n->left.get()) + check(n->right.get());
}

using Stop = std::atomic<bool>;

// Go's binary-trees: a long-lived tree and waves of short-lived ones.
void binaryTrees(Stop& stop, unsigned) {
    const int maxDepth = 16;
    while (!stop) {
        { check(bottomUp(maxDepth + 1)); }  // stretch tree
        Root<TreeNode> longLived(bottomUp(maxDepth));
        for (int d = 4; d <= maxDepth && !stop; d += 2) {
            int iterations = 1 << (maxDepth - d + 4);
            for (int i = 0; i < iterations && !stop; i++) check(bottomUp(d));
        }
        check(longLived.get());
    }
}

// A slot array of n pointers, rooted by the caller.
Ptr<Obj>* newSlots(size_t n) {
    return static_cast<Ptr<Obj>*>(gc::allocArray(&kSlotType, n));
}

Obj* newObj(std::mt19937_64& rng, size_t payloadMax) {
    Root<Obj> o(static_cast<Obj*>(gc::alloc(&kObjType)));
    o->id = rng();
    o->payload = gc::allocBytes(16 + rng() % payloadMax);
    return o.get();
}

// A server: a live set of 50,000 objects; each request allocates temporaries and replaces one.
void server(Stop& stop, unsigned seed) {
    std::mt19937_64 rng(seed);
    const size_t live = 50000;
    Root<Ptr<Obj>> slots(newSlots(live));
    for (size_t i = 0; i < live; i++) slots.get()[i] = newObj(rng, 480);
    while (!stop) {
        for (int r = 0; r < 1000; r++) {
            for (int t = 0; t < 4; t++) gc::allocBytes(64 + rng() % 2000);  // request garbage
            slots.get()[rng() % live] = newObj(rng, 480);
        }
    }
}

// Allocate many, drop every other one, then allocate a different size: holes the new size can't
// use.
void fragmentation(Stop& stop, unsigned seed) {
    std::mt19937_64 rng(seed);
    while (!stop) {
        const size_t n = 100000;
        Root<Ptr<Obj>> a(newSlots(n));
        for (size_t i = 0; i < n; i++) a.get()[i] = newObj(rng, 16);
        for (size_t i = 0; i < n; i += 2) a.get()[i] = nullptr;
        Root<Ptr<Obj>> b(newSlots(n / 2));
        for (size_t i = 0; i < n / 2; i++) b.get()[i] = static_cast<Obj*>(gc::allocBytes(256));
        gc::collect();
        {
            gc::BlockingRegion idle;
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        }
    }
}

// Large objects (> 32 KiB), each in a span of its own.
void large(Stop& stop, unsigned seed) {
    std::mt19937_64 rng(seed);
    Root<Ptr<Obj>> slots(newSlots(32));
    while (!stop) {
        slots.get()[rng() % 32] = static_cast<Obj*>(gc::allocBytes(40000 + rng() % (2 << 20)));
        gc::BlockingRegion idle;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

// Tiny pointer-free objects (< 16 B): packed into 16-byte blocks by the tiny allocator.
void tiny(Stop& stop, unsigned seed) {
    std::mt19937_64 rng(seed);
    Root<Ptr<Obj>> slots(newSlots(10000));
    while (!stop)
        for (int i = 0; i < 10000; i++) {
            void* p = gc::allocBytes(1 + rng() % 15);
            if (i % 10 == 0) slots.get()[rng() % 10000] = static_cast<Obj*>(p);
        }
}

// The live set grows toward a 64 MiB memory limit and shrinks again; GOGC alone would let the
// heap double, the limit makes cycles come faster as the heap nears it.
void memlimit(Stop& stop, unsigned seed) {
    std::mt19937_64 rng(seed);
    if (gc::setMemoryLimit(-1) == INT64_MAX) gc::setMemoryLimit(64 << 20);  // GOMEMLIMIT wins
    const size_t maxLive = 120000;
    Root<Ptr<Obj>> slots(newSlots(maxLive));
    size_t live = 1000;
    int dir = 1;
    while (!stop) {
        for (int r = 0; r < 2000; r++) {
            gc::allocBytes(64 + rng() % 1000);
            slots.get()[rng() % live] = newObj(rng, 400);
        }
        live = dir > 0 ? std::min(maxLive, live + 2000) : std::max<size_t>(1000, live - 2000);
        if (live == maxLive || live == 1000) dir = -dir;
        if (dir < 0)
            for (size_t i = live; i < live + 2000 && i < maxLive; i++) slots.get()[i] = nullptr;
    }
}

// A small teaching heap, recorded with object-level events: a live set of 4,096 objects (with
// payloads) in a few dozen spans, slow enough to watch, with a GC cycle every few hundred ms.
void teaching(Stop& stop, unsigned seed) {
    std::mt19937_64 rng(seed);
    const size_t live = 4096;
    Root<Ptr<Obj>> slots(newSlots(live));
    for (size_t i = 0; i < live; i++) slots.get()[i] = newObj(rng, 48);
    while (!stop) {
        for (int r = 0; r < 64; r++) {
            gc::allocBytes(16 + rng() % 100);  // garbage
            slots.get()[rng() % live] = newObj(rng, 48);
        }
        gc::BlockingRegion idle;
        std::this_thread::sleep_for(std::chrono::milliseconds(4));
    }
}

struct GcScenario {
    const char* name;
    const char* what;
    void (*body)(Stop&, unsigned);
    int gogc;              // 0: GOGC from the environment (default 100); else this value
    bool objects = false;  // recorded with object-level events (alloc, free, mark)
};

const GcScenario kGcScenarios[] = {
    {"binary-trees",
     "Go's binary-trees: a long-lived tree and waves of short-lived ones (GC heavy)", binaryTrees,
     0},
    {"server", "steady request churn over a live set of 50,000 objects: the GOGC sawtooth", server,
     0},
    {"gc-fragmentation",
     "allocate 100k objects, drop every other one, then allocate a different size", fragmentation,
     0},
    {"gc-large", "large objects (40 KiB..2 MiB), each in a span of its own", large, 0},
    {"tiny", "tiny pointer-free objects packed into 16-byte blocks", tiny, 0},
    {"gogc50", "the server workload at GOGC=50: more cycles, smaller heap", server, 50},
    {"gogc100", "the server workload at GOGC=100 (the default)", server, 100},
    {"gogc400", "the server workload at GOGC=400: fewer cycles, bigger heap", server, 400},
    {"memlimit", "a live set growing toward a 64 MiB memory limit (GOMEMLIMIT) and back", memlimit,
     0},
    {"teaching", "a small heap (4,096 live objects) with object-level events: slots, marks, sweeps",
     teaching, 10, true},
};

uint64_t collectionsDone() {
    gc::GCStats st;
    gc::readGCStats(&st);
    return st.numGC;
}

void report(double t) {
    gc::GCStats st;
    gc::readGCStats(&st);
    std::printf(
        "t=%5.1fs  gc %3llu  heap %6.1f MiB  goal %6.1f MiB  marked %6.1f MiB  sys %6.1f MiB  "
        "pauses %.2f ms  GC CPU %.0f%%\n",
        t, static_cast<unsigned long long>(st.numGC), st.heapLive / 1048576.0,
        st.heapGoal / 1048576.0, st.heapMarked / 1048576.0, st.heap.HeapSys / 1048576.0,
        st.pauseTotalNs / 1e6, st.gcCPUFraction * 100);
    std::fflush(stdout);
}
}  // namespace

void listGcScenarios() {
    for (const auto& s : kGcScenarios) std::printf("%-16s %s\n", s.name, s.what);
}

bool gcScenarioWantsObjects(const char* name) {
    for (const auto& s : kGcScenarios)
        if (!std::strcmp(s.name, name)) return s.objects;
    return false;
}

bool isGcScenario(const char* name) {
    for (const auto& s : kGcScenarios)
        if (!std::strcmp(s.name, name)) return true;
    return false;
}

int runGcScenario(const char* name, double seconds, double interval, uint64_t minGC, bool gctrace,
                  const std::atomic<bool>& interrupted) {
    const GcScenario* sc = nullptr;
    for (const auto& s : kGcScenarios)
        if (!std::strcmp(s.name, name)) sc = &s;
    if (!sc) return usageError("demo", (std::string("unknown workload '") + name + "'").c_str());
    if (gctrace) setenv("GODEBUG", "gctrace=1", 1);  // read when the collector starts
    if (sc->gogc) gc::setGCPercent(sc->gogc);
    gc::GCStats st;
    gc::readGCStats(&st);
    std::string gogc = st.gcPercent < 0 ? "off" : std::to_string(st.gcPercent);
    if (minGC && st.gcPercent < 0 && st.memoryLimit == INT64_MAX)
        return usageError("demo",
                          "--min-gc: with GOGC=off and no memory limit no collection ever runs");
    std::printf("%s: %s (GOGC=%s)\n", sc->name, sc->what, gogc.c_str());
    Stop stop{false};
    std::thread worker([&] {
        sc->body(stop, 1234u);
        gc::detachThread();
    });
    auto t0 = std::chrono::steady_clock::now();
    double elapsed = 0;
    double reported = 0;
    while (!interrupted.load()) {
        const bool timeLeft = seconds == 0 || elapsed < seconds;
        if (!timeLeft && (!minGC || collectionsDone() >= minGC)) break;
        // Past the time, poll the cycle count often (each read is a short stop-the-world, as
        // Go's ReadMemStats), and keep reporting once an interval.
        const double nap = !timeLeft ? std::min(interval, 0.05)
                           : seconds ? std::min(interval, seconds - elapsed)
                                     : interval;
        {
            gc::BlockingRegion idle;  // a sleeping mutator must not hold up a stop-the-world
            std::this_thread::sleep_for(std::chrono::duration<double>(nap));
        }
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (timeLeft || elapsed - reported >= interval) {
            report(elapsed);
            reported = elapsed;
        }
    }
    stop = true;
    {
        gc::BlockingRegion idle;
        worker.join();
    }
    char why[256] = "";
    if (!gc::validate(why, sizeof why)) {
        std::fprintf(stderr, "spanscope-cli demo: managed heap invariant broken: %s\n", why);
        return 1;
    }
    return 0;
}

}  // namespace spanscope::cli
