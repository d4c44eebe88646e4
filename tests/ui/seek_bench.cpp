// Seek time on a recorded session: what the GUI's worker does for one seek (SessionWorker::seek:
// spans at t, heap sample, cycles, the heap-map scene and the class totals), at evenly spaced
// moments. Run by hand on a big session:  build/tests/ui/seek_bench SESSION [N]
#include <QCoreApplication>
#include <QElapsedTimer>
#include <algorithm>
#include <cstdio>

#include "session_worker.h"

using namespace spanscope::ui;

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: seek_bench SESSION [SEEKS]\n");
        return 2;
    }
    const int n = argc > 2 ? std::max(1, std::atoi(argv[2])) : 20;
    auto tokens = std::make_shared<RequestTokens>();
    SessionWorker w(tokens);
    SummaryPtr summary;
    MomentPtr moment;
    QString failure;
    QObject::connect(&w, &SessionWorker::opened, [&](SummaryPtr s, quint64) { summary = s; });
    QObject::connect(&w, &SessionWorker::openFailed, [&](const QString& m, quint64) { failure = m; });
    QObject::connect(&w, &SessionWorker::momentReady, [&](MomentPtr m) { moment = m; });
    tokens->open = 1;
    w.open(QString::fromLocal8Bit(argv[1]), 1, 0);
    if (!summary) {
        std::fprintf(stderr, "seek_bench: %s\n", qPrintable(failure));
        return 1;
    }
    std::vector<double> ms;
    size_t maxTiles = 0;
    uint64_t maxReplay = 0;
    for (int i = 0; i < n; i++) {
        const int64_t t = summary->info.endNs * (i + 1) / n;
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
    std::sort(ms.begin(), ms.end());
    std::printf("%lld events, %.1f s: %d seeks, median %.1f ms, max %.1f ms (tiles up to %zu, replay up to %llu events)\n",
                (long long)summary->info.events, double(summary->info.endNs) / 1e9, n, ms[ms.size() / 2], ms.back(),
                maxTiles, (unsigned long long)maxReplay);
    return 0;
}
