// gc_env_probe: runs one collector scenario under the environment it was started with (GOGC and
// GOMEMLIMIT are read once per process, as Go reads them) and prints key=value results for
// gc_env_test.cpp. Modes:
//   first-goal   the goal and trigger before any cycle, then cycles after 64 MiB of garbage
//   limit        a 8 MiB live set churned through 256 MiB of allocation; peak mapped memory
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "spanscope/gc.h"

using namespace spanscope::gc;

namespace {
constexpr uint64_t kMask[1] = {1};
const Type kPtrObj{64, 8, kMask, "obj"};  // pointerful, 64 B (a class that lays out as in Go 1.19)

uint64_t mappedReady(const GCStats& st) {
    return st.heap.Sys - st.heap.HeapReleased;
}

int firstGoal() {
    GCStats st;
    readGCStats(&st);
    std::printf("goal=%llu trigger=%llu percent=%d\n", static_cast<unsigned long long>(st.heapGoal),
                static_cast<unsigned long long>(st.trigger), st.gcPercent);
    for (int i = 0; i < (64 << 20) / 64; i++) allocBytes(64);
    readGCStats(&st);
    std::printf("cycles=%llu\n", static_cast<unsigned long long>(st.numGC));
    return 0;
}

int limit() {
    // A ring of 131072 64-byte pointerful objects (8 MiB live) replaced 32 times over.
    constexpr size_t kLive = 131072;
    static const Type kSlot{8, 8, kMask, "*obj"};
    Root<Ptr<void>> ring(static_cast<Ptr<void>*>(allocArray(&kSlot, kLive)));
    uint64_t peak = 0;
    GCStats st;
    for (size_t i = 0; i < kLive * 32; i++) {
        ring.get()[i % kLive] = alloc(&kPtrObj);
        if (i % 32768 == 0) {
            readGCStats(&st);
            if (mappedReady(st) > peak) peak = mappedReady(st);
        }
    }
    readGCStats(&st);
    std::printf("peak_mapped=%llu cycles=%llu limit=%lld\n", static_cast<unsigned long long>(peak),
                static_cast<unsigned long long>(st.numGC), static_cast<long long>(st.memoryLimit));
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && !std::strcmp(argv[1], "first-goal")) return firstGoal();
    if (argc > 1 && !std::strcmp(argv[1], "limit")) return limit();
    std::fprintf(stderr, "usage: gc_env_probe first-goal | limit\n");
    return 2;
}
