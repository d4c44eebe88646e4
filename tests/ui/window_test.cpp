// Offscreen widget tests: the main window opens a known session and a real recording, seeks, and
// shows the expected tiles, table rows, charts and status; bad files give a banner, not a crash;
// the spanscope executable takes a non-blank --screenshot and refuses bad flags with status 2.
#include <gtest/gtest.h>

#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QHeaderView>
#include <QLayout>
#include <QLegendMarker>
#include <QProcess>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>

#include "main_window.h"
#include "palette.h"
#include "presenter.h"
#include "ui_test_util.h"

using namespace spanscope;
using namespace spanscope::ui;
using namespace spanscope::uitest;

namespace {
// The colour the map shows in the page holding address a, this far down it (0 top, 1 bottom):
// zoomed in, a span's occupancy is a fill height (its class colour from the bottom).
QRgb mapPixelAt(const HeapMapView& v, uint64_t a, double down = 0.5) {
    const auto cell = v.layout().cellOf(a);
    if (!cell) return 0;
    const QPointF px = v.viewport().toPixel(QPointF(*cell) + QPointF(0.5, down));
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
    EXPECT_EQ(mapPixelAt(map, kA, 0.8), sizeClassColor(10));  // half full: the lower half
    EXPECT_EQ(mapPixelAt(map, kA, 0.15), shadedColor(sizeClassColor(10), 0.0));  // and empty above
    EXPECT_EQ(mapPixelAt(map, kB, 0.15), sizeClassColor(5));
    EXPECT_EQ(mapPixelAt(map, kL), sizeClassColor(0));
    EXPECT_EQ(mapPixelAt(map, kA + 450 * 8192), colors::kReleased);
    const QPointF pxA =
        map.viewport().toPixel(QPointF(*map.layout().cellOf(kA)) + QPointF(0.5, 0.5));
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
    EXPECT_TRUE(w.statusText().contains(QLatin1String("heap sys 4.00 MiB")))
        << w.statusText().toStdString();
    EXPECT_TRUE(w.statusText().contains(QLatin1String("allocated 56.6 KiB")))
        << w.statusText().toStdString();
    EXPECT_TRUE(w.statusText().contains(QLatin1String("in spans 56.0 KiB")))
        << w.statusText().toStdString();
    EXPECT_TRUE(w.statusText().contains(QLatin1String("sweep generation 1")))
        << w.statusText().toStdString();
    EXPECT_EQ(w.sessionPanel()->infoModel()->value(QStringLiteral("Ended")),
              QStringLiteral("exited with status 0"));
    EXPECT_TRUE(MainWindow::recentFiles().contains(QFileInfo(file).absoluteFilePath()));

    // --seek past the end shows the end; Save As copies the file.
    EXPECT_EQ(w.seekTo(99'000'000'000), 100);
    EXPECT_EQ(w.seekTo(-5), 0);
    const QString copy = dir.filePath(QStringLiteral("copy.spanscope"));
    ASSERT_TRUE(w.saveSessionAs(copy));
    EXPECT_EQ(QFileInfo(copy).size(), QFileInfo(file).size());
    EXPECT_TRUE(MainWindow::recentFiles().contains(QFileInfo(copy).absoluteFilePath()));
    // A click on a class in the legend: only that class in colour on the map.
    w.setClassFilter(5);
    EXPECT_EQ(map.classFilter(), 5);
    w.setClassFilter(-1);

    // Seek back to t = 30: only A, cached and empty; no heap sample yet.
    w.seekTo(30);
    ASSERT_TRUE(waitMoment(w, 30));
    EXPECT_EQ(mapPixelAt(map, kA, 0.8), shadedColor(sizeClassColor(10), 0.0));
    EXPECT_EQ(w.sizeClasses()->proxy()->rowCount(), 1);
    EXPECT_TRUE(w.statusText().contains(QLatin1String("no sample yet")))
        << w.statusText().toStdString();
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
                      w.timeline()->mapToGlobal(QPointF(x, w.timeline()->height() / 2.0)),
                      Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(w.timeline()->viewport(), &press);
    ASSERT_EQ(seeks.count(), 1);
    const qint64 t = seeks.at(0).at(0).toLongLong();
    EXPECT_NEAR(double(t), 80.0, 2.0);
    ASSERT_TRUE(waitMoment(w, t));
}

// Malloc mode refines a generation's trigger once it is swept: the status bar's "next sweep at"
// is the newest of the generation's trigger and the heap sample's NextSweep, so that it agrees with
// the timeline's line and `report` (it said the generation's first trigger all along).
TEST(MainWindowTest, NextSweepIsTheRefinedTriggerOnceSampled) {
    using test::makeEvent;
    auto t = [](uint64_t ns) { return kStart + ns; };
    test::StreamBuilder b(kStart);
    b.frame({makeEvent(t(1), static_cast<EventKind>(stream::kRundownBegin)),
             makeEvent(t(1), static_cast<EventKind>(stream::kRundownEnd)),
             makeEvent(t(10), EventKind::SweepCycle, 0, 0, 0, 4, 1 << 20, 4 << 20)});
    b.frame({makeEvent(t(50), static_cast<EventKind>(stream::kHeapSizes), 123456, 0, 1, 4 << 20,
                       5 << 20, 202, 5 << 20),
             makeEvent(t(50), static_cast<EventKind>(stream::kHeapCounts), 0, 0, 0, 300, 98, 60000,
                       1 << 20),
             makeEvent(t(50), EventKind::HeapTotals, 0, 0, 0, 58000, 7 * 8192, (4 << 20) - 7 * 8192,
                       1 << 20),
             makeEvent(t(100), EventKind::ThreadExit)});
    b.trailer();
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("refined.spanscope"));
    ASSERT_TRUE(recordStream(file.toStdString(), b.bytes));
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    w.openFile(file);
    ASSERT_TRUE(waitFor([&] { return w.moment() && w.moment()->tNs == 100; }));
    EXPECT_TRUE(w.statusText().contains(QLatin1String("next sweep at 5.00 MiB")))
        << w.statusText().toStdString();
    ASSERT_EQ(w.seekTo(20), 20);  // before the sample: the generation's own trigger
    ASSERT_TRUE(waitFor([&] { return w.moment() && w.moment()->tNs == 20; }));
    EXPECT_TRUE(w.statusText().contains(QLatin1String("next sweep at 4.00 MiB")))
        << w.statusText().toStdString();
}

TEST(MainWindowTest, BadFilesShowABannerNotACrash) {
    QTemporaryDir dir;
    MainWindow w;
    w.show();
    QSignalSpy errors(&w, &MainWindow::errorShown);
    w.openFile(dir.filePath(QStringLiteral("nope.spanscope")));
    ASSERT_TRUE(waitFor([&] { return errors.count() == 1; }));
    EXPECT_TRUE(w.bannerText().contains(QLatin1String("Cannot open the session")))
        << w.bannerText().toStdString();
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
    rec.start(
        QStringLiteral(SPANSCOPE_CLI),
        {QStringLiteral("record"), QStringLiteral("-o"), file, QStringLiteral("--"),
         QStringLiteral(SPANSCOPE_WORKLOAD), QStringLiteral("--seconds"), QStringLiteral("0.5")});
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
    for (const Tile& t : m->scene.tiles)
        spanTiles += t.kind == TileKind::Span || t.kind == TileKind::Large;
    // The map shows every span the reader returns, except one that overlaps an earlier one (the
    // replay can briefly hold a freed span and its reuse when their records arrive out of order;
    // the map keeps the lower one).
    std::sort(spans.begin(), spans.end(),
              [](const auto& a, const auto& b) { return a.base < b.base; });
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
    if (overlapping)
        std::printf("note: %zu of %zu spans overlap another at t=%lld\n", overlapping, spans.size(),
                    (long long)mid);
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
    p.start(QStringLiteral(SPANSCOPE_GUI), {file, QStringLiteral("--screenshot"), png,
                                            QStringLiteral("--size"), QStringLiteral("1200x800")});
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
        if (out)
            *out = QString::fromLocal8Bit(p.readAllStandardOutput() + p.readAllStandardError());
        return p.exitCode();
    };
    QString out;
    EXPECT_EQ(run({QStringLiteral("--help")}, &out), 0);
    EXPECT_TRUE(out.contains(QLatin1String("--screenshot")));
    EXPECT_EQ(run({QStringLiteral("--bogus")}, &out), 2);
    EXPECT_TRUE(out.contains(QLatin1String("bogus")));
    EXPECT_EQ(run({QStringLiteral("--screenshot")}, &out), 2);  // missing value
    EXPECT_EQ(run({QStringLiteral("a"), QStringLiteral("b")}, &out), 2);
    EXPECT_EQ(run({QStringLiteral("x.spanscope"), QStringLiteral("--screenshot"),
                   QStringLiteral("y.png"), QStringLiteral("--at"), QStringLiteral("soon")},
                  &out),
              2);
    // A missing file with --screenshot: the error is shown in the window, the picture still taken.
    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("err.png"));
    EXPECT_EQ(run({dir.filePath(QStringLiteral("missing.spanscope")),
                   QStringLiteral("--screenshot"), png},
                  &out),
              0)
        << out.toStdString();
    EXPECT_TRUE(QFile::exists(png));
}

// Live: a program recorded while the window watches. The session is opened as soon as the recorder
// has committed, the timeline follows the end while the program runs, and when it exits the
// window says so and the session stays browsable.
// A bounded recording (--keep) opens with the timeline marking where its kept part begins; a seek
// before it shows that first kept moment, as the cursor and the status say.
TEST(MainWindowTest, BoundedRecordingOpensAtItsKeptPart) {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("bounded.spanscope"));
    QProcess rec;
    rec.start(QStringLiteral(SPANSCOPE_CLI),
              {QStringLiteral("demo"), QStringLiteral("live"), QStringLiteral("--seconds"),
               QStringLiteral("4"), QStringLiteral("--keep"), QStringLiteral("1s"),
               QStringLiteral("-o"), file});
    ASSERT_TRUE(rec.waitForFinished(120000));
    ASSERT_EQ(rec.exitCode(), 0) << rec.readAllStandardError().toStdString();
    std::string err;
    auto reader = session::SessionReader::open(file.toStdString(), &err);
    ASSERT_TRUE(reader) << err;
    const int64_t kept = reader->info().keptFromNs;
    ASSERT_GT(kept, 0) << "the recording kept everything";

    MainWindow w;
    w.resize(1280, 800);
    w.show();
    w.openFile(file);
    ASSERT_TRUE(waitFor([&] { return w.moment() != nullptr; }, 20000));
    EXPECT_EQ(w.timeline()->keptFrom(), kept);
    EXPECT_EQ(w.seekTo(0), kept);
    ASSERT_TRUE(waitMoment(w, kept));
    EXPECT_EQ(w.timeline()->cursorTime(), kept);
    // The heap sample in effect there was kept with it.
    EXPECT_FALSE(w.statusText().contains(QLatin1String("no sample yet")))
        << w.statusText().toStdString();
    const std::vector<session::SpanRecord> spans = reader->spansAt(kept);
    size_t tiles = 0;
    for (const Tile& t : w.moment()->scene.tiles)
        tiles += t.kind == TileKind::Span || t.kind == TileKind::Large;
    EXPECT_GT(tiles, 0u);
    EXPECT_LE(tiles, spans.size());
}

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
    ASSERT_TRUE(w.startLive(LiveSource::program(
        QStringLiteral(SPANSCOPE_WORKLOAD), {QStringLiteral("--seconds"), QStringLiteral("2.5")})));
    ticker.start();
    ASSERT_TRUE(waitFor([&] { return w.summary() != nullptr; }, 20000))
        << w.bannerText().toStdString();
    EXPECT_TRUE(w.summary()->live);
    EXPECT_TRUE(w.followingEnd());
    // While it runs, new moments keep arriving at the growing end.
    ASSERT_TRUE(waitFor([&] { return moments.count() >= 3; }, 20000));
    // Kept in the user's data folder, not /tmp.
    EXPECT_TRUE(w.sessionPath().startsWith(LiveRecording::recordingsDir()))
        << w.sessionPath().toStdString();
    // The lines reach the cursor (the series come once a second, the moments four times as often).
    ASSERT_TRUE(waitFor([&] { return w.timeline()->series(0)->count() > 1 && w.moment(); }, 10000));
    ASSERT_TRUE(waitFor(
        [&] {
            const auto* s = w.timeline()->series(0);
            return std::abs(s->at(s->count() - 1).x() - double(w.moment()->tNs) / 1e9) < 1e-6;
        },
        5000));
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
    EXPECT_EQ(w.sessionPanel()->infoModel()->value(QStringLiteral("Ended")),
              QStringLiteral("exited with status 0"));
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
    ASSERT_TRUE(w.startLive(LiveSource::program(QStringLiteral("/nonexistent/program"), {})));
    ASSERT_TRUE(waitFor([&] { return errors.count() >= 1; }, 20000));
    EXPECT_TRUE(w.bannerText().contains(QLatin1String("ended before any data")))
        << w.bannerText().toStdString();
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
    EXPECT_GT(none.blue(), mark.blue() + 20)
        << "no band after the cycle: " << qPrintable(none.name());
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

// A bounded recording dropped its beginning: the timeline hatches the part before keptFrom and
// the cursor, clicked there, stops at the first kept moment.
TEST(TimelineTest, BoundedRecordingShowsWhereTheKeptPartBegins) {
    TimelineView v;
    v.resize(900, 300);
    v.show();
    v.setSessionLength(1000);
    v.setSeries(std::make_shared<SeriesSnapshot>());
    v.setCursorTime(950);
    QApplication::processEvents();
    const double y = v.chart()->plotArea().center().y();
    auto column = [&](const QImage& img, int64_t t) {  // the mean grey of a few pixels of a column
        int sum = 0;
        for (int dy = -20; dy <= 20; dy++)
            sum += qGray(img.pixel(QPoint(int(v.xOf(t)), int(y) + dy)));
        return sum / 41;
    };
    const QImage before = v.grab().toImage();
    v.setKeptFrom(400);
    QApplication::processEvents();
    const QImage after = v.grab().toImage();
    EXPECT_LT(column(after, 200), column(before, 200) - 5) << "the part not kept is hatched";
    EXPECT_EQ(column(after, 700), column(before, 700)) << "the kept part is drawn as before";

    QSignalSpy seeks(&v, &TimelineView::seek);
    const double x = v.xOf(100);
    QMouseEvent press(QEvent::MouseButtonPress, QPointF(x, y), v.mapToGlobal(QPointF(x, y)),
                      Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(v.viewport(), &press);
    ASSERT_EQ(seeks.count(), 1);
    EXPECT_EQ(seeks.at(0).at(0).toLongLong(), 400);
}

// Fragmentation splits a class's objects in use into the bytes requested and the slot padding
// (from the class counters' requested / (mallocs x size)); without requested bytes (an older
// session) there is no padding to show.
TEST(FragmentationTest, RequestedVersusSlotBytes) {
    FragmentationView v;
    v.resize(700, 600);
    auto m = std::make_shared<MomentSnapshot>();
    session::ClassTotals a;
    a.sizeClass = 5, a.size = 48, a.spans = 1, a.spanBytes = 8192, a.objects = 100,
    a.bytesInUse = 4800;
    a.freeSlotBytes = 70 * 48, a.tailWaste = 32, a.mallocs = 1000,
    a.requestedBytes = 36000;  // 75% asked for
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

// The per-class bars: as many as their labels have room for, the classes holding the most span
// bytes; more again when the chart grows. (Qt Charts leaves out every other category label when
// they overlap: ten bars in a chart 140 px high, as at 1024x640 under a window manager, showed five
// labels.)
TEST(FragmentationTest, ShowsAsManyClassesAsTheirLabelsFit) {
    FragmentationView v;
    v.resize(420, 260);
    v.show();
    auto m = std::make_shared<MomentSnapshot>();
    for (int c = 1; c <= 14; c++) {
        session::ClassTotals t;
        t.sizeClass = c, t.size = uint32_t(16 * c), t.spans = 1, t.spanBytes = 8192u * c;
        t.bytesInUse = 4096u * c;
        m->classes.push_back(t);
    }
    v.setMoment(m);
    auto fits = [&] {
        const int labelH = QFontMetrics(v.classLabelsFont()).height();
        return v.categories().size() * labelH <= v.classPlotArea().height();
    };
    ASSERT_TRUE(waitFor([&] { return v.classPlotArea().height() > 0 && fits(); }))
        << v.categories().size() << " bars in " << v.classPlotArea().height() << " px";
    const qsizetype small = v.categories().size();
    EXPECT_GE(small, 3);
    EXPECT_LT(small, FragmentationView::kMaxClasses);
    // The largest classes are the ones kept: class 14 (the most span bytes) is shown.
    EXPECT_TRUE(v.categories().contains(QStringLiteral("224 B · 112.0 KiB")))
        << qPrintable(v.categories().join(QLatin1String(" | ")));
    v.resize(420, 900);
    EXPECT_TRUE(waitFor([&] { return v.categories().size() == FragmentationView::kMaxClasses; }))
        << v.categories().size();
    EXPECT_TRUE(fits());
}

// The over-time chart's value axes: as many ticks as their labels have height for (at 1024x640
// the chart beside the heap map was about 70 px high and Qt Charts elided all five labels of each
// axis to "…"); five again when it grows.
TEST(FragmentationTest, OverTimeValueLabelsHaveRoom) {
    FragmentationView v;
    v.resize(420, 380);  // the per-class chart takes most of it: the over-time plot is short
    v.show();
    auto room = [&] {
        const double lineH = QFontMetricsF(v.valueLabelsFont()).height();
        const double plotH = v.timePlotArea().height();
        return plotH > 0 && (v.valueTicks() - 1) * lineH <= plotH;
    };
    ASSERT_TRUE(waitFor(room)) << v.valueTicks() << " ticks in " << v.timePlotArea().height()
                               << " px";
    EXPECT_LT(v.valueTicks(), 5) << v.timePlotArea().height() << " px";
    v.resize(420, 1400);
    EXPECT_TRUE(waitFor([&] { return v.valueTicks() == 5; })) << v.timePlotArea().height();
    EXPECT_TRUE(room());
}

// From 1024x640 to 2560x1440: every dock on screen and usable, no status figure, legend entry or
// table header cut, the window no larger than asked (a screenshot of each is taken and checked
// not blank). On a real multi-threaded demo recording, so that the figures have their real widths.
TEST(LayoutTest, FitsEveryScreenSize) {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("live.spanscope"));
    QProcess rec;
    rec.start(QStringLiteral(SPANSCOPE_CLI),
              {QStringLiteral("demo"), QStringLiteral("live"), QStringLiteral("--seconds"),
               QStringLiteral("1"), QStringLiteral("-o"), file});
    ASSERT_TRUE(rec.waitForFinished(60000) && rec.exitCode() == 0) << rec.readAll().toStdString();
    for (const QSize size : {QSize(1024, 640), QSize(1366, 768), QSize(2560, 1440)}) {
        SCOPED_TRACE(std::to_string(size.width()) + "x" + std::to_string(size.height()));
        MainWindow w;
        w.layoutFor(size);  // as fitToScreen does on a screen of this size
        w.show();
        w.openFile(file);
        ASSERT_TRUE(waitFor([&] {
            return w.moment() && w.summary() && w.moment()->tNs == w.summary()->info.endNs;
        }));
        w.seekTo(w.summary()->info.endNs / 2);
        ASSERT_TRUE(waitMoment(w, w.summary()->info.endNs / 2));
        waitFor([] { return false; }, 300);  // let the side panels and the layout settle
        EXPECT_EQ(w.size(), size) << "the window's minimum size is " << w.minimumSizeHint().width()
                                  << "x" << w.minimumSizeHint().height();
        for (QDockWidget* d : w.findChildren<QDockWidget*>()) {
            if (d->isHidden()) continue;  // closed (the span inspector until a span is clicked)
            const std::string name = d->objectName().toStdString();
            if (d->visibleRegion().isEmpty()) {  // a tab behind another: that one must be shown
                const auto tabs = w.tabifiedDockWidgets(d);
                EXPECT_TRUE(std::any_of(tabs.begin(), tabs.end(), [](QDockWidget* o) {
                    return !o->visibleRegion().isEmpty();
                })) << name;
                continue;
            }
            const QRect g(d->mapTo(&w, QPoint(0, 0)), d->size());
            EXPECT_TRUE(w.rect().contains(g)) << name;
            EXPECT_GE(g.width(), 200) << name;
            EXPECT_GE(g.height(), 110) << name;
        }
        EXPECT_TRUE(w.clippedStatusTexts().isEmpty())
            << w.clippedStatusTexts().join(QLatin1Char('|')).toStdString();
        const auto* legend = w.findChild<HeapMapLegend*>();
        ASSERT_NE(legend, nullptr);
        size_t classesShown = 0, classesPresent = 0;
        for (const auto& e : legend->entries(legend->width())) {
            EXPECT_LE(e.rect.right(), legend->width()) << e.text.toStdString();
            classesShown += e.sizeClass > 0;
        }
        for (const auto& c : w.moment()->classes) classesPresent += c.spans && c.sizeClass > 0;
        EXPECT_EQ(classesShown, classesPresent);  // every class, none cut off with "..."
        // The per-class fragmentation bars: no more than their labels have room for (Qt Charts
        // leaves out every other label when they overlap: it did at 1024x640 with ten bars).
        {
            FragmentationView* frag = w.fragmentation();
            if (frag->compact()) frag->findChild<QTabWidget*>()->setCurrentIndex(0);
            waitFor([] { return false; }, 100);
            const QRectF plot = frag->classPlotArea();
            const int labelH = QFontMetrics(frag->classLabelsFont()).height();
            EXPECT_GE(frag->categories().size(), 3) << plot.height();
            EXPECT_LE(frag->categories().size() * labelH, plot.height())
                << frag->categories().size() << " bars in " << plot.height() << " px";
        }
        // The legend's scroll area shows whole rows: none cut through (the rest scrolls).
        const QWidget* port = legend->parentWidget();  // the scroll area's viewport
        for (const auto& e : legend->entries(legend->width()))
            EXPECT_TRUE(e.rect.bottom() < port->height() || e.rect.top() >= port->height())
                << "legend row cut at " << port->height() << " px: " << e.text.toStdString();
        w.panel(QStringLiteral("sizeclasses"))->raise();  // its tab to the front
        waitFor([] { return false; }, 100);
        QTableView* table = w.sizeClasses()->view();
        QHeaderView* header = table->horizontalHeader();
        const QAbstractItemModel* model = table->model();
        int columns = 0;  // every column in view, the last one (Waste) too
        for (int c = 0; c < header->count(); c++) columns += header->sectionSize(c);
        EXPECT_LE(columns, table->viewport()->width() + 1);
        for (int c = 0; c < header->count(); c++) {
            const QString title = model->headerData(c, Qt::Horizontal).toString();
            EXPECT_GE(header->sectionSize(c), header->fontMetrics().horizontalAdvance(title))
                << title.toStdString();
            for (int r = 0; r < model->rowCount(); r++) {
                const QString cell = model->index(r, c).data().toString();
                EXPECT_GE(table->columnWidth(c), table->fontMetrics().horizontalAdvance(cell))
                    << cell.toStdString();
            }
        }
        const QImage shot = w.grab().toImage();
        EXPECT_EQ(shot.size(), size * w.devicePixelRatio());
        EXPECT_TRUE(shot.save(dir.filePath(QStringLiteral("layout-%1.png").arg(size.width()))));
        EXPECT_GT(std::count_if(shot.bits(), shot.bits() + 4096,
                                [&](uchar b) { return b != shot.bits()[0]; }),
                  0);
        // Every span on the map: the view fits the range in use.
        const QRect used = usedCells(w.moment()->scene, w.heapMap()->layout());
        const QRectF px(w.heapMap()->viewport().toPixel(used.topLeft()),
                        w.heapMap()->viewport().toPixel(used.bottomRight() + QPoint(1, 1)));
        EXPECT_TRUE(QRectF(w.heapMap()->rect()).adjusted(-1, -1, 1, 1).contains(px));
        EXPECT_GT(px.width() * px.height(),
                  0.3 * w.heapMap()->width() * w.heapMap()->height() * 0.3);
    }
}

// The y axis takes the unit that fits (a 600 KiB heap is not drawn on a 0-20 MiB axis), and in
// live mode the lines reach the cursor (setTail).
TEST(TimelineTest, SmallHeapsGetTheirUnitAndTheLinesReachTheCursor) {
    TimelineView v;
    v.resize(900, 300);
    v.show();
    v.setSessionLength(2'000'000'000);
    auto s = std::make_shared<SeriesSnapshot>();
    s->t0 = 0, s->t1 = 2'000'000'000;
    for (int i = 0; i <= 10; i++) {
        session::HeapSample h;
        h.tNs = i * 100'000'000;
        h.heapSys = h.heapInuse = 600 * 1024;
        h.heapLive = 400 * 1024;
        s->heap.push_back(h);
    }
    v.setSeries(s);
    const auto* y = qobject_cast<QValueAxis*>(v.chart()->axes(Qt::Vertical).first());
    ASSERT_NE(y, nullptr);
    EXPECT_EQ(y->titleText(), QStringLiteral("KiB"));
    EXPECT_LE(y->max(), 1000);
    EXPECT_GE(y->max(), 600);
    session::HeapSample last = s->heap.back();
    last.heapLive = 500 * 1024;
    v.setTail(1'500'000'000, last);
    const QLineSeries* live = v.series(4);
    EXPECT_DOUBLE_EQ(live->at(live->count() - 1).x(), 1.5);
    EXPECT_DOUBLE_EQ(live->at(live->count() - 1).y(), 500);
    v.setTail(1'700'000'000, last);  // the tail moves; no point is added
    EXPECT_EQ(live->count(), 12);
    EXPECT_DOUBLE_EQ(live->at(live->count() - 1).x(), 1.7);
}

// GOMEMLIMIT: a dark dash-dot line at the limit over the cycles that ran under it, with a legend
// entry and the y axis reaching it; nothing where no limit is set.
TEST(TimelineTest, MemoryLimitLineWhereALimitIsSet) {
    TimelineView v;
    v.resize(900, 300);
    v.show();
    v.setSessionLength(1000);
    auto s = std::make_shared<SeriesSnapshot>();
    s->t0 = 0, s->t1 = 1000;
    for (int i = 0; i <= 10; i++) {
        session::HeapSample h;
        h.tNs = i * 100;
        h.heapSys = h.heapInuse = 30ull << 20;
        h.heapLive = 20ull << 20;
        s->heap.push_back(h);
    }
    auto cycle = [&](int64_t n, int64_t t0, int64_t t1, uint64_t limit) {
        session::GcCycle c;
        c.cycle = n, c.kind = "gc", c.startNs = t0, c.endNs = t1, c.memoryLimit = limit;
        s->cycles.push_back(c);
    };
    cycle(1, 100, 150, 48ull << 20);
    cycle(2, 400, 450, 48ull << 20);
    cycle(3, 700, 750, 0);  // the limit was lifted (debug.SetMemoryLimit)
    auto legendHasLimit = [&] {
        for (QLegendMarker* m : v.chart()->legend()->markers())
            if (m->isVisible() && m->label() == QStringLiteral("memory limit")) return true;
        return false;
    };
    v.setSeries(s);
    QApplication::processEvents();
    EXPECT_EQ(v.memoryLimitAt(50), 0u);  // before the first cycle nothing is known
    EXPECT_EQ(v.memoryLimitAt(120), 48ull << 20);
    EXPECT_EQ(v.memoryLimitAt(650), 48ull << 20);  // until the next cycle began
    EXPECT_EQ(v.memoryLimitAt(800), 0u);
    EXPECT_TRUE(legendHasLimit());
    const auto* y = qobject_cast<QValueAxis*>(v.chart()->axes(Qt::Vertical).first());
    ASSERT_NE(y, nullptr);
    EXPECT_GE(y->max(), 48.0);  // MiB
    const QImage img = v.grab().toImage();
    const int ly = int(
        std::lround(v.chart()->mapToPosition(QPointF(0, 48.0), v.chart()->series().first()).y()));
    auto darkPixels = [&](int64_t t0, int64_t t1) {
        int n = 0;
        for (int x = int(v.xOf(t0)); x < int(v.xOf(t1)); x++)
            for (int dy = -1; dy <= 1; dy++)
                if (QColor(img.pixel(x, ly + dy)).lightness() < 80) n++;
        return n;
    };
    EXPECT_GT(darkPixels(200, 380), 40) << "the line under the limit";
    EXPECT_EQ(darkPixels(760, 950), 0) << "no line after the limit was lifted";

    s->cycles.back().memoryLimit = 0;
    for (auto& c : s->cycles) c.memoryLimit = 0;
    v.setSeries(s);
    EXPECT_FALSE(legendHasLimit());
    EXPECT_EQ(v.memoryLimitAt(120), 0u);
}

// Presenter mode on the smallest stage, 1024x640 (a projector's low resolution): the large type
// still leaves every dock on screen, the window at the stage's size and the status bar whole.
TEST(LayoutTest, PresenterFitsTheSmallestStage) {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("live.spanscope"));
    QProcess rec;
    rec.start(QStringLiteral(SPANSCOPE_CLI),
              {QStringLiteral("demo"), QStringLiteral("live"), QStringLiteral("--seconds"),
               QStringLiteral("1"), QStringLiteral("-o"), file});
    ASSERT_TRUE(rec.waitForFinished(60000) && rec.exitCode() == 0) << rec.readAll().toStdString();
    const QSize size(1024, 640);
    MainWindow w;
    w.layoutFor(size);
    w.show();
    w.openFile(file);
    ASSERT_TRUE(waitFor(
        [&] { return w.moment() && w.summary() && w.moment()->tNs == w.summary()->info.endNs; }));
    w.presenter()->setActive(true);
    EXPECT_GT(w.presenter()->fontScale(), 1.1);
    w.seekTo(w.summary()->info.endNs / 2);
    ASSERT_TRUE(waitMoment(w, w.summary()->info.endNs / 2));
    waitFor([] { return false; }, 300);  // let the larger type lay out
    EXPECT_LE(w.minimumSizeHint().height(), size.height());
    EXPECT_EQ(w.size(), size) << "the window's minimum size is " << w.minimumSizeHint().width()
                              << "x" << w.minimumSizeHint().height();
    for (QDockWidget* d : w.findChildren<QDockWidget*>()) {
        if (d->isHidden() || d->visibleRegion().isEmpty()) continue;
        const QRect g(d->mapTo(&w, QPoint(0, 0)), d->size());
        EXPECT_TRUE(w.rect().contains(g)) << d->objectName().toStdString();
    }
    EXPECT_TRUE(w.clippedStatusTexts().isEmpty())
        << w.clippedStatusTexts().join(QLatin1Char('|')).toStdString();
    EXPECT_TRUE(w.grab().toImage().save(dir.filePath(QStringLiteral("presenter-1024.png"))));
}
