// Opening a comparison: the compare window (compare_view.h) on two sessions, timed from its
// construction to its `loaded` signal and the first paint of the window, as File > Compare with…
// and `spanscope --compare` open it (both sessions read on the window's worker thread). Issue 15's
// budget: two 10 M-record sessions open in under 1 s.
// Run by hand:  build/tests/ui/compare_bench A.spanscope B.spanscope [ROUNDS]
#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <vector>

#include "bench_util.h"
#include "compare_view.h"
#include "cpu_state.h"

using namespace spanscope::ui;

int main(int argc, char** argv) {
    spanscope::ui::Application app(argc, argv);  // a QApplication, as the GUI's (cpu_state.h)
    if (argc < 3) {
        std::fprintf(stderr, "usage: compare_bench A.spanscope B.spanscope [ROUNDS]\n");
        return 2;
    }
    const int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;
    std::vector<double> total, worker;
    for (int i = 0; i < rounds; i++) {
        QElapsedTimer clock;
        clock.start();
        CompareWindow w(QString::fromLocal8Bit(argv[1]), QString::fromLocal8Bit(argv[2]));
        w.resize(1280, 800);
        w.show();
        QEventLoop loop;
        QObject::connect(&w, &CompareWindow::loaded, &loop, &QEventLoop::quit);
        QTimer::singleShot(60000, &loop, &QEventLoop::quit);
        loop.exec();
        if (!w.data()) {
            std::fprintf(stderr, "compare_bench: the comparison did not load within 60 s\n");
            return 1;
        }
        if (!w.data()->a.error.isEmpty() || !w.data()->b.error.isEmpty()) {
            std::fprintf(stderr, "compare_bench: %s%s\n", qPrintable(w.data()->a.error),
                         qPrintable(w.data()->b.error));
            return 1;
        }
        w.repaint();  // the charts and tables drawn once
        total.push_back(double(clock.nsecsElapsed()) / 1e6);
        worker.push_back(w.data()->ms);
    }
    std::sort(total.begin(), total.end());
    std::sort(worker.begin(), worker.end());
    std::printf(
        "compare window, %d rounds: open to drawn median %.1f ms, max %.1f ms; worker (both "
        "sessions read) median %.1f ms; peak RSS %.1f MiB\n",
        rounds, total[total.size() / 2], total.back(), worker[worker.size() / 2],
        double(spanscope::uibench::statusKb("VmHWM:")) / 1024);
    return 0;
}
