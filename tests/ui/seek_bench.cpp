// Seek time on a recorded session: what the GUI's worker does for one seek (SessionWorker::seek:
// spans at t, heap sample, cycles, the heap-map scene and the class totals), at evenly spaced
// moments, then the process's memory. With --window, the real MainWindow (offscreen) seeks and the
// time is from seekTo() to the moment shown on every panel, as a user dragging the cursor sees it.
// Run by hand on a big session:  build/tests/ui/seek_bench [--window] SESSION [SEEKS]
#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <algorithm>
#include <cstdio>
#include <functional>

#include "bench_util.h"
#include "cpu_state.h"
#include "main_window.h"
#include "session_worker.h"

using namespace spanscope::ui;

namespace {

using spanscope::uibench::statusKb;

void printMemory(const char* what) {
    std::printf("%s: RSS %.1f MiB, peak RSS %.1f MiB\n", what, double(statusKb("VmRSS:")) / 1024,
                double(statusKb("VmHWM:")) / 1024);
}

// Moments in a scattered order (not only forward), as a user jumping around does.
int64_t momentOf(int i, int n, int64_t endNs) {
    const int k = (i * 7) % n;  // n is made coprime with 7 below
    return endNs * (k + 1) / n;
}

void printTimes(const char* what, std::vector<double> ms, const SummaryPtr& s) {
    std::sort(ms.begin(), ms.end());
    std::printf("%s: %lld events, %.1f s: %zu seeks, median %.1f ms, p90 %.1f ms, max %.1f ms\n",
                what, (long long)s->info.events, double(s->info.endNs) / 1e9, ms.size(),
                ms[ms.size() / 2], ms[ms.size() * 9 / 10], ms.back());
}

int workerBench(const QString& path, int n) {
    auto tokens = std::make_shared<RequestTokens>();
    SessionWorker w(tokens);
    SummaryPtr summary;
    MomentPtr moment;
    QString failure;
    QObject::connect(&w, &SessionWorker::opened, [&](SummaryPtr s, quint64) { summary = s; });
    QObject::connect(&w, &SessionWorker::openFailed,
                     [&](const QString& m, quint64) { failure = m; });
    QObject::connect(&w, &SessionWorker::momentReady, [&](MomentPtr m) { moment = m; });
    tokens->open = 1;
    w.open(path, 1, 0);
    if (!summary) {
        std::fprintf(stderr, "seek_bench: %s\n", qPrintable(failure));
        return 1;
    }
    std::vector<double> ms;
    size_t maxTiles = 0;
    uint64_t maxReplay = 0;
    for (int i = 0; i < n; i++) {
        const int64_t t = momentOf(i, n, summary->info.endNs);
        tokens->seek = uint64_t(i + 10);
        QElapsedTimer timer;
        timer.start();
        w.seek(t, uint64_t(i + 10));
        ms.push_back(double(timer.nsecsElapsed()) / 1e6);
        if (qEnvironmentVariableIsSet("SEEK_BENCH_VERBOSE"))
            std::printf("  t=%.3f s: %.1f ms, replayed %llu\n", double(t) / 1e9, ms.back(),
                        (unsigned long long)moment->replayed);
        maxTiles = std::max(maxTiles, moment->scene.tiles.size());
        maxReplay = std::max(maxReplay, moment->replayed);
    }
    printTimes("worker seek", ms, summary);
    std::printf("tiles up to %zu, replay up to %llu events\n", maxTiles,
                (unsigned long long)maxReplay);
    printMemory("after the seeks");
    return 0;
}

int windowBench(QApplication& app, const QString& path, int n) {
    MainWindow w;
    w.resize(1440, 900);
    w.show();
    w.openFile(path);
    auto waitFor = [&](const std::function<bool()>& pred) {
        QElapsedTimer t;
        t.start();
        while (!pred() && t.elapsed() < 60000) app.processEvents(QEventLoop::WaitForMoreEvents, 50);
        return pred();
    };
    if (!waitFor([&] { return w.moment() != nullptr || !w.bannerText().isEmpty(); }) ||
        !w.moment()) {
        std::fprintf(stderr, "seek_bench: %s\n", qPrintable(w.bannerText()));
        return 1;
    }
    const SummaryPtr s = w.summary();
    printMemory("window open, at the end");
    std::vector<double> ms;
    for (int i = 0; i < n; i++) {
        const int64_t t = momentOf(i, n, s->info.endNs);
        QElapsedTimer timer;
        timer.start();
        w.seekTo(t);
        if (!waitFor([&] { return w.moment() && w.moment()->tNs == t; })) {
            std::fprintf(stderr, "seek_bench: no moment for t = %lld\n", (long long)t);
            return 1;
        }
        app.processEvents();  // the repaint that follows
        ms.push_back(double(timer.nsecsElapsed()) / 1e6);
    }
    printTimes("window seek (seekTo to every panel updated)", ms, s);
    printMemory("after the seeks");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    QStringList args;
    for (int i = 1; i < argc; i++) args << QString::fromLocal8Bit(argv[i]);
    const bool window = args.removeAll(QStringLiteral("--window")) > 0;
    if (args.isEmpty()) {
        std::fprintf(stderr, "usage: seek_bench [--window] SESSION [SEEKS]\n");
        return 2;
    }
    int n = args.size() > 1 ? std::max(1, args[1].toInt()) : 20;
    if (n % 7 == 0) n++;
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    spanscope::ui::Application app(argc, argv);  // a QApplication, as the GUI's (cpu_state.h)
    return window ? windowBench(app, args[0], n) : workerBench(args[0], n);
}
