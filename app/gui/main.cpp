// spanscope: the GUI. `spanscope` runs the built-in live demo, `spanscope FILE` opens a session,
// `--screenshot PNG [--at SECONDS] [--seek SECONDS]` saves a picture of the window and exits;
// `--present [--scenes FILE]` starts in presenter mode (ui/presenter.h).
// Here: the flags, then the window, the source it shows and the screenshot harness, each in a
// small function. Everything else is in ui/ (MainWindow).
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cmath>
#include <cstdio>
#include <memory>

#include "cpu_state.h"
#include "main_window.h"
#include "palette.h"
#include "range_features.h"
#include "scene_script.h"
#include "spanscope/detail/sizeclasses.h"

namespace {
using spanscope::ui::MainWindow;
using spanscope::ui::ProfilePanel;

// What the command line asked for, checked.
struct Options {
    QStringList files;
    double atSeconds = -1, seekSeconds = -1, demoSeconds = 120, zoom = 1;
    QSize size;  // invalid: the size the window remembers, or one fitted to the screen
    QString screenshot, view, scenario, compare, profileFunction;
    double select0 = -1, select1 = -1;  // --select FROM:TO in seconds; -1: none
    qint64 attachPid = 0;
    uint64_t inspectAddr = 0;
    bool presenting = false, printPalette = false;
    spanscope::ui::Scene scene;
};

int usageError(const QString& msg) {
    std::fprintf(stderr, "spanscope: %s\nTry 'spanscope --help'.\n", qPrintable(msg));
    return 2;
}

// A number of seconds: finite and 0 <= v <= 1e9 (a time in ns must fit in int64; toDouble reads
// "inf" and "nan" as numbers, and !(v >= 0 && v <= 1e9) refuses both).
bool parseSeconds(const QString& s, double* out) {
    bool ok = false;
    const double v = s.toDouble(&ok);
    if (!ok || !std::isfinite(v) || !(v >= 0 && v <= 1e9))
        return false;  // also refuses nan and inf
    *out = v;
    return true;
}

QCommandLineOption opt(const char* name, const char* help, const char* value = nullptr) {
    return value ? QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(help),
                                      QString::fromLatin1(value))
                 : QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(help));
}

void addOptions(QCommandLineParser& p) {
    p.setApplicationDescription(QStringLiteral(
        "spanscope: heap maps, timelines and fragmentation charts of spanscope sessions.\n\n"
        "With no FILE, records the built-in live demo (a Python workload run through\n"
        "'spanscope-cli record') and follows it as it runs."));
    p.addHelpOption();
    p.addVersionOption();
    p.addPositionalArgument(QStringLiteral("FILE"),
                            QStringLiteral("a session file (recorded by 'spanscope-cli record')"),
                            QStringLiteral("[FILE]"));
    p.addOptions({
        opt("screenshot", "save a PNG of the whole window to PNG and exit (0 on success)", "PNG"),
        opt("at",
            "with --screenshot: take it this many seconds after start (default: as soon as the "
            "session is shown)",
            "SECONDS"),
        opt("seek", "show the session at this time (seconds from its start; past the end: the end)",
            "SECONDS"),
        opt("demo-seconds", "how long the live demo runs (default 120)", "SECONDS"),
        opt("size",
            "window size, e.g. 1440x900 (default: as last closed, else fitted to the screen)",
            "WxH"),
        opt("print-palette", "print the size-class colours as CSV (class,size,rgb) and exit"),
        opt("view",
            "with --screenshot: grab one panel only: heapmap, timeline, fragmentation, "
            "sizeclasses, session, "
            "profile, inspector (with --inspect), range, flow, or compare (with --compare)",
            "NAME"),
        opt("zoom",
            "zoom the heap map in by this factor (around the middle of the heap in use) once shown",
            "FACTOR"),
        opt("scenario", "record and follow a built-in scenario live ('spanscope-cli demo --list')",
            "NAME"),
        opt("attach", "attach to a running program that runs with spanscope ('spanscope-cli ps')",
            "PID"),
        opt("inspect",
            "open the span inspector on the span holding this address (hex) once the session is "
            "shown (with "
            "--screenshot: taken with it open)",
            "ADDR"),
        opt("profile",
            "show the Profile dock with this function searched and its heaviest frame selected "
            "(its spans "
            "outlined in the heap map; with --screenshot: taken once the profile is shown)",
            "FUNCTION"),
        opt("present",
            "presenter mode: full screen, large type, a narration of the current record, single "
            "steps by "
            "keyboard (see the README); with no FILE, --scenario or --attach, plays the built-in "
            "scene"),
        opt("scenes",
            "presenter mode with this scene file (JSON steps: scenario, open, seek, step, caption, "
            "wait); "
            "Return advances it",
            "FILE"),
        opt("compare",
            "open a compare window of FILE against this session (timelines overlaid, per-class "
            "deltas); "
            "with --screenshot and --view compare, grab it",
            "SESSION"),
        opt("select", "select the time range FROM:TO (seconds) on the timeline once shown",
            "FROM:TO"),
    });
}

// The numeric and enumerated flags; an empty string when all are well, else the complaint.
QString checkValues(const QCommandLineParser& p, Options* o) {
    auto has = [&](const char* n) { return p.isSet(QString::fromLatin1(n)); };
    auto val = [&](const char* n) { return p.value(QString::fromLatin1(n)); };
    if (has("at") && !parseSeconds(val("at"), &o->atSeconds))
        return QStringLiteral("--at needs a number of seconds (0 to 1e9), not '%1'").arg(val("at"));
    if (has("at") && !has("screenshot")) return QStringLiteral("--at goes with --screenshot");
    if (has("seek") && !parseSeconds(val("seek"), &o->seekSeconds))
        return QStringLiteral("--seek needs a number of seconds (0 to 1e9), not '%1'")
            .arg(val("seek"));
    if (has("demo-seconds") &&
        (!parseSeconds(val("demo-seconds"), &o->demoSeconds) || o->demoSeconds <= 0))
        return QStringLiteral("--demo-seconds needs a positive number of seconds");
    const QStringList views{QStringLiteral("heapmap"),       QStringLiteral("timeline"),
                            QStringLiteral("fragmentation"), QStringLiteral("sizeclasses"),
                            QStringLiteral("session"),       QStringLiteral("inspector"),
                            QStringLiteral("range"),         QStringLiteral("flow"),
                            QStringLiteral("compare"),       QStringLiteral("profile")};
    if (has("view") && !views.contains(val("view")))
        return QStringLiteral("--view takes one of: %1").arg(views.join(QStringLiteral(", ")));
    if (has("zoom") && (!parseSeconds(val("zoom"), &o->zoom) || o->zoom < 1 || o->zoom > 64))
        return QStringLiteral("--zoom needs a factor from 1 to 64");
    if (has("size")) {
        const QStringList wh = val("size").split(QLatin1Char('x'));
        bool ok1 = false, ok2 = false;
        if (wh.size() == 2) o->size = QSize(wh[0].toInt(&ok1), wh[1].toInt(&ok2));
        if (!ok1 || !ok2 || o->size.width() < 320 || o->size.height() < 240)
            return QStringLiteral("--size needs WIDTHxHEIGHT, e.g. 1440x900");
    }
    if (has("select")) {
        const QStringList ab = val("select").split(QLatin1Char(':'));
        if (ab.size() != 2 || !parseSeconds(ab[0], &o->select0) ||
            !parseSeconds(ab[1], &o->select1) || o->select1 <= o->select0)
            return QStringLiteral("--select needs FROM:TO in seconds, FROM before TO");
    }
    if (has("compare") && p.positionalArguments().isEmpty())
        return QStringLiteral("--compare needs a session FILE to compare with");
    if (has("inspect")) {
        bool ok = false;
        o->inspectAddr = val("inspect").toULongLong(&ok, 16);
        if (!ok || !o->inspectAddr)
            return QStringLiteral("--inspect needs an address in hex, e.g. 0xc000402000");
    }
    if (has("attach")) {
        bool ok = false;
        o->attachPid = val("attach").toLongLong(&ok);
        if (!ok || o->attachPid <= 0) return QStringLiteral("--attach needs a process id");
    }
    return {};
}

// Parses the command line into o. Returns -1 to go on, else the exit status (help, version, a
// usage error). Runs before the QApplication exists, so that these work without a display.
int parseOptions(const QStringList& arguments, Options* o) {
    QCommandLineParser p;
    addOptions(p);
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
    o->printPalette = p.isSet(QStringLiteral("print-palette"));
    o->files = p.positionalArguments();
    if (o->files.size() > 1) return usageError(QStringLiteral("one session FILE at most"));
    if (const QString why = checkValues(p, o); !why.isEmpty()) return usageError(why);
    o->screenshot = p.value(QStringLiteral("screenshot"));
    o->view = p.value(QStringLiteral("view"));
    o->scenario = p.value(QStringLiteral("scenario"));
    o->compare = p.value(QStringLiteral("compare"));
    o->profileFunction = p.value(QStringLiteral("profile"));
    if (p.isSet(QStringLiteral(
            "scenes"))) {  // a bad scene file is a usage error, said before any window opens
        QString why;
        if (!spanscope::ui::loadScene(p.value(QStringLiteral("scenes")), &o->scene, &why))
            return usageError(why);
    }
    o->presenting = p.isSet(QStringLiteral("present")) || p.isSet(QStringLiteral("scenes"));
    return -1;
}

int printPalette() {
    std::printf("class,size,rgb\n");
    for (int c = 0; c < spanscope::ui::kPaletteClasses; c++)
        std::printf("%d,%u,#%06x\n", c, unsigned(spanscope::kClassToSize[c]),
                    unsigned(spanscope::ui::sizeClassColor(c) & 0xffffff));
    return 0;
}

// Opens what the command line names: a file, a scenario, an attach, the scene's first step, or the
// live demo. Errors show in the window.
void startSource(MainWindow& w, Options& o) {
    const bool sourceGiven = o.attachPid || !o.scenario.isEmpty() || !o.files.isEmpty();
    // With no source on the command line, the scene's first step (a scenario) starts the show;
    // otherwise the speaker starts the scene with Return.
    const bool sceneStarts = o.presenting && !sourceGiven;
    if (o.presenting) {
        w.presenter()->setActive(true);
        if (sceneStarts && o.scene.steps.isEmpty())
            o.scene = spanscope::ui::defaultScene();  // after the resources
        if (!o.scene.steps.isEmpty()) w.presenter()->setScene(o.scene);
        if (sceneStarts) w.presenter()->advanceScene();  // its first step opens the source
        if (sceneStarts) return;
    }
    using spanscope::ui::LiveSource;
    if (o.attachPid)
        w.startLive(LiveSource::attach(o.attachPid));
    else if (!o.scenario.isEmpty())
        w.startLive(LiveSource::scenario(o.scenario, o.demoSeconds));
    else if (o.files.isEmpty())
        w.startLive(LiveSource::demo(o.demoSeconds));
    else
        w.openFile(o.files.first());
}

// The moment --seek asked for, once the session is open: clamped to the session (seekTo does), and
// remembered in *target so that the screenshot waits for that moment.
void applySeek(MainWindow& w, double seconds, std::shared_ptr<int64_t> target) {
    auto conn = std::make_shared<QMetaObject::Connection>();
    *conn = QObject::connect(&w, &MainWindow::seriesShown, &w, [&w, seconds, conn, target] {
        QObject::disconnect(*conn);
        *target = w.seekTo(static_cast<int64_t>(std::min(seconds * 1e9, 9e18)));
    });
}

bool atTarget(const MainWindow& w, const std::shared_ptr<int64_t>& target) {
    return !target || (*target >= 0 && w.moment() && w.moment()->tNs == *target);
}

void applyInspect(MainWindow& w, uint64_t addr, std::shared_ptr<int64_t> target) {
    QObject::connect(&w, &MainWindow::momentShown, &w, [&w, addr, target] {
        if (w.spanInspector()->target() || !atTarget(w, target)) return;
        w.inspectSpan(addr);
    });
}

// --select and --compare, once the session is shown.
void applyRange(MainWindow& w, const Options& o) {
    auto conn = std::make_shared<QMetaObject::Connection>();
    const QString other = o.compare;
    const double s0 = o.select0, s1 = o.select1;
    *conn = QObject::connect(&w, &MainWindow::seriesShown, &w, [&w, conn, other, s0, s1] {
        QObject::disconnect(*conn);
        if (s0 >= 0) w.timeline()->setSelection(int64_t(s0 * 1e9), int64_t(s1 * 1e9));
        if (!other.isEmpty()) w.rangeFeatures()->compareWith(other);
    });
}

// The profile at the shown moment: bring the Profile dock forward, search for the function and
// select its heaviest frame (the heap map outlines its spans).
bool profileAtMoment(const MainWindow& w) {
    const auto& p = w.profilePanel()->profile();
    return p && w.moment() && p->tNs == w.moment()->tNs;
}

void applyProfile(MainWindow& w, const QString& function, std::shared_ptr<int64_t> target) {
    // In front from the start: the panel folds the profile at a moment only while it is in view
    // (or the inspector or a selected frame needs it), so profileShown would not come otherwise.
    w.panel(QStringLiteral("profile"))->raise();
    QObject::connect(w.profilePanel(), &ProfilePanel::profileShown, &w, [&w, function, target] {
        if (!profileAtMoment(w) || !atTarget(w, target)) return;
        w.panel(QStringLiteral("profile"))->raise();
        w.profilePanel()->setSearch(function);
        w.profilePanel()->selectHeaviestMatch();
    });
}

void applyZoom(MainWindow& w, double factor) {
    auto conn = std::make_shared<QMetaObject::Connection>();
    *conn = QObject::connect(&w, &MainWindow::momentShown, &w, [&w, factor, conn] {
        QObject::disconnect(*conn);
        w.heapMap()->zoomToMiddle(factor);
    });
}

// Takes the screenshot when both: the delay has passed, and the window shows the session (at the
// --seek moment, with the inspector's answer if asked) or an error. A watchdog takes it anyway 30 s
// after that, so a script never hangs.
void armScreenshot(MainWindow& w, const Options& o, std::shared_ptr<int64_t> target) {
    const QString out = o.screenshot, panelName = o.view;
    auto ready = std::make_shared<bool>(false), due = std::make_shared<bool>(o.atSeconds <= 0);
    auto take = [&w, out, ready, due, panelName] {
        if (!*ready || !*due) return;
        *ready = false;
        QWidget* target = panelName.isEmpty() ? static_cast<QWidget*>(&w) : w.panel(panelName);
        if (panelName == QLatin1String("compare") && w.rangeFeatures()->lastCompare())
            target = w.rangeFeatures()->lastCompare();
        target->raise();                             // a tabbed dock: bring its tab to the front
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
    const bool inspecting = o.inspectAddr != 0, profiling = !o.profileFunction.isEmpty();
    QObject::connect(&w, &MainWindow::errorShown, &w, markReady);
    QObject::connect(&w, &MainWindow::momentShown, &w,
                     [&w, markReady, target, inspecting, profiling] {
                         if (!inspecting && !profiling && atTarget(w, target))
                             markReady();  // else: when the inspector answers
                     });
    QObject::connect(w.profilePanel(), &ProfilePanel::profileShown, &w,
                     [&w, markReady, target, profiling] {
                         if (profiling && profileAtMoment(w) && atTarget(w, target)) markReady();
                     });
    QObject::connect(&w, &MainWindow::spanInspected, &w, [&w, markReady, target] {
        if (atTarget(w, target)) markReady();
    });
    if (o.atSeconds > 0)
        QTimer::singleShot(static_cast<int>(o.atSeconds * 1000), &w, [due, take] {
            *due = true;
            take();
        });
    QTimer::singleShot(static_cast<int>((std::max(o.atSeconds, 0.0) + 30) * 1000), &w,
                       [ready, due, take] {
                           *ready = *due = true;
                           take();
                       });
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication::setApplicationName(QStringLiteral("spanscope"));
    QCoreApplication::setOrganizationName(QStringLiteral("spanscope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SPANSCOPE_VERSION));
    QStringList arguments;
    for (int i = 0; i < argc; i++) arguments << QString::fromLocal8Bit(argv[i]);
    Options o;
    if (const int status = parseOptions(arguments, &o); status >= 0) return status;
    if (o.printPalette) return printPalette();

    spanscope::ui::Application app(argc, argv);  // a QApplication (see cpu_state.h)
    MainWindow w;
    if (o.size.isValid())
        w.resize(o.size);
    else if (o.screenshot.isEmpty())
        w.restoreLayout();  // as last closed, else fitted to the screen
    w.show();
    startSource(w, o);
    // -1 until the seek is done; null when no --seek was given.
    const auto target = o.seekSeconds >= 0 ? std::make_shared<int64_t>(-1) : nullptr;
    if (target) applySeek(w, o.seekSeconds, target);
    if (o.inspectAddr) applyInspect(w, o.inspectAddr, target);
    if (o.zoom > 1) applyZoom(w, o.zoom);
    if (!o.compare.isEmpty() || o.select0 >= 0) applyRange(w, o);
    if (!o.profileFunction.isEmpty()) applyProfile(w, o.profileFunction, target);
    if (!o.screenshot.isEmpty()) armScreenshot(w, o, target);
    return QApplication::exec();
}
