// gcbench: the managed heap's collector on Go-comparable workloads. Each pattern does fixed work
// and prints one line with wall time, cycles, stop-the-world pauses and the GC's CPU share, as
// bench/go/gcbench.go does under Go (bench/gc_compare.sh runs both; docs/BENCHMARKS.md).
//   gcbench binary-trees [DEPTH]      Go's binary-trees (the benchmarks game / test/bench/garbage)
//   gcbench alloc SIZE [COUNT]        COUNT objects of SIZE bytes (pointerful), a 1000-object
//   window live gcbench steady LIVE COUNT         a ring of LIVE 64-byte objects, COUNT
//   replacements gcbench growdrop PEAK LOW COUNT   the ring grows to PEAK 32-byte objects, drops to
//   LOW, churns; growdrop-touch: the same, each new object written once
// The steady and growdrop shapes are bench/go/gcshapes.go's, for the fidelity report: objects are
// pointerful and under 512 bytes, where Go 1.19 and spanscope (Go 1.22+'s layout) agree.
// Built with instrumentation, it starts the probe when SPANSCOPE_STREAM is set, as a preloaded
// program does, so `spanscope-cli record --no-preload -- gcbench ...` records it
// (bench/recording_overhead.sh).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "spanscope/gc.h"
#if SPANSCOPE_GCBENCH_PROBE
#include "spanscope/stream.h"
#endif

using namespace spanscope::gc;

namespace {
struct Node {
    Ptr<Node> left, right;
};
constexpr uint64_t kTwo[1] = {0b11};
const Type kNode{sizeof(Node), 16, kTwo, "Node"};

Node* bottomUp(int depth) {
    Root<Node> n(static_cast<Node*>(alloc(&kNode)));
    if (depth > 0) {
        n->left = bottomUp(depth - 1);
        n->right = bottomUp(depth - 1);
    }
    return n.get();
}
int check(const Node* n) {
    if (!n->left) return 1;
    poll();  // no allocation here: an explicit safe point (Go preempts asynchronously)
    return 1 + check(n->left.get()) + check(n->right.get());
}

void binaryTrees(int maxDepth) {
    long total = check(bottomUp(maxDepth + 1));
    Root<Node> longLived(bottomUp(maxDepth));
    for (int d = 4; d <= maxDepth; d += 2) {
        int iterations = 1 << (maxDepth - d + 4);
        for (int i = 0; i < iterations; i++) total += check(bottomUp(d));
    }
    total += check(longLived.get());
    if (total == 0) std::puts("impossible");
}

constexpr uint64_t kFirstWord[1] = {1};
const Type kObj64{64, 8, kFirstWord, "obj64"};
const Type kObj32{32, 8, kFirstWord, "obj32"};
const Type kSlotPtr{8, 8, kFirstWord, "*obj"};

void steady(long live, long count) {
    Root<Ptr<void>> ring(static_cast<Ptr<void>*>(allocArray(&kSlotPtr, static_cast<size_t>(live))));
    for (long i = 0; i < count; i++) ring.get()[i % live] = alloc(&kObj64);
}

// touch: the program writes a word into each new object (its last, not a pointer), as real
// programs initialise theirs; without it the objects' pages are never written by the program.
void* newObj32(long i, bool touch) {
    void* p = alloc(&kObj32);
    if (touch) static_cast<uint64_t*>(p)[3] = static_cast<uint64_t>(i);
    return p;
}

void growdrop(long peak, long low, long count, bool touch) {
    Root<Ptr<void>> ring(static_cast<Ptr<void>*>(allocArray(&kSlotPtr, static_cast<size_t>(peak))));
    for (long i = 0; i < peak; i++)
        ring.get()[i] = newObj32(i, touch);                     // grow: every allocation stays live
    for (long i = low; i < peak; i++) ring.get()[i] = nullptr;  // drop to LOW
    for (long i = 0; i < count; i++) ring.get()[i % low] = newObj32(i, touch);
}

// Peak resident set (VmHWM), the same figure bench/go/gcshapes.go reads.
double peakRssMb() {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    long kb = 0;
    while (std::fgets(line, sizeof line, f))
        if (!std::strncmp(line, "VmHWM:", 6)) kb = std::atol(line + 6);
    std::fclose(f);
    return kb / 1024.0;
}

long positive(const char* s) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (!*s || *end || v <= 0) {
        std::fprintf(stderr, "gcbench: bad number '%s'\n", s);
        std::exit(2);
    }
    return v;
}

void allocSize(size_t size, long count) {
    // Pointerful objects of SIZE bytes (first word a pointer), the last 1000 kept live.
    static uint64_t mask[1] = {1};
    Type t{size, 8, mask, "obj"};
    const size_t window = 1000;
    static const Type kSlot{8, 8, mask, "*obj"};
    Root<Ptr<void>> live(static_cast<Ptr<void>*>(allocArray(&kSlot, window)));
    for (long i = 0; i < count; i++) live.get()[static_cast<size_t>(i) % window] = alloc(&t);
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: gcbench binary-trees [DEPTH] | gcbench alloc SIZE [COUNT]\n");
        return 2;
    }
#if SPANSCOPE_GCBENCH_PROBE
    spanscope::probe::startFromEnvironment();
#endif
    auto t0 = std::chrono::steady_clock::now();
    long ops = 0;
    const bool touch = !std::strcmp(argv[1], "growdrop-touch");
    const bool shape =
        !std::strcmp(argv[1], "steady") || !std::strcmp(argv[1], "growdrop") || touch;
    if (shape) {
        if (argc < (argv[1][0] == 's' ? 4 : 5))
            return std::fprintf(stderr,
                                "gcbench: steady LIVE COUNT | growdrop[-touch] PEAK LOW COUNT\n"),
                   2;
        if (argv[1][0] == 's')
            steady(positive(argv[2]), positive(argv[3]));
        else
            growdrop(positive(argv[2]), positive(argv[3]), positive(argv[4]), touch);
    } else if (!std::strcmp(argv[1], "binary-trees")) {
        int depth = argc > 2 ? std::atoi(argv[2]) : 18;
        if (depth < 4 || depth > 24) return std::fprintf(stderr, "gcbench: bad depth\n"), 2;
        binaryTrees(depth);
        ops = depth;
    } else if (!std::strcmp(argv[1], "alloc") && argc > 2) {
        long size = std::atol(argv[2]);
        long count = argc > 3 ? std::atol(argv[3]) : 4000000;
        if (size < 8 || size > (1 << 20) || count <= 0)
            return std::fprintf(stderr, "gcbench: bad size or count\n"), 2;
        allocSize(static_cast<size_t>(size), count);
        ops = count;
    } else {
        std::fprintf(stderr, "gcbench: unknown pattern '%s'\n", argv[1]);
        return 2;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    GCStats st;
    readGCStats(&st);
    if (shape) {
        std::printf(
            "impl=spanscope shape=%s seconds=%.3f num_gc=%llu gc_cpu_fraction=%.3f "
            "peak_rss_mb=%.1f non_heap_mb=%.1f\n",  // non_heap_mb as bench/go/gcshapes.go's
            argv[1], secs, static_cast<unsigned long long>(st.numGC), st.gcCPUFraction, peakRssMb(),
            static_cast<double>(st.heap.Sys - st.heap.HeapSys) / (1 << 20));
        return 0;
    }
    std::printf(
        "impl=spanscope pattern=%s arg=%s seconds=%.3f ops_per_sec=%.0f num_gc=%llu "
        "pause_total_ms=%.3f "
        "pause_avg_ms=%.3f gc_cpu_fraction=%.3f heap_sys_mb=%.1f\n",
        argv[1], argc > 2 ? argv[2] : "-", secs, ops / secs,
        static_cast<unsigned long long>(st.numGC), st.pauseTotalNs / 1e6,
        st.numGC ? st.pauseTotalNs / 1e6 / (2.0 * st.numGC) : 0.0, st.gcCPUFraction,
        st.heap.HeapSys / 1048576.0);
    return 0;
}
