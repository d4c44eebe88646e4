// spanscope-cli demo: built-in allocation workloads on the in-process malloc-mode heap, with a live
// per-size-class report in the terminal (the main job until the GUI takes over).
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli.h"
#include "spanscope/allocator.h"

namespace spanscope::cli {

namespace {
std::atomic<bool> g_stop{false};

// One heap per process: when libspanscope.so is preloaded (spanscope-cli record / run), the demo
// allocates with malloc so the preloaded heap (and its probe) sees it; otherwise it uses this
// binary's own copy of the allocator.
struct HeapApi {
    void* (*alloc)(size_t);
    void (*release)(void*);
    void (*stats)(MemStats*);
    bool (*validate)(char*, size_t);
    bool preloaded;
};
void (*g_preloadStats)(MemStats*) = nullptr;
int (*g_preloadValidate)(char*, size_t) = nullptr;
HeapApi g_heap{ssMalloc, ssFree, readMemStats, validateHeap, false};

void selectHeap() {
    g_preloadStats =
        reinterpret_cast<void (*)(MemStats*)>(dlsym(RTLD_DEFAULT, "spanscope_read_memstats"));
    g_preloadValidate =
        reinterpret_cast<int (*)(char*, size_t)>(dlsym(RTLD_DEFAULT, "spanscope_validate_heap"));
    if (g_preloadStats && g_preloadValidate)
        g_heap = {std::malloc, std::free, g_preloadStats,
                  [](char* why, size_t cap) { return g_preloadValidate(why, cap) != 0; }, true};
}
void* hAlloc(size_t n) {
    return g_heap.alloc(n);
}
void hFree(void* p) {
    g_heap.release(p);
}
void onSignal(int) {
    g_stop.store(true);
}

struct Scenario {
    const char* name;
    const char* what;
    void (*body)(unsigned seed, std::atomic<bool>& stop);
};

// Size distribution of a typical C/C++ program: mostly small, a tail of medium, a few large.
size_t pickSize(std::mt19937_64& rng) {
    unsigned r = rng() % 1000;
    if (r < 600) return 8 + rng() % 120;
    if (r < 900) return 128 + rng() % 900;
    if (r < 995) return 1024 + rng() % 15000;
    return 40000 + rng() % 400000;
}

void churn(unsigned seed, std::atomic<bool>& stop) {
    std::mt19937_64 rng(seed);
    std::vector<void*> live(20000, nullptr);
    while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 10000; k++) {
            void*& slot = live[rng() % live.size()];
            hFree(slot);
            size_t n = pickSize(rng);
            slot = hAlloc(n);
            static_cast<char*>(slot)[0] = 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    for (void* p : live) hFree(p);
}

void fragmentation(unsigned seed, std::atomic<bool>& stop) {
    std::mt19937_64 rng(seed);
    while (!stop.load(std::memory_order_relaxed)) {
        std::vector<void*> objs(50000);
        for (auto& p : objs) p = hAlloc(64);
        for (size_t i = 0; i < objs.size(); i += 2) hFree(objs[i]);  // every other one
        std::vector<void*> big(20000);
        for (auto& p : big) p = hAlloc(256);  // a different size cannot reuse the holes
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        for (size_t i = 1; i < objs.size(); i += 2) hFree(objs[i]);
        for (void* p : big) hFree(p);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

void large(unsigned seed, std::atomic<bool>& stop) {
    std::mt19937_64 rng(seed);
    std::vector<void*> live(64, nullptr);
    while (!stop.load(std::memory_order_relaxed)) {
        void*& slot = live[rng() % live.size()];
        hFree(slot);
        slot = hAlloc(33000 + rng() % (4 << 20));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (void* p : live) hFree(p);
}

const Scenario kScenarios[] = {
    {"live", "mixed small/medium/large churn on several threads (the default)", churn},
    {"fragmentation", "allocate many 64 B objects, free every other one, then allocate 256 B ones",
     fragmentation},
    {"large", "large objects (> 32 KiB) of random sizes, each in a span of its own", large},
};

void printReport(double seconds, bool tty) {
    MemStats st;
    g_heap.stats(&st);
    if (tty) std::fputs("\x1b[H\x1b[2J", stdout);
    std::printf("spanscope demo  t=%.1fs  sweep cycles %llu\n", seconds,
                (unsigned long long)st.NumSweepCycles);
    std::printf(
        "HeapAlloc %.1f MiB  HeapInuse %.1f MiB  HeapIdle %.1f MiB  HeapReleased %.1f MiB  HeapSys "
        "%.1f MiB  "
        "next sweep at %.1f MiB\n\n",
        st.HeapAlloc / 1048576.0, st.HeapInuse / 1048576.0, st.HeapIdle / 1048576.0,
        st.HeapReleased / 1048576.0, st.HeapSys / 1048576.0, st.NextSweep / 1048576.0);
    std::printf("%5s %7s %7s %12s %12s %10s %12s\n", "class", "size", "spans", "mallocs", "frees",
                "objects", "bytes");
    for (int c = 0; c < kNumSizeClasses; c++) {
        const auto& b = st.BySize[c];
        if (!b.Mallocs && !b.Spans) continue;
        uint64_t objs = b.Mallocs - b.Frees;
        std::printf("%5d %7s %7llu %12llu %12llu %10llu %12llu\n", c,
                    c ? std::to_string(b.Size).c_str() : "large", (unsigned long long)b.Spans,
                    (unsigned long long)b.Mallocs, (unsigned long long)b.Frees,
                    (unsigned long long)objs,
                    (unsigned long long)(c ? objs * b.Size : 0));  // large: see HeapAlloc
    }
    std::fflush(stdout);
}
}  // namespace

int demoCommand(int argc, char** argv) {
    const char* name = "live";
    double seconds = 0;
    int threads = 2;
    double interval = 1.0;
    uint64_t minGC = 0;
    bool gctrace = false, force = false;
    const char* output = nullptr;
    std::vector<std::string> boundArgs;  // --max-size/--keep, for the recorder
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::puts(
                "usage: spanscope-cli demo [NAME] [--seconds S] [--min-gc N] [--threads N] "
                "[--interval S]\n"
                "                          [--gctrace] [-o FILE [--force] [--max-size SIZE] "
                "[--keep DURATION]]\n\n"
                "Runs a built-in workload inside this process and prints a report every interval,\n"
                "until S seconds pass or Ctrl-C. Malloc-mode workloads print the per-size-class\n"
                "table; managed-heap (garbage-collected) ones print the collector's state, and\n"
                "with --gctrace Go's gctrace lines on stderr. Workloads are deterministic.\n"
                "'spanscope-cli demo --list' lists them. With -o FILE the run is recorded into\n"
                "the session FILE (as 'spanscope-cli record -o FILE --no-preload -- spanscope-cli\n"
                "demo ...' does), for the GUI or 'spanscope-cli report'. With a managed-heap\n"
                "workload, --min-gc N keeps it running past S seconds until N collections have\n"
                "finished (a recording that must hold N cycles, on however slow a machine).\n");
#ifdef SPANSCOPE_HAVE_INSTRUMENTATION
            std::fputs(kBoundHelp, stdout);
#endif
            return 0;
        }
        if (a == "--list") {
            std::puts("malloc mode (the drop-in malloc heap):");
            for (const auto& s : kScenarios) std::printf("%-16s %s\n", s.name, s.what);
            std::puts("\nmanaged heap (Go's garbage collector):");
            listGcScenarios();
            return 0;
        }
        if (a == "--gctrace") {
            gctrace = true;
            continue;
        }
        if (a == "-o") {
            if (i + 1 >= argc) return usageError("demo", "-o needs a file name");
            output = argv[++i];
            continue;
        }
        if (a == "--force") {
            force = true;
            continue;
        }
#ifdef SPANSCOPE_HAVE_INSTRUMENTATION  // -o is a recording: it may be bounded
        session::RecorderOptions bound;
        if (const int took = boundOption("demo", argc, argv, i, &bound)) {
            if (took < 0) return 2;
            boundArgs.insert(boundArgs.end(), {argv[i], argv[i + 1]});
            i += took - 1;
            continue;
        }
#endif
        auto value = [&](const char* flag) -> const char* {
            if (i + 1 >= argc) {
                usageError("demo", (std::string(flag) + " needs a value").c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        auto number = [&](const char* flag, double lo, double hi) {
            const char* v = value(flag);
            char* end = nullptr;
            double d = std::strtod(v, &end);
            if (!end || *end || !(d >= lo && d <= hi)) {  // NaN fails too
                usageError("demo",
                           (std::string("bad value for ") + flag + ": '" + v + "'").c_str());
                std::exit(2);
            }
            return d;
        };
        if (a == "--seconds")
            seconds = number("--seconds", 0, 1e7);
        else if (a == "--threads")
            threads = static_cast<int>(number("--threads", 1, 256));
        else if (a == "--interval")
            interval = number("--interval", 0.05, 3600);
        else if (a == "--min-gc")
            minGC = static_cast<uint64_t>(number("--min-gc", 0, 1e6));
        else if (!a.empty() && a[0] == '-')
            return usageError("demo", ("unknown option " + a).c_str());
        else
            name = argv[i];
    }
    // The workload is checked before anything runs: an unknown one must not leave a session behind.
    const bool gcScenario = isGcScenario(name);
    const Scenario* sc = nullptr;
    for (const auto& s : kScenarios)
        if (!std::strcmp(s.name, name)) sc = &s;
    if (!gcScenario && !sc)
        return usageError("demo", (std::string("unknown workload '") + name + "'").c_str());
    if (!gcScenario && minGC)
        return usageError("demo", "--min-gc goes with a managed-heap workload ('demo --list')");
    if (output) {
        // Record this very demo: the recorder runs it as a child that streams its own heap.
        std::vector<std::string> args = {"spanscope-cli", "record", "-o", output, "--no-preload"};
        if (force) args.push_back("--force");
        args.insert(args.end(), boundArgs.begin(), boundArgs.end());
        const size_t demoArgs = args.size() + 3;  // the demo's own arguments start here
        args.insert(args.end(), {"--", "/proc/self/exe", "demo"});
        for (int i = 1; i < argc; i++) {
            std::string a = argv[i];
            if (a == "-o" || a == "--max-size" || a == "--keep") {
                i++;
                continue;
            }
            if (a != "--force") args.push_back(a);
        }
        if (std::find(args.begin() + static_cast<std::ptrdiff_t>(demoArgs), args.end(),
                      std::string(name)) == args.end())
            args.push_back(name);
        std::vector<char*> cargv;
        for (auto& a : args) cargv.push_back(a.data());
        cargv.push_back(nullptr);
        execv("/proc/self/exe", cargv.data());
        std::fprintf(stderr, "spanscope-cli demo: cannot run the recorder: %s\n",
                     std::strerror(errno));
        return 1;
    }
    if (gcScenario) {
        signal(SIGINT, onSignal);
        signal(SIGTERM, onSignal);
        return runGcScenario(name, seconds, interval, minGC, gctrace, g_stop);
    }

    selectHeap();
    signal(SIGINT, onSignal);
    signal(SIGTERM, onSignal);
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; t++) workers.emplace_back([&, t] { sc->body(1234u + t, stop); });
    const bool tty = isatty(1);
    auto t0 = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (!g_stop.load() && (seconds == 0 || elapsed < seconds)) {
        std::this_thread::sleep_for(std::chrono::duration<double>(
            seconds ? std::min(interval, seconds - elapsed) : interval));
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        printReport(elapsed, tty);
    }
    stop.store(true);
    for (auto& w : workers) w.join();
    char why[256] = "";
    if (!g_heap.validate(why, sizeof why)) {
        std::fprintf(stderr, "spanscope-cli demo: heap invariant broken: %s\n", why);
        return 1;
    }
    return 0;
}

}  // namespace spanscope::cli
