// The session fuzzer: structure-aware mutations of a recorded session (session_mutator.h), each
// damaged file then opened by the reader, checked (spanscope-cli check's checkSession), queried as
// the GUI queries it and drawn by the heap map's scene builder and renderer offscreen. Each
// attempt runs in a child process with a time limit (a hang) and an address-space limit (an
// unbounded allocation); a crash, hang or allocation failure is reported with the mutations that
// caused it and the file is kept in OUT_DIR for a regression test.
//   session_fuzz SEED.spanscope SECONDS [OUT_DIR]     (CI: tests/instrumentation/fuzz.sh)
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "heap_map_renderer.h"
#include "heap_scene.h"
#include "session_mutator.h"
#include "spanscope/profile.h"
#include "spanscope/session.h"
#include "spanscope/session_check.h"

using namespace spanscope;

namespace {
// What the viewer and report do with a session, bad values and all.
void exercise(const std::string& path) {
    (void)session::checkSession(path);
    std::string err;
    auto r = session::SessionReader::open(path, &err);
    if (!r) return;
    const session::SessionInfo in = r->info();
    const int64_t end = in.endNs;
    for (int64_t t : {int64_t{0}, end / 3, end / 2, end, int64_t{-1}, INT64_MAX / 2}) {
        const auto spans = r->spansAt(t);
        session::HeapSample heap;
        r->heapAt(t, &heap);
        const ui::HeapScene scene = ui::buildHeapScene(
            spans, uint64_t(in.pageSize), uint64_t(in.arenaBytes), heap.heapSys, heap.heapReleased);
        const int perRow = ui::HeapMapLayout::bestArenasPerRow(scene.arenas.size(),
                                                               scene.pagesPerArena(), 4.0 / 3.0);
        const ui::HeapMapLayout layout(scene.arenas, scene.pageSize, scene.arenaBytes, perRow);
        ui::RenderOptions opts;
        opts.labels = false;  // no fonts without a QGuiApplication
        const QSize size(320, 240);
        (void)ui::renderHeapMap(scene, layout, ui::fitViewport(layout, size), size, opts);
        ui::MapViewport close;
        close.scale = 8;  // zoomed in: the per-tile path
        (void)ui::renderHeapMap(scene, layout, close, size, opts);
        (void)r->classTotalsAt(t);
    }
    (void)r->heapSeries(0, end);
    (void)r->classSeries(0, end);
    (void)r->gcCycles(0, end);
    (void)r->gcPhases(0, end);
    (void)r->eventsBetween(0, end, 2000);
    (void)r->droppedByKind();
    session::EventRow row;
    r->eventAfter(end / 2, 0, {}, &row);
    r->eventBefore(end / 2, INT64_MAX, {}, &row);
    session::HeapProfileData profile;  // the heap profile, as the flame graph and `top` read it
    if (profile.load(path, &err)) {
        (void)profile.window(0, -1, false);
        (void)profile.window(end / 3, end / 2, true);
    }
}

bool copyFile(const std::string& from, const std::string& to) {
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(to, std::ios::binary | std::ios::trunc);
    out << in.rdbuf();
    return in.good() && out.good();
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: session_fuzz SEED.spanscope SECONDS [OUT_DIR]\n");
        return 2;
    }
    const std::string seed = argv[1];
    const double seconds = std::atof(argv[2]);
    const std::string outDir = argc > 3 ? argv[3] : "/tmp";
    const std::string work = outDir + "/session-fuzz-" + std::to_string(getpid()) + ".spanscope";
    std::mt19937_64 rng(std::random_device{}());
    const auto t0 = std::chrono::steady_clock::now();
    int runs = 0, failures = 0;
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
        if (!copyFile(seed, work)) {
            std::fprintf(stderr, "session_fuzz: cannot copy %s\n", seed.c_str());
            return 2;
        }
        std::string what;
        sqlite3* db = nullptr;
        if (sqlite3_open(work.c_str(), &db) == SQLITE_OK) {
            const int n = 1 + static_cast<int>(rng() % 3);
            for (int k = 0; k < n; k++) what += (k ? "; " : "") + fuzz::mutateSession(db, rng);
        }
        sqlite3_close(db);
        for (const char* s : {"-wal", "-shm"}) unlink((work + s).c_str());
        const pid_t child = fork();
        if (child == 0) {
            rlimit as{size_t{3} << 30, size_t{3} << 30};  // 3 GiB: an unbounded allocation fails
            setrlimit(RLIMIT_AS, &as);
            alarm(10);  // a hang
            exercise(work);
            _exit(0);
        }
        int st = 0;
        waitpid(child, &st, 0);
        runs++;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) continue;
        failures++;
        const std::string kept =
            outDir + "/session-fuzz-failure-" + std::to_string(failures) + ".spanscope";
        copyFile(work, kept);
        std::fprintf(stderr, "session_fuzz: %s (%s) after: %s; kept as %s\n",
                     WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exit status",
                     WIFSIGNALED(st) ? (WTERMSIG(st) == SIGALRM ? "hang" : "crash")
                                     : std::to_string(WEXITSTATUS(st)).c_str(),
                     what.c_str(), kept.c_str());
    }
    unlink(work.c_str());
    std::printf("session_fuzz: %d damaged sessions in %.0f s, %d failures\n", runs, seconds,
                failures);
    return failures ? 1 : 0;
}
