// GUI-thread stalls while the real MainWindow follows a live recording (budget: none over 50 ms).
// A 5 ms heartbeat timer on the GUI thread records the gaps between its ticks; every event the
// application delivers is timed too, so the longest ones are named (receiver class, event type).
// Run by hand (offscreen unless QT_QPA_PLATFORM is set):
//   stall_bench [--seconds S] [--scenario NAME | -- PROGRAM ARGS...]
// With no program it records build/bench/allocbench churn-1t through `spanscope-cli record`.
#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QMetaEnum>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include "bench_util.h"
#include "cpu_state.h"
#include "main_window.h"

using namespace spanscope::ui;

namespace {

// Times every event delivered on the GUI thread (nested deliveries count in their outermost one;
// the worker thread's events are not counted).
class TimingApp : public spanscope::ui::Application {
public:
    using Application::Application;
    struct Slow {
        double ms;
        QString what;
    };
    bool notify(QObject* receiver, QEvent* e) override {
        if (!m_on || QThread::currentThread() != thread()) return Application::notify(receiver, e);
        if (m_depth++ > 0) {
            const bool r = Application::notify(receiver, e);
            m_depth--;
            return r;
        }
        const auto type = e->type();
        QElapsedTimer t;
        t.start();
        const double cpu0 = threadCpuMs();
        const bool r = Application::notify(receiver, e);
        const double ms = double(t.nsecsElapsed()) / 1e6;
        m_depth--;
        if (ms >= 5) {
            const QString what = QStringLiteral("%1 %2").arg(
                QString::fromLatin1(receiver->metaObject()->className()),
                QString::fromLatin1(QMetaEnum::fromType<QEvent::Type>().valueToKey(type)));
            auto& agg = m_byKind[what];
            agg.first++;
            agg.second = std::max(agg.second, ms);
            m_total[what] += ms;
            m_cpu[what] += threadCpuMs() - cpu0;
        }
        return r;
    }
    void setTiming(bool on) { m_on = on; }
    void printSlowest(int n) const {
        std::vector<std::pair<QString, std::pair<int, double>>> v(m_byKind.begin(), m_byKind.end());
        std::sort(v.begin(), v.end(),
                  [](auto& a, auto& b) { return a.second.second > b.second.second; });
        std::printf(
            "event deliveries of 5 ms or more (receiver event: count, max, total wall, total "
            "CPU):\n");
        for (int i = 0; i < std::min<int>(n, int(v.size())); i++)
            std::printf("  %-44s %5d  max %6.1f ms  wall %7.1f ms  CPU %7.1f ms\n",
                        qPrintable(v[size_t(i)].first), v[size_t(i)].second.first,
                        v[size_t(i)].second.second, m_total.at(v[size_t(i)].first),
                        m_cpu.at(v[size_t(i)].first));
    }

private:
    int m_depth = 0;
    bool m_on = false;
    std::map<QString, std::pair<int, double>> m_byKind;
    std::map<QString, double> m_total, m_cpu;
    static double threadCpuMs() {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
    }
};

using spanscope::uibench::statusKb;

}  // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    TimingApp app(argc, argv);
    double seconds = 20;
    QString scenario;
    QString program;
    QStringList args;
    const QStringList a = app.arguments();
    for (int i = 1; i < a.size(); i++) {
        if (a[i] == QLatin1String("--seconds") && i + 1 < a.size())
            seconds = a[++i].toDouble();
        else if (a[i] == QLatin1String("--scenario") && i + 1 < a.size())
            scenario = a[++i];
        else if (a[i] == QLatin1String("--")) {
            if (i + 1 < a.size()) program = a[i + 1];
            args = a.mid(i + 2);
            break;
        } else {
            std::fprintf(
                stderr,
                "usage: stall_bench [--seconds S] [--scenario NAME | -- PROGRAM ARGS...]\n");
            return 2;
        }
    }
    if (scenario.isEmpty() && program.isEmpty()) {
        program = QStringLiteral(SPANSCOPE_ALLOCBENCH);
        args = {QStringLiteral("churn-1t"), QStringLiteral("--scale"), QStringLiteral("40")};
    }
    if (qEnvironmentVariableIsEmpty("SPANSCOPE_CLI")) qputenv("SPANSCOPE_CLI", SPANSCOPE_CLI_PATH);

    MainWindow w;
    w.resize(1440, 900);
    w.show();
    const bool ok = scenario.isEmpty() ? w.startLive(LiveSource::program(program, args))
                                       : w.startLive(LiveSource::scenario(scenario, seconds + 30));
    if (!ok) {
        std::fprintf(stderr, "stall_bench: cannot start: %s\n", qPrintable(w.bannerText()));
        return 1;
    }
    int moments = 0, seriesShown = 0;
    QObject::connect(&w, &MainWindow::momentShown, [&] { moments++; });
    QObject::connect(&w, &MainWindow::seriesShown, [&] { seriesShown++; });

    // Measure from the first moment shown (the recording is under way) for `seconds`.
    std::vector<double> gaps;
    QElapsedTimer clock, since;
    int64_t events0 = 0, events1 = 0;
    QTimer heartbeat;
    heartbeat.setTimerType(Qt::PreciseTimer);
    heartbeat.setInterval(5);
    QObject::connect(&heartbeat, &QTimer::timeout, [&] {
        gaps.push_back(double(since.nsecsElapsed()) / 1e6);
        since.restart();
        if (clock.elapsed() > seconds * 1000) {
            if (w.summary()) events1 = w.summary()->info.events;
            app.quit();
        }
    });
    auto conn = std::make_shared<QMetaObject::Connection>();
    *conn = QObject::connect(&w, &MainWindow::momentShown, [&, conn] {
        QObject::disconnect(*conn);
        events0 = w.summary() ? w.summary()->info.events : 0;
        moments = 0;
        seriesShown = 0;
        clock.start();
        since.start();
        app.setTiming(true);
        heartbeat.start();
    });
    QTimer::singleShot(int(seconds * 1000) + 60000, &app, [&] {
        std::fprintf(stderr, "stall_bench: nothing shown within a minute: %s\n",
                     qPrintable(w.bannerText()));
        app.exit(1);
    });
    if (app.exec() != 0) return 1;
    app.setTiming(false);
    const bool stillRecording = w.isRecording();
    if (gaps.empty()) return 1;
    std::sort(gaps.begin(), gaps.end());
    auto pct = [&](double p) {
        return gaps[std::min(gaps.size() - 1, size_t(p * double(gaps.size())))];
    };
    const double secs = double(clock.elapsed()) / 1000;
    std::printf(
        "live %s for %.1f s: %.0f events/s recorded (%lld events by the end%s), %d moments and %d "
        "series shown\n",
        qPrintable(scenario.isEmpty() ? program.section(QLatin1Char('/'), -1) + QLatin1Char(' ') +
                                            args.join(QLatin1Char(' '))
                                      : scenario),
        secs, double(events1 - events0) / secs, (long long)events1,
        stillRecording ? ", still recording" : ", ended", moments, seriesShown);
    std::printf(
        "GUI-thread heartbeat (5 ms): %zu ticks, gap median %.1f ms, p99 %.1f ms, p99.9 %.1f ms, "
        "max %.1f ms; "
        "%zd gaps over 50 ms\n",
        gaps.size(), pct(0.5), pct(0.99), pct(0.999), gaps.back(),
        std::count_if(gaps.begin(), gaps.end(), [](double g) { return g > 50; }));
    std::printf("GUI RSS %ld KiB, peak %ld KiB\n", statusKb("VmRSS:"), statusKb("VmHWM:"));
    // Whether anything in the run left the GUI thread's AVX upper state in use again.
    std::printf("AVX upper state in use on the GUI thread at the end: %s\n",
                spanscope::ui::avxUpperStateInUse() ? "yes" : "no");
    app.printSlowest(12);
    return 0;
}
