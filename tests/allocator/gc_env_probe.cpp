// gc_env_probe: runs one collector scenario under the environment it was started with (GOGC and
// GOMEMLIMIT are read once per process, as Go reads them) and prints key=value results for
// gc_env_test.cpp. Modes:
//   first-goal   the goal and trigger before any cycle, then cycles after 64 MiB of garbage
//   limit        a 8 MiB live set churned through 256 MiB of allocation; peak mapped memory
//   workers      one collection, then the collector's mark workers and idle markers, by name
#include <dirent.h>

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
int workers() {
    collect();  // the collector's threads exist once it has started
    int mark = 0, idle = 0;
    DIR* dir = opendir("/proc/self/task");
    if (!dir) return 1;
    while (dirent* e = readdir(dir)) {
        if (e->d_name[0] == '.') continue;
        char path[300], comm[32] = {};
        std::snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE* f = std::fopen(path, "r");
        if (!f) continue;
        if (std::fgets(comm, sizeof comm, f)) {
            mark += !std::strcmp(comm, "spanscope-mark\n");
            idle += !std::strcmp(comm, "spanscope-idle\n");
        }
        std::fclose(f);
    }
    closedir(dir);
    std::printf("mark=%d idle=%d\n", mark, idle);
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && !std::strcmp(argv[1], "first-goal")) return firstGoal();
    if (argc > 1 && !std::strcmp(argv[1], "limit")) return limit();
    if (argc > 1 && !std::strcmp(argv[1], "workers")) return workers();
    std::fprintf(stderr, "usage: gc_env_probe first-goal | limit | workers\n");
    return 2;
}
