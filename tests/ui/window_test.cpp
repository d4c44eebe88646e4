// Offscreen widget tests: the main window opens a known session and a real recording, seeks, and
// shows the expected tiles, table rows, charts and status; bad files give a banner, not a crash;
// the spanscope executable takes a non-blank --screenshot and refuses bad flags with status 2.
#include <gtest/gtest.h>

#include <QApplication>
#include <QFile>
#include <QLegendMarker>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>

#include "main_window.h"
#include "palette.h"
#include "ui_test_util.h"

using namespace spanscope;
using namespace spanscope::ui;
using namespace spanscope::uitest;

namespace {
// The colour the map shows at the centre of the page holding address a.
QRgb mapPixelAt(const HeapMapView& v, uint64_t a) {
    const auto cell = v.layout().cellOf(a);
    if (!cell) return 0;
    const QPointF px = v.viewport().toPixel(QPointF(*cell) + QPointF(0.5, 0.5));
    return v.image().pixel(px.toPoint());
}

bool waitMoment(MainWindow& w, int64_t t) {
    return waitFor([&] { return w.moment() && w.moment()->tNs == t; });
}
}  // namespace

TEST(MainWindowTest, OpensAKnownSessionAndSeeks) {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("known.spanscope"));
    ASSERT_TRUE(recordKnownSession(file.toStdString()));
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    QSignalSpy series(&w, &MainWindow::seriesShown);
    w.openFile(file);
    ASSERT_TRUE(waitMoment(w, 100));  // opens at the end of the session
    ASSERT_TRUE(waitFor([&] { return series.count() > 0; }));

    // The heap map: A half full (class 10), B full (class 5), the large span, released pages.
    HeapMapView& map = *w.heapMap();
    EXPECT_EQ(mapPixelAt(map, kA), shadedColor(sizeClassColor(10), 0.5));
    EXPECT_EQ(mapPixelAt(map, kB), sizeClassColor(5));
    EXPECT_EQ(mapPixelAt(map, kL), sizeClassColor(0));
    EXPECT_EQ(mapPixelAt(map, kA + 450 * 8192), colors::kReleased);
    const QPointF pxA = map.viewport().toPixel(QPointF(*map.layout().cellOf(kA)) + QPointF(0.5, 0.5));
    const QString tip = map.describeAt(pxA);
    EXPECT_TRUE(tip.contains(QLatin1String("size class 10"))) << tip.toStdString();
    EXPECT_TRUE(tip.contains(QLatin1String("128 B")));
    EXPECT_TRUE(tip.contains(QLatin1String("32 / 64")));
    EXPECT_TRUE(tip.contains(QLatin1String("mcentral partial, swept")));

    // The size-class table: three classes (large, 48 B, 128 B).
    EXPECT_EQ(w.sizeClasses()->proxy()->rowCount(), 3);
    EXPECT_EQ(w.fragmentation()->categories().size(), 2);  // small classes only
    EXPECT_TRUE(w.statusText().contains(QLatin1String("3 events")) ||
                w.statusText().contains(QLatin1String("events")));
    EXPECT_TRUE(w.statusText().contains(QLatin1String("4.00 MiB sys"))) << w.statusText().toStdString();
    EXPECT_TRUE(w.statusText().contains(QLatin1String("sweep generation 1"))) << w.statusText().toStdString();
    EXPECT_EQ(w.sessionPanel()->infoModel()->value(QStringLiteral("Ended")), QStringLiteral("exited with status 0"));
    EXPECT_TRUE(MainWindow::recentFiles().contains(QFileInfo(file).absoluteFilePath()));

    // Seek back to t = 30: only A, cached and empty; no heap sample yet.
    w.seekTo(30);
    ASSERT_TRUE(waitMoment(w, 30));
    EXPECT_EQ(mapPixelAt(map, kA), shadedColor(sizeClassColor(10), 0.0));
    EXPECT_EQ(w.sizeClasses()->proxy()->rowCount(), 1);
    EXPECT_TRUE(w.statusText().contains(QLatin1String("no sample yet"))) << w.statusText().toStdString();
    EXPECT_EQ(w.timeline()->cursorTime(), 30);

    // Stepping by sweep generation: the known session has one, starting at t = 90.
    EXPECT_TRUE(w.stepCycle(+1));
    ASSERT_TRUE(waitMoment(w, 90));
    EXPECT_FALSE(w.stepCycle(+1));  // none after it
    EXPECT_FALSE(w.stepCycle(-1));  // none before it

    // The timeline's cursor, dragged, seeks the window.
    QSignalSpy seeks(w.timeline(), &TimelineView::seek);
    const double x = w.timeline()->xOf(80);
    QMouseEvent press(QEvent::MouseButtonPress, QPointF(x, w.timeline()->height() / 2.0),
                      w.timeline()->mapToGlobal(QPointF(x, w.timeline()->height() / 2.0)), Qt::LeftButton,
                      Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(w.timeline()->viewport(), &press);
    ASSERT_EQ(seeks.count(), 1);
    const qint64 t = seeks.at(0).at(0).toLongLong();
    EXPECT_NEAR(double(t), 80.0, 2.0);
    ASSERT_TRUE(waitMoment(w, t));
}

TEST(MainWindowTest, BadFilesShowABannerNotACrash) {
    QTemporaryDir dir;
    MainWindow w;
    w.show();
    QSignalSpy errors(&w, &MainWindow::errorShown);
    w.openFile(dir.filePath(QStringLiteral("nope.spanscope")));
    ASSERT_TRUE(waitFor([&] { return errors.count() == 1; }));
    EXPECT_TRUE(w.bannerText().contains(QLatin1String("Cannot open the session"))) << w.bannerText().toStdString();
    EXPECT_TRUE(w.bannerText().contains(QLatin1String("No such file")));

    QFile f(dir.filePath(QStringLiteral("foreign.spanscope")));
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(4096, 'x'));
    f.close();
    w.openFile(f.fileName());
    ASSERT_TRUE(waitFor([&] { return errors.count() == 2; }));
    EXPECT_TRUE(w.bannerText().contains(QLatin1String("not a spanscope session")));
    EXPECT_EQ(w.moment(), nullptr);

    // A good file after a bad one clears the banner.
    const QString good = dir.filePath(QStringLiteral("good.spanscope"));
    ASSERT_TRUE(recordKnownSession(good.toStdString()));
    w.openFile(good);
    ASSERT_TRUE(waitMoment(w, 100));
    EXPECT_TRUE(w.bannerText().isEmpty()) << w.bannerText().toStdString();
}

// A real program recorded by spanscope-cli: open it, seek to the middle, and check the views agree
// with each other and with the reader.
TEST(MainWindowTest, RecordedProgramOpensAndSeeks) {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("workload.spanscope"));
    QProcess rec;
    rec.start(QStringLiteral(SPANSCOPE_CLI), {QStringLiteral("record"), QStringLiteral("-o"), file,
                                              QStringLiteral("--"), QStringLiteral(SPANSCOPE_WORKLOAD),
                                              QStringLiteral("--seconds"), QStringLiteral("0.5")});
    ASSERT_TRUE(rec.waitForFinished(60000));
    ASSERT_EQ(rec.exitCode(), 0) << rec.readAllStandardError().toStdString();

    MainWindow w;
    w.resize(1280, 800);
    w.show();
    w.openFile(file);
    ASSERT_TRUE(waitFor([&] { return w.moment() != nullptr; }, 20000));
    const int64_t end = w.summary()->info.endNs;
    ASSERT_GT(end, 0);
    const int64_t mid = end / 2;
    w.seekTo(mid);
    ASSERT_TRUE(waitFor([&] { return w.moment()->tNs == mid; }, 20000));
    const MomentPtr m = w.moment();

    std::string err;
    auto reader = session::SessionReader::open(file.toStdString(), &err);
    ASSERT_TRUE(reader) << err;
    auto spans = reader->spansAt(mid);
    size_t spanTiles = 0;
    for (const Tile& t : m->scene.tiles) spanTiles += t.kind == TileKind::Span || t.kind == TileKind::Large;
    // The map shows every span the reader returns, except one that overlaps an earlier one (the
    // replay can briefly hold a freed span and its reuse when their records arrive out of order;
    // the map keeps the lower one).
    std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) { return a.base < b.base; });
    size_t overlapping = 0;
    uint64_t reach = 0;
    for (const auto& s : spans) {
        if (s.base < reach) {
            overlapping++;
            continue;
        }
        reach = s.base + uint64_t{s.npages} * 8192;
    }
    EXPECT_EQ(spanTiles, spans.size() - overlapping);
    EXPECT_LT(overlapping, spans.size() / 50 + 1) << "the reader returned many overlapping spans";
    if (overlapping) std::printf("note: %zu of %zu spans overlap another at t=%lld\n", overlapping, spans.size(), (long long)mid);
    ASSERT_FALSE(spans.empty());
    // Every span's page shows its colour on the map.
    const HeapMapView& map = *w.heapMap();
    int checked = 0;
    for (const auto& s : spans) {
        const Tile* t = m->scene.tileAt(s.base);
        ASSERT_NE(t, nullptr);
        if (checked++ < 50) {
            EXPECT_NE(mapPixelAt(map, s.base), 0u);
        }
    }
    // The table's rows are the classes with spans, as the reader counts them.
    int classesWithSpans = 0;
    for (const auto& c : reader->classTotalsAt(mid)) classesWithSpans += c.spans > 0;
    EXPECT_EQ(w.sizeClasses()->proxy()->rowCount(), classesWithSpans);
    EXPECT_TRUE(w.statusText().contains(QLatin1String("heap "))) << w.statusText().toStdString();
}

TEST(SpanscopeExecutable, ScreenshotIsWrittenAndNotBlank) {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("known.spanscope"));
    ASSERT_TRUE(recordKnownSession(file.toStdString()));
    const QString png = dir.filePath(QStringLiteral("shot.png"));
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.filePath(QStringLiteral("config")));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(SPANSCOPE_GUI), {file, QStringLiteral("--screenshot"), png, QStringLiteral("--size"),
                                            QStringLiteral("1200x800")});
    ASSERT_TRUE(p.waitForFinished(60000));
    EXPECT_EQ(p.exitCode(), 0) << p.readAllStandardError().toStdString();
    QImage img(png);
    ASSERT_FALSE(img.isNull());
    EXPECT_GE(img.width(), 1200);
    // Not blank: many distinct colours, and the map's colours among them.
    QSet<QRgb> colours;
    bool large = false;
    for (int y = 0; y < img.height(); y += 3)
        for (int x = 0; x < img.width(); x += 3) {
            colours.insert(img.pixel(x, y));
            large |= img.pixel(x, y) == sizeClassColor(0);
        }
    EXPECT_GT(colours.size(), 50);
    EXPECT_TRUE(large);
}

TEST(SpanscopeExecutable, FlagsAndErrors) {
    auto run = [](const QStringList& args, QString* out = nullptr) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(SPANSCOPE_GUI), args);
        p.waitForFinished(30000);
        if (out) *out = QString::fromLocal8Bit(p.readAllStandardOutput() + p.readAllStandardError());
        return p.exitCode();
    };
    QString out;
    EXPECT_EQ(run({QStringLiteral("--help")}, &out), 0);
    EXPECT_TRUE(out.contains(QLatin1String("--screenshot")));
    EXPECT_EQ(run({QStringLiteral("--bogus")}, &out), 2);
    EXPECT_TRUE(out.contains(QLatin1String("bogus")));
    EXPECT_EQ(run({QStringLiteral("--screenshot")}, &out), 2);  // missing value
    EXPECT_EQ(run({QStringLiteral("a"), QStringLiteral("b")}, &out), 2);
    EXPECT_EQ(run({QStringLiteral("x.spanscope"), QStringLiteral("--screenshot"), QStringLiteral("y.png"),
                   QStringLiteral("--at"), QStringLiteral("soon")},
                  &out),
              2);
    // A missing file with --screenshot: the error is shown in the window, the picture still taken.
    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("err.png"));
    EXPECT_EQ(run({dir.filePath(QStringLiteral("missing.spanscope")), QStringLiteral("--screenshot"), png}, &out), 0)
        << out.toStdString();
    EXPECT_TRUE(QFile::exists(png));
}

// Live: a program recorded while the window watches. The session is opened as soon as the recorder
// has committed, the timeline follows the end while the program runs, and when it exits the
// window says so and the session stays browsable.
TEST(MainWindowTest, LiveRecordingIsFollowedToTheEnd) {
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    QSignalSpy moments(&w, &MainWindow::momentShown);
    // The GUI thread's longest stall while the session ingests: a 5 ms timer's largest gap.
    QElapsedTimer sinceTick;
    qint64 maxGapMs = 0;
    QTimer ticker;
    ticker.setInterval(5);
    QObject::connect(&ticker, &QTimer::timeout, [&] {
        if (sinceTick.isValid()) maxGapMs = std::max(maxGapMs, sinceTick.elapsed());
        sinceTick.restart();
    });
    qputenv("SPANSCOPE_CLI", SPANSCOPE_CLI);
    ASSERT_TRUE(w.startLive(QStringLiteral(SPANSCOPE_WORKLOAD), {QStringLiteral("--seconds"), QStringLiteral("2.5")}));
    ticker.start();
    ASSERT_TRUE(waitFor([&] { return w.summary() != nullptr; }, 20000)) << w.bannerText().toStdString();
    EXPECT_TRUE(w.summary()->live);
    EXPECT_TRUE(w.followingEnd());
    // While it runs, new moments keep arriving at the growing end.
    ASSERT_TRUE(waitFor([&] { return moments.count() >= 3; }, 20000));
    const int64_t early = w.moment()->tNs;
    ASSERT_TRUE(waitFor([&] { return w.summary() && !w.summary()->live; }, 30000));
    const int64_t end = w.summary()->info.endNs;
    ASSERT_TRUE(waitFor([&] { return w.moment() && w.moment()->tNs == end; }, 10000));
    EXPECT_GT(end, early);
    ticker.stop();
    std::printf("live: %lld events, %d moments shown, longest GUI-thread stall %lld ms\n",
                (long long)w.summary()->info.events, int(moments.count()), (long long)maxGapMs);
    // Stalls are a budget, measured by tests/ui/stall_bench, not asserted here: a loaded CI box
    // would make a timed assertion fail for reasons that are not the GUI's.
    EXPECT_TRUE(w.bannerText().contains(QLatin1String("ended"))) << w.bannerText().toStdString();
    EXPECT_EQ(w.sessionPanel()->infoModel()->value(QStringLiteral("Ended")), QStringLiteral("exited with status 0"));
    // Still browsable.
    w.seekTo(end / 2);
    ASSERT_TRUE(waitMoment(w, end / 2));
}

// A live recording whose program cannot run: the recorder's message is shown, nothing hangs.
TEST(MainWindowTest, LiveRecordingOfAMissingProgramSaysWhy) {
    MainWindow w;
    w.show();
    QSignalSpy errors(&w, &MainWindow::errorShown);
    qputenv("SPANSCOPE_CLI", SPANSCOPE_CLI);
    ASSERT_TRUE(w.startLive(QStringLiteral("/nonexistent/program"), {}));
    ASSERT_TRUE(waitFor([&] { return errors.count() >= 1; }, 20000));
    EXPECT_TRUE(w.bannerText().contains(QLatin1String("ended before any data"))) << w.bannerText().toStdString();
    EXPECT_EQ(w.moment(), nullptr);
}

// The timeline draws a GC cycle's phases as bands: concurrent mark orange, the stop-the-world
// pauses red (with a tick at the top); the legend names them only when the series has GC cycles.
TEST(TimelineTest, GcCycleBandsByPhase) {
    TimelineView v;
    v.resize(900, 300);
    v.show();
    v.setSessionLength(1000);
    auto s = std::make_shared<SeriesSnapshot>();
    s->t0 = 0, s->t1 = 1000;
    session::GcCycle c;
    c.cycle = 1, c.kind = "gc", c.startNs = 200, c.endNs = 700, c.stwNs = 150;
    s->cycles.push_back(c);
    auto phase = [&](const char* name, int64_t t) {
        session::GcPhase p;
        p.cycle = 1, p.phase = name, p.tNs = t;
        s->phases.push_back(p);
    };
    phase("sweep-termination", 200);  // pause 200..300
    phase("mark", 300);               // concurrent mark 300..600
    phase("mark-termination", 600);   // pause 600..700
    phase("off", 700);
    v.setSeries(s);
    v.setCursorTime(950);
    QApplication::processEvents();
    const QImage img = v.grab().toImage();
    const double y = v.chart()->plotArea().center().y();
    auto at = [&](int64_t t) { return QColor(img.pixel(QPoint(int(v.xOf(t)), int(y)))); };
    const QColor mark = at(450), stw = at(650), none = at(850);
    EXPECT_GT(mark.red(), mark.blue() + 20) << "mark band: " << qPrintable(mark.name());
    EXPECT_GT(mark.green(), stw.green() + 20) << "mark (orange) vs pause (red)";
    EXPECT_GT(stw.red(), stw.green() + 40) << "pause band: " << qPrintable(stw.name());
    EXPECT_GT(none.green(), mark.green() - 5);
    EXPECT_GT(none.blue(), mark.blue() + 20) << "no band after the cycle: " << qPrintable(none.name());
    int legendGc = 0;
    for (QLegendMarker* m : v.chart()->legend()->markers())
        if (m->isVisible() && m->label().startsWith(QStringLiteral("GC"))) legendGc++;
    EXPECT_EQ(legendGc, 2);
    v.setSeries(nullptr);
    legendGc = 0;
    for (QLegendMarker* m : v.chart()->legend()->markers())
        if (m->isVisible() && m->label().startsWith(QStringLiteral("GC"))) legendGc++;
    EXPECT_EQ(legendGc, 0);
}

// Fragmentation splits a class's objects in use into the bytes requested and the slot padding
// (from the class counters' requested / (mallocs x size)); without requested bytes (an older
// session) there is no padding to show.
TEST(FragmentationTest, RequestedVersusSlotBytes) {
    FragmentationView v;
    v.resize(700, 600);
    auto m = std::make_shared<MomentSnapshot>();
    session::ClassTotals a;
    a.sizeClass = 5, a.size = 48, a.spans = 1, a.spanBytes = 8192, a.objects = 100, a.bytesInUse = 4800;
    a.freeSlotBytes = 70 * 48, a.tailWaste = 32, a.mallocs = 1000, a.requestedBytes = 36000;  // 75% asked for
    session::ClassTotals b = a;
    b.sizeClass = 3, b.size = 24, b.bytesInUse = 2400, b.requestedBytes = 0;  // not counted
    m->classes = {b, a};
    v.setMoment(m);
    ASSERT_EQ(v.categories().size(), 2);
    const int ia = v.categories().indexOf(QStringLiteral("48 B · 8.00 KiB")), ib = 1 - ia;
    ASSERT_GE(ia, 0) << qPrintable(v.categories().join(QStringLiteral(" | ")));
    EXPECT_DOUBLE_EQ(v.values(0)[ia], 3600.0);  // requested
    EXPECT_DOUBLE_EQ(v.values(1)[ia], 1200.0);  // slot padding
    EXPECT_DOUBLE_EQ(v.values(2)[ia], 70.0 * 48);
    EXPECT_DOUBLE_EQ(v.values(3)[ia], 32.0);
    EXPECT_DOUBLE_EQ(v.values(0)[ib], 2400.0);
    EXPECT_DOUBLE_EQ(v.values(1)[ib], 0.0);
}
