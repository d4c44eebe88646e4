// spanscope: the GUI. `spanscope` runs the built-in live demo, `spanscope FILE` opens a session,
// `--screenshot PNG [--at SECONDS] [--seek SECONDS]` saves a picture of the window and exits;
// `--present [--scenes FILE]` starts in presenter mode (ui/presenter.h).
// Everything else is in ui/ (MainWindow).
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QTimer>
#include <cstdio>

#include "main_window.h"
#include "palette.h"
#include "scene_script.h"
#include "spanscope/detail/sizeclasses.h"

namespace {

int usageError(const QString& msg) {
    std::fprintf(stderr, "spanscope: %s\nTry 'spanscope --help'.\n", qPrintable(msg));
    return 2;
}

bool parseSeconds(const QString& s, double* out) {
    bool ok = false;
    const double v = s.toDouble(&ok);
    if (!ok || v < 0) return false;
    *out = v;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication::setApplicationName(QStringLiteral("spanscope"));
    QCoreApplication::setOrganizationName(QStringLiteral("spanscope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SPANSCOPE_VERSION));
    // Flags are parsed before the QApplication exists, so that --help, --print-palette and usage
    // errors work without a display.
    QStringList arguments;
    for (int i = 0; i < argc; i++) arguments << QString::fromLocal8Bit(argv[i]);

    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "spanscope: heap maps, timelines and fragmentation charts of spanscope sessions.\n\n"
        "With no FILE, records the built-in live demo (a Python workload run through\n"
        "'spanscope-cli record') and follows it as it runs."));
    p.addHelpOption();
    p.addVersionOption();
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("a session file (recorded by 'spanscope-cli record')"),
                            QStringLiteral("[FILE]"));
    QCommandLineOption shot(QStringLiteral("screenshot"),
                            QStringLiteral("save a PNG of the whole window to PNG and exit (0 on success)"),
                            QStringLiteral("PNG"));
    QCommandLineOption at(QStringLiteral("at"),
                          QStringLiteral("with --screenshot: take it this many seconds after start (default: as soon "
                                         "as the session is shown)"),
                          QStringLiteral("SECONDS"));
    QCommandLineOption seek(QStringLiteral("seek"), QStringLiteral("show the session at this time (seconds from its start)"),
                            QStringLiteral("SECONDS"));
    QCommandLineOption demoSeconds(QStringLiteral("demo-seconds"),
                                   QStringLiteral("how long the live demo runs (default 120)"), QStringLiteral("SECONDS"));
    QCommandLineOption size(QStringLiteral("size"), QStringLiteral("window size, e.g. 1440x900"), QStringLiteral("WxH"));
    QCommandLineOption palette(QStringLiteral("print-palette"),
                               QStringLiteral("print the size-class colours as CSV (class,size,rgb) and exit"));
    QCommandLineOption view(QStringLiteral("view"),
                            QStringLiteral("with --screenshot: grab one panel only: heapmap, timeline, fragmentation, "
                                           "sizeclasses, session or inspector (with --inspect)"),
                            QStringLiteral("NAME"));
    QCommandLineOption zoom(QStringLiteral("zoom"),
                            QStringLiteral("zoom the heap map in by this factor (around its top left) once shown"),
                            QStringLiteral("FACTOR"));
    QCommandLineOption scenario(QStringLiteral("scenario"),
                                QStringLiteral("record and follow a built-in scenario live ('spanscope-cli demo --list')"),
                                QStringLiteral("NAME"));
    QCommandLineOption attach(QStringLiteral("attach"),
                              QStringLiteral("attach to a running program that runs with spanscope ('spanscope-cli ps')"),
                              QStringLiteral("PID"));
    QCommandLineOption inspect(QStringLiteral("inspect"),
                               QStringLiteral("open the span inspector on the span holding this address (hex) once "
                                              "the session is shown (with --screenshot: taken with it open)"),
                               QStringLiteral("ADDR"));
    QCommandLineOption present(QStringLiteral("present"),
                               QStringLiteral("presenter mode: full screen, large type, a narration of the current "
                                              "record, single steps by keyboard (see the README); with no FILE, "
                                              "--scenario or --attach, plays the built-in scene"));
    QCommandLineOption scenes(QStringLiteral("scenes"),
                              QStringLiteral("presenter mode with this scene file (JSON steps: scenario, open, seek, "
                                             "step, caption, wait); Return advances it"),
                              QStringLiteral("FILE"));
    p.addOptions({shot, at, seek, demoSeconds, size, palette, view, zoom, scenario, attach, inspect, present, scenes});

    if (!p.parse(arguments)) return usageError(p.errorText());
    if (p.isSet(QStringLiteral("help")) || p.isSet(QStringLiteral("help-all"))) {
        QString help = p.helpText();  // no QCoreApplication yet: name the program ourselves
        help.replace(QStringLiteral("<executable_name>"), QStringLiteral("spanscope"));
        std::fputs(qPrintable(help), stdout);
        return 0;
    }
    if (p.isSet(QStringLiteral("version"))) {
        std::printf("spanscope %s\n", qPrintable(QCoreApplication::applicationVersion()));
        return 0;
    }
    if (p.isSet(palette)) {
        std::printf("class,size,rgb\n");
        for (int c = 0; c < spanscope::ui::kPaletteClasses; c++)
            std::printf("%d,%u,#%06x\n", c, unsigned(spanscope::kClassToSize[c]),
                        unsigned(spanscope::ui::sizeClassColor(c) & 0xffffff));
        return 0;
    }
    const QStringList files = p.positionalArguments();
    if (files.size() > 1) return usageError(QStringLiteral("one session FILE at most"));
    double atSeconds = -1, seekSeconds = -1, demoSecs = 120;
    if (p.isSet(at) && !parseSeconds(p.value(at), &atSeconds))
        return usageError(QStringLiteral("--at needs a number of seconds, not '%1'").arg(p.value(at)));
    if (p.isSet(at) && !p.isSet(shot)) return usageError(QStringLiteral("--at goes with --screenshot"));
    if (p.isSet(seek) && !parseSeconds(p.value(seek), &seekSeconds))
        return usageError(QStringLiteral("--seek needs a number of seconds, not '%1'").arg(p.value(seek)));
    if (p.isSet(demoSeconds) && (!parseSeconds(p.value(demoSeconds), &demoSecs) || demoSecs <= 0))
        return usageError(QStringLiteral("--demo-seconds needs a positive number of seconds"));
    const QStringList views{QStringLiteral("heapmap"), QStringLiteral("timeline"), QStringLiteral("fragmentation"),
                            QStringLiteral("sizeclasses"), QStringLiteral("session"), QStringLiteral("inspector")};
    if (p.isSet(view) && !views.contains(p.value(view)))
        return usageError(QStringLiteral("--view takes one of: %1").arg(views.join(QStringLiteral(", "))));
    double zoomFactor = 1;
    if (p.isSet(zoom) && (!parseSeconds(p.value(zoom), &zoomFactor) || zoomFactor < 1 || zoomFactor > 64))
        return usageError(QStringLiteral("--zoom needs a factor from 1 to 64"));
    QSize winSize(1440, 900);
    if (p.isSet(size)) {
        const QStringList wh = p.value(size).split(QLatin1Char('x'));
        bool ok1 = false, ok2 = false;
        if (wh.size() == 2) winSize = QSize(wh[0].toInt(&ok1), wh[1].toInt(&ok2));
        if (!ok1 || !ok2 || winSize.width() < 320 || winSize.height() < 240)
            return usageError(QStringLiteral("--size needs WIDTHxHEIGHT, e.g. 1440x900"));
    }

    uint64_t inspectAddr = 0;
    if (p.isSet(inspect)) {
        bool ok = false;
        inspectAddr = p.value(inspect).toULongLong(&ok, 16);
        if (!ok || !inspectAddr) return usageError(QStringLiteral("--inspect needs an address in hex, e.g. 0xc000402000"));
    }
    qint64 attachPid = 0;
    if (p.isSet(attach)) {
        bool ok = false;
        attachPid = p.value(attach).toLongLong(&ok);
        if (!ok || attachPid <= 0) return usageError(QStringLiteral("--attach needs a process id"));
    }
    spanscope::ui::Scene scene;
    if (p.isSet(scenes)) {  // a bad scene file is a usage error, said before any window opens
        QString why;
        if (!spanscope::ui::loadScene(p.value(scenes), &scene, &why)) return usageError(why);
    }
    const bool presenting = p.isSet(present) || p.isSet(scenes);
    const bool sourceGiven = attachPid || p.isSet(scenario) || !files.isEmpty();
    // With no source on the command line, the scene's first step (a scenario) starts the show;
    // otherwise the speaker starts the scene with Return.
    const bool sceneStarts = presenting && !sourceGiven;

    QApplication app(argc, argv);
    spanscope::ui::MainWindow w;
    w.resize(winSize);
    w.show();

    if (presenting) {
        w.presenter()->setActive(true);
        if (sceneStarts && scene.steps.isEmpty()) scene = spanscope::ui::defaultScene();  // after the resources
        if (!scene.steps.isEmpty()) w.presenter()->setScene(scene);
        if (sceneStarts) w.presenter()->advanceScene();
    }
    if (sceneStarts) {
        // the scene's first step opened the source
    } else if (attachPid) {
        w.startAttach(attachPid);  // a refusal (no such process, already attached) shows in the window
    } else if (p.isSet(scenario)) {
        w.startScenario(p.value(scenario), demoSecs);  // an unknown name shows the recorder's error
    } else if (files.isEmpty()) {
        w.startLiveDemo(demoSecs);  // an error shows in the window
    } else {
        w.openFile(files.first());
    }
    if (seekSeconds >= 0) {
        // Once the session is open, show the chosen moment instead of the end.
        auto conn = std::make_shared<QMetaObject::Connection>();
        *conn = QObject::connect(&w, &spanscope::ui::MainWindow::seriesShown, &w, [&w, seekSeconds, conn] {
            QObject::disconnect(*conn);
            w.seekTo(static_cast<int64_t>(seekSeconds * 1e9));
        });
    }

    if (inspectAddr) {  // at the moment shown (after --seek, if given)
        QObject::connect(&w, &spanscope::ui::MainWindow::momentShown, &w, [&w, inspectAddr, seekSeconds] {
            if (w.spanInspector()->target() || (seekSeconds >= 0 && std::abs(double(w.moment()->tNs) / 1e9 - seekSeconds) > 1e-6))
                return;
            w.inspectSpan(inspectAddr);
        });
    }

    if (zoomFactor > 1) {
        auto conn = std::make_shared<QMetaObject::Connection>();
        *conn = QObject::connect(&w, &spanscope::ui::MainWindow::momentShown, &w, [&w, zoomFactor, conn] {
            QObject::disconnect(*conn);
            auto* map = w.heapMap();
            const auto& l = map->layout();
            if (l.arenas().empty()) return;
            map->showAt(zoomFactor, QPointF(l.arenaRect(0).topLeft() - QPoint(2, 3)));
        });
    }

    if (p.isSet(shot)) {
        const QString out = p.value(shot);
        const QString panelName = p.value(view);
        // Taken when both: the delay has passed, and the window shows a session (or an error).
        // A watchdog takes it anyway 30 s after that, so a script never hangs.
        auto ready = std::make_shared<bool>(false), due = std::make_shared<bool>(atSeconds <= 0);
        auto take = [&w, out, ready, due, panelName] {
            if (!*ready || !*due) return;
            *ready = false;
            QWidget* target = panelName.isEmpty() ? static_cast<QWidget*>(&w) : w.panel(panelName);
            target->raise();  // a tabbed dock: bring its tab to the front
            QTimer::singleShot(300, &w, [out, target] {  // let the last updates paint
                const bool ok = target->grab().save(out, "PNG");
                if (!ok) std::fprintf(stderr, "spanscope: cannot write %s\n", qPrintable(out));
                QApplication::exit(ok ? 0 : 1);
            });
        };
        auto markReady = [ready, take] {
            *ready = true;
            take();
        };
        QObject::connect(&w, &spanscope::ui::MainWindow::errorShown, &w, markReady);
        QObject::connect(&w, &spanscope::ui::MainWindow::momentShown, &w, [&w, markReady, seekSeconds, inspectAddr] {
            if (inspectAddr) return;  // ready when the inspector shows its answer
            if (seekSeconds < 0 || std::abs(double(w.moment()->tNs) / 1e9 - seekSeconds) < 1e-6) markReady();
        });
        QObject::connect(&w, &spanscope::ui::MainWindow::spanInspected, &w, [&w, markReady, seekSeconds] {
            if (seekSeconds < 0 || std::abs(double(w.moment()->tNs) / 1e9 - seekSeconds) < 1e-6) markReady();
        });
        if (atSeconds > 0)
            QTimer::singleShot(static_cast<int>(atSeconds * 1000), &w, [due, take] {
                *due = true;
                take();
            });
        QTimer::singleShot(static_cast<int>((std::max(atSeconds, 0.0) + 30) * 1000), &w, [ready, due, take] {
            *ready = *due = true;
            take();
        });
    }
    return QApplication::exec();
}
