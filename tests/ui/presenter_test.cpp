// Presenter mode: the narration of every record kind (a pure function), the scene-file parser
// (good, malformed and wrong files), and stepping on a real recorded session (binary-trees): each
// step moves the cursor to the record's time, checked against SQL of its own; next GC phase lands
// on a gc_phases row; a scene plays its seek, steps and caption; presenter mode scales the type.
#include "presenter.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <QAbstractAxis>
#include <QChart>
#include <QChartView>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <cmath>

#include "main_window.h"
#include "narration.h"
#include "scene_script.h"
#include "spanscope/events_table.h"
#include "spanscope/kinds.h"
#include "ui_test_util.h"

using namespace spanscope;
using namespace spanscope::ui;
using namespace spanscope::uitest;

namespace {

std::vector<stream::ClassEntry> classTable() {
    std::vector<stream::ClassEntry> c(68);
    stream::fillClassTable(c.data(), static_cast<uint32_t>(c.size()));
    return c;
}

Event ev(uint16_t kind, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0, uint64_t d = 0) {
    Event e{};
    e.kind = static_cast<EventKind>(kind);
    e.tid = 1234;
    e.addr = 0xc000004000;
    e.a = a, e.b = b, e.c = c, e.d = d;
    return e;
}

std::string s(const QString& q) {
    return q.toStdString();
}

// One integer from SQL (independent of SessionReader's stepping queries); -1 for NULL.
int64_t sqlInt(const QString& file, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(file.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
    spanscope::session::registerSessionTables(db);  // events: the session's blocks, a row a record
    sqlite3_stmt* st = nullptr;
    int64_t v = -2;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

std::string kindList(const std::vector<uint16_t>& kinds) {
    std::string l;
    for (uint16_t k : kinds) l += (l.empty() ? "" : ",") + std::to_string(k);
    return l;
}

}  // namespace

TEST(Narration, SweepProgressSaysWhatWasCountedAndWhenASweepIsComplete) {
    const auto classes = classTable();
    Event e = ev(uint16_t(EventKind::SweepProgress), 1200, 400, 1024, 8);
    EXPECT_EQ(s(narrate(e, classes)),
              "Sweeping: 1024 more spans swept with nothing to free (1200 pages swept in all, 400 "
              "pages in use)");
    e.flags = 1;
    EXPECT_EQ(s(narrate(e, classes)),
              "Sweep complete: every span of this cycle swept (1200 pages swept in all, 400 pages "
              "in use)");
}

TEST(Narration, SaysWhatEachKindOfRecordMeans) {
    const auto classes = classTable();
    ASSERT_EQ(classes[5].size, 48u);
    // SpanCache: only in sessions recorded before SpanRefill; they still narrate.
    Event cache = ev(uint16_t(EventKind::SpanCache), 12, 170);
    cache.spanClass = 5 << 1;
    EXPECT_EQ(
        s(narrate(cache, classes)),
        "Thread 1234 cached a span of class 5 (48 B, 170 objects, 12 in use) into its mcache");

    Event mt = ev(uint16_t(EventKind::GCPhase), 3, 4300 << 10, 8 << 20, 0);
    mt.flags = uint8_t(GCPhaseKind::MarkTermination);
    mt.npages = 210;  // µs
    NarrationContext ctx;
    ctx.cyclePhases.push_back(
        session::GcPhase{3, "sweep-termination", 0, 4100 << 10, 8 << 20, 0, 0});
    EXPECT_EQ(
        s(narrate(mt, classes, ctx)),
        "GC 3: mark termination, stop-the-world 210 \u00b5s, heap 4.0 MiB→4.2 MiB, goal 8 MiB");
    EXPECT_EQ(s(narrate(mt, classes)),
              "GC 3: mark termination, stop-the-world 210 \u00b5s, heap 4.2 MiB, goal 8 MiB");

    Event sweep = ev(uint16_t(EventKind::SweepCycle), 14, 12 << 20, 24 << 20);
    NarrationContext sctx;
    sctx.sweepCycle = 7;
    EXPECT_EQ(s(narrate(sweep, classes, sctx)),
              "Sweep generation 7 began: live heap 12 MiB, the next starts at 24 MiB");

    Event uncache = ev(uint16_t(EventKind::SpanUncache), 170, 170);
    uncache.spanClass = 5 << 1;
    uncache.flags = 1;
    EXPECT_NE(s(narrate(uncache, classes)).find("gave a full span of class 5"), std::string::npos);
    Event large = ev(uint16_t(EventKind::LargeAlloc), 40000);
    large.npages = 5;
    EXPECT_NE(s(narrate(large, classes)).find("large object of 39 KiB"), std::string::npos)
        << s(narrate(large, classes));
    Event sw = ev(uint16_t(EventKind::SpanSweep), 30, 40, 170);
    sw.spanClass = 5 << 1;
    EXPECT_NE(s(narrate(sw, classes)).find("freed 30 objects; 40 stay live"), std::string::npos);
    Event refill = ev(uint16_t(EventKind::SpanRefill), 12, 170, 30, 0xc000008000 | 170);
    refill.spanClass = 5 << 1;
    refill.flags = 1 | 2 | 4;
    EXPECT_EQ(
        s(narrate(refill, classes)),
        "Thread 1234 refilled its mcache with a span of class 5 (48 B, 170 objects, 12 in use), "
        "swept on the way (30 objects freed), and handed back its full span (170 in use)");
    Event freed = ev(uint16_t(EventKind::ObjFree), 0b1011);
    EXPECT_NE(s(narrate(freed, classes)).find("freed 3 unmarked objects"), std::string::npos);
    Event mark = ev(uint16_t(EventKind::ObjMark));
    mark.flags = 1;
    EXPECT_NE(s(narrate(mark, classes)).find("black"), std::string::npos);
    Event st = ev(uint16_t(EventKind::GCPhase), 4, 5 << 20, 10 << 20, 4 << 20);
    st.flags = uint8_t(GCPhaseKind::SweepTermination);
    EXPECT_NE(s(narrate(st, classes)).find("GC 4: sweep termination"), std::string::npos);
    st.addr = 0;  // no memory limit
    EXPECT_EQ(s(narrate(st, classes)).find("memory limit"), std::string::npos);
    st.addr = 48ull << 20;  // sweep termination carries the memory limit in bytes
    EXPECT_NE(s(narrate(st, classes)).find("under a memory limit of 48 MiB"), std::string::npos)
        << s(narrate(st, classes));
    // Off carries the idle mark workers' CPU (µs << 32): said only when they marked.
    Event off = ev(uint16_t(EventKind::GCPhase), 4, 3 << 20, 6 << 20, 0);
    off.flags = uint8_t(GCPhaseKind::Off);
    off.addr = 48;  // the limit in MiB, low bits
    EXPECT_EQ(s(narrate(off, classes)),
              "GC 4: done: 3 MiB marked live, sweeping begins; next goal 6 MiB");
    off.addr = uint64_t{2500} << 32 | 48;
    EXPECT_EQ(s(narrate(off, classes)),
              "GC 4: done: 3 MiB marked live, sweeping begins; next goal 6 MiB; "
              "idle mark workers marked for 2.50 ms on otherwise idle CPUs");

    // Every kind of the kinds table (the allocator's and the probe's, the ones added last
    // included) gets a sentence of its own: no placeholder left, not the fallback, and no two
    // kinds alike.
    QStringList seen;
    for (const kinds::KindInfo& info : kinds::kTable) {
        const uint16_t k = info.kind;
        Event e = ev(k, 2, 3, 4, 5);
        e.spanClass = 10 << 1;
        e.npages = 1;
        const QString n = narrate(e, classes);
        EXPECT_FALSE(n.isEmpty()) << k;
        EXPECT_FALSE(n.contains(QRegularExpression(QStringLiteral("%\\d")))) << k << " " << s(n);
        EXPECT_FALSE(n.startsWith(QLatin1String("A record of kind"))) << k;
        EXPECT_FALSE(seen.contains(n)) << k << " " << s(n);
        seen << n;
    }
    EXPECT_TRUE(narrate(ev(999), classes).startsWith(QLatin1String("A record of kind 999")));
    // Out-of-range classes and an empty table do not crash.
    Event odd = ev(uint16_t(EventKind::SpanAlloc), 3);
    odd.spanClass = 200;
    EXPECT_NE(s(narrate(odd, {})).find("class 100"), std::string::npos);
}

TEST(SceneScript, ParsesStepsAndNamesEveryMistake) {
    Scene sc;
    QString err;
    ASSERT_TRUE(parseScene(R"({"title": "T", "steps": [
        {"scenario": "binary-trees", "seconds": 30, "caption": "hi"},
        {"wait": 2},
        {"seek": 1.5},
        {"step": "next-gc-phase", "repeat": 3},
        {"caption": ""},
        {"open": "x.spanscope"}]})",
                           &sc, &err))
        << s(err);
    EXPECT_EQ(sc.title, QStringLiteral("T"));
    ASSERT_EQ(sc.steps.size(), 6);
    EXPECT_EQ(sc.steps[0].scenario, QStringLiteral("binary-trees"));
    EXPECT_EQ(sc.steps[0].scenarioSeconds, 30);
    EXPECT_TRUE(sc.steps[0].hasCaption);
    EXPECT_TRUE(sc.steps[1].onlyWaits());
    EXPECT_EQ(sc.steps[1].waitSeconds, 2);
    EXPECT_EQ(sc.steps[2].seekSeconds, 1.5);
    EXPECT_EQ(sc.steps[3].step, QStringLiteral("next-gc-phase"));
    EXPECT_EQ(sc.steps[3].repeat, 3);
    EXPECT_TRUE(sc.steps[4].hasCaption);
    EXPECT_TRUE(sc.steps[4].caption.isEmpty());
    ASSERT_TRUE(parseScene(R"([{"step": "first-event"}, {"step": "last-event"}])", &sc, &err))
        << s(err);
    EXPECT_EQ(sc.steps.size(), 2);

    const std::pair<const char*, const char*> bad[] = {
        {"{\"steps\": [\n{\"seek\": 1},\n{\"seek\" 2}]}", "line 3"},  // malformed JSON
        {"", "line 1"},
        {"{\"steps\": []}", "no steps"},
        {"{\"title\": \"x\"}", "needs \"steps\""},
        {"{\"steps\": [{\"sek\": 1}]}", "step 1: unknown key 'sek'"},
        {"{\"steps\": [{\"seek\": 1}, {\"step\": \"sideways\"}]}",
         "step 2: unknown step 'sideways'"},
        {"{\"steps\": [{\"seek\": \"soon\"}]}", "'seek' needs a number"},
        {"{\"steps\": [{\"seek\": -1}]}", "'seek' needs a number"},
        {"{\"steps\": [{}]}", "does nothing"},
        {"{\"steps\": [42]}", "a step is an object"},
        {"{\"steps\": [{\"repeat\": 2}]}", "'repeat' goes with 'step'"},
        {"{\"steps\": [{\"scenario\": \"a\", \"open\": \"b\"}]}", "exclude each other"},
        {"{\"steps\": [{\"seek\": 1}], \"speed\": 2}", "unknown key 'speed'"},
    };
    for (const auto& [json, why] : bad) {
        err.clear();
        EXPECT_FALSE(parseScene(QByteArray(json), &sc, &err)) << json;
        EXPECT_TRUE(err.contains(QLatin1String(why))) << json << " -> " << s(err);
    }

    QTemporaryDir dir;
    EXPECT_FALSE(loadScene(dir.filePath(QStringLiteral("none.json")), &sc, &err));
    EXPECT_TRUE(err.contains(QLatin1String("none.json"))) << s(err);
    QFile f(dir.filePath(QStringLiteral("s.json")));
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(R"({"steps": [{"open": "rec.spanscope"}]})");
    f.close();
    ASSERT_TRUE(loadScene(f.fileName(), &sc, &err)) << s(err);
    EXPECT_EQ(sc.steps[0].open,
              dir.filePath(QStringLiteral("rec.spanscope")));  // relative to the scene

    const Scene def = defaultScene();
    ASSERT_FALSE(def.steps.isEmpty());
    EXPECT_EQ(def.steps[0].scenario, QStringLiteral("binary-trees"));
}

class PresenterOnARecording : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = new QTemporaryDir;
        s_file = s_dir->filePath(QStringLiteral("bt.spanscope"));
        QProcess rec;
        // The tests step through the phases of two whole cycles: --min-gc makes the demo run past
        // its 0.4 s until three collections have finished, however slowly a loaded machine runs it
        // (0.4 s alone held a single cycle in a parallel full-suite run).
        rec.start(QStringLiteral(SPANSCOPE_CLI),
                  {QStringLiteral("demo"), QStringLiteral("binary-trees"),
                   QStringLiteral("--seconds"), QStringLiteral("0.4"), QStringLiteral("--min-gc"),
                   QStringLiteral("3"), QStringLiteral("-o"), s_file});
        rec.waitForFinished(60000);
        s_ok = rec.exitCode() == 0 && QFile::exists(s_file);
        if (!s_ok) std::fprintf(stderr, "%s\n", rec.readAllStandardError().constData());
    }
    static void TearDownTestSuite() {
        delete s_dir;
        s_dir = nullptr;
    }
    void SetUp() override {
        ASSERT_TRUE(s_ok);
        w.resize(1280, 800);
        w.show();
        w.openFile(s_file);
        ASSERT_TRUE(waitFor([&] { return w.moment() != nullptr && w.summary(); }, 20000));
    }
    // Steps and waits for the answer; the cursor then moves to the record's time.
    bool stepAndWait(const std::function<bool()>& doStep) {
        QSignalSpy spy(w.presenter(), &Presenter::stepped);
        if (!doStep()) return false;
        if (!waitFor([&] { return spy.count() > 0; }, 20000)) return false;
        if (!spy.takeFirst().at(0).toBool()) return false;
        const int64_t t = static_cast<int64_t>(w.presenter()->current()->event.timeNs);
        return waitFor([&] { return w.moment()->tNs == t; }, 20000);
    }
    static inline QTemporaryDir* s_dir = nullptr;
    static inline QString s_file;
    static inline bool s_ok = false;
    MainWindow w;
};

TEST_F(PresenterOnARecording, NextAndPreviousEventMoveTheCursorToTheRecord) {
    Presenter& p = *w.presenter();
    const std::string kinds = kindList(Presenter::eventKinds());
    const int64_t mid = w.summary()->info.endNs / 2;
    p.setActive(true);
    w.seekTo(mid);
    ASSERT_TRUE(waitFor([&] { return w.moment()->tNs == mid && p.current().has_value(); }, 20000));
    // The narration describes the last record at or before the cursor.
    const int64_t before =
        sqlInt(s_file, "SELECT max(t_ns) FROM events WHERE t_ns <= " + std::to_string(mid) +
                           " AND kind IN (" + kinds + ")");
    EXPECT_EQ(int64_t(p.current()->event.timeNs), before);
    EXPECT_FALSE(p.narration().isEmpty());
    EXPECT_TRUE(p.bar()->isVisible());

    int64_t t = before;
    for (int i = 0; i < 5; i++) {
        const int64_t id = p.current()->id;
        ASSERT_TRUE(stepAndWait([&] { return p.nextEvent(); })) << i;
        const int64_t expect =
            sqlInt(s_file, "SELECT min(t_ns) FROM events WHERE (t_ns > " + std::to_string(t) +
                               " OR (t_ns = " + std::to_string(t) + " AND id > " +
                               std::to_string(id) + ")) AND kind IN (" + kinds + ")");
        EXPECT_EQ(int64_t(p.current()->event.timeNs), expect) << i;
        EXPECT_EQ(w.moment()->tNs, expect);
        EXPECT_EQ(w.timeline()->cursorTime(), expect);
        EXPECT_EQ(p.narration(),
                  narrate(p.current()->event, w.summary()->classes, p.currentContext()))
            << i;
        t = expect;
    }
    const session::EventRow fifth = *p.current();
    ASSERT_TRUE(stepAndWait([&] { return p.previousEvent(); }));
    EXPECT_LE(int64_t(p.current()->event.timeNs), int64_t(fifth.event.timeNs));
    EXPECT_NE(p.current()->id, fifth.id);
    ASSERT_TRUE(stepAndWait([&] { return p.nextEvent(); }));
    EXPECT_EQ(p.current()->id, fifth.id);  // and back: (time, id) order is a total order

    // The keyboard: → is the next record in presenter mode.
    w.activateWindow();
    QApplication::setActiveWindow(&w);
    QSignalSpy spy(&p, &Presenter::stepped);
    QTest::keyClick(&w, Qt::Key_Right);
    ASSERT_TRUE(waitFor([&] { return spy.count() > 0; }));
    EXPECT_GE(int64_t(p.current()->event.timeNs), int64_t(fifth.event.timeNs));
    EXPECT_NE(p.current()->id, fifth.id);

    ASSERT_TRUE(stepAndWait([&] { return p.firstEvent(); }));
    EXPECT_EQ(int64_t(p.current()->event.timeNs),
              sqlInt(s_file, "SELECT min(t_ns) FROM events WHERE kind IN (" + kinds + ")"));
    ASSERT_TRUE(stepAndWait([&] { return p.lastEvent(); }));
    EXPECT_EQ(int64_t(p.current()->event.timeNs),
              sqlInt(s_file, "SELECT max(t_ns) FROM events WHERE kind IN (" + kinds + ")"));
    QSignalSpy none(&p, &Presenter::stepped);
    ASSERT_TRUE(p.nextEvent());
    ASSERT_TRUE(waitFor([&] { return none.count() > 0; }));
    EXPECT_FALSE(none.takeFirst().at(0).toBool());  // nothing after the last record
}

TEST_F(PresenterOnARecording, NextGcPhaseLandsOnAPhaseRecord) {
    Presenter& p = *w.presenter();
    w.seekTo(0);
    ASSERT_TRUE(waitFor([&] { return w.moment()->tNs == 0; }));
    int64_t last = -1;
    for (int i = 0; i < 6; i++) {
        ASSERT_TRUE(stepAndWait([&] { return p.nextPhase(); })) << i;
        const Event& e = p.current()->event;
        EXPECT_EQ(e.kind, EventKind::GCPhase);
        const int64_t t = static_cast<int64_t>(e.timeNs);
        EXPECT_GT(t, last);
        EXPECT_EQ(
            sqlInt(s_file, "SELECT count(*) FROM gc_phases WHERE t_ns = " + std::to_string(t)), 1)
            << t;
        EXPECT_EQ(
            sqlInt(s_file, "SELECT min(t_ns) FROM gc_phases WHERE t_ns > " + std::to_string(last)),
            t);
        EXPECT_TRUE(p.narration().startsWith(QStringLiteral("GC %1: ").arg(e.a)))
            << s(p.narration());
        last = t;
    }
    // Mark termination tells gctrace's heap0→heap1.
    while (p.current()->event.flags != uint8_t(GCPhaseKind::MarkTermination))
        ASSERT_TRUE(stepAndWait([&] { return p.nextPhase(); }));
    EXPECT_TRUE(p.narration().contains(QStringLiteral("→"))) << s(p.narration());
    const int64_t at = static_cast<int64_t>(p.current()->event.timeNs);
    ASSERT_TRUE(stepAndWait([&] { return p.previousPhase(); }));
    EXPECT_LT(int64_t(p.current()->event.timeNs), at);
    EXPECT_EQ(p.current()->event.kind, EventKind::GCPhase);
}

// Large type in proportion to the stage: the full scale on a 1080p projector, less on 1024x640
// (where the full scale pushed the status bar and docks off the screen), never smaller than that.
TEST(PresenterScale, LargeTypeFitsTheStage) {
    EXPECT_DOUBLE_EQ(Presenter::fontScaleFor(1080), Presenter::kFontScale);
    EXPECT_DOUBLE_EQ(Presenter::fontScaleFor(1440), Presenter::kFontScale);
    EXPECT_DOUBLE_EQ(Presenter::fontScaleFor(640), Presenter::kMinFontScale);
    EXPECT_DOUBLE_EQ(Presenter::fontScaleFor(400), Presenter::kMinFontScale);
    EXPECT_GT(Presenter::fontScaleFor(768), Presenter::fontScaleFor(640));
    EXPECT_LT(Presenter::fontScaleFor(768), Presenter::fontScaleFor(900));
}

// A narration longer than the bar wraps to a second line at a space instead of losing its end
// ("free aga..."); only what two lines cannot hold is elided.
TEST(PresenterScale, LongNarrationWrapsToTwoLines) {
    QFont big;
    big.setPointSizeF(20);
    big.setBold(true);
    const QString text = QStringLiteral(
        "Thread 1234 refilled its mcache with a span of class 5 (48 B, 170 objects, 12 in use), "
        "swept on the way (30 objects freed), and handed back its full span");
    const int width = QFontMetrics(big).horizontalAdvance(text) * 6 / 10;
    const QStringList lines = NarrationBar::narrationLines(text, big, width);
    ASSERT_EQ(lines.size(), 2);
    EXPECT_EQ(lines[0] + QLatin1Char(' ') + lines[1], text) << "nothing lost";
    for (const QString& l : lines) EXPECT_LE(QFontMetrics(big).horizontalAdvance(l), width);
    EXPECT_EQ(NarrationBar::narrationLines(QStringLiteral("GC 3: done"), big, width),
              QStringList{QStringLiteral("GC 3: done")});
    const QStringList tight = NarrationBar::narrationLines(text, big, width / 3);
    ASSERT_EQ(tight.size(), 2);
    EXPECT_TRUE(tight[1].endsWith(QChar(0x2026))) << qPrintable(tight[1]);
}

TEST_F(PresenterOnARecording, ScenePlaysItsStepsAndLargeTypeComesAndGoes) {
    Presenter& p = *w.presenter();
    const double before = w.font().pointSizeF();
    QChartView* chart = w.findChild<QChartView*>();
    ASSERT_NE(chart, nullptr);
    const double axisBefore = chart->chart()->axes().first()->labelsFont().pointSizeF();
    p.setActive(true);
    EXPECT_GE(p.fontScale(), Presenter::kMinFontScale);
    EXPECT_NEAR(p.fontScale(), Presenter::fontScaleFor(w.height()),
                0.01);  // offscreen: the window is the stage
    EXPECT_NEAR(w.font().pointSizeF(), before * p.fontScale(), 0.01);
    EXPECT_NEAR(chart->chart()->axes().first()->labelsFont().pointSizeF(),
                axisBefore * p.chartFontScale(), 0.01);
    EXPECT_TRUE(p.toggleAction()->isChecked());

    // The scene seeks to a whole millisecond before the first cycle, so that its two steps land on
    // that cycle's first two phases, whenever the machine ran it.
    const int64_t firstPhase = sqlInt(s_file, "SELECT min(t_ns) FROM gc_phases");
    ASSERT_GT(firstPhase, 0);
    const double seekS = std::max(0.0, std::floor(double(firstPhase) / 1e6) - 1) / 1e3;
    const int64_t seekNs = static_cast<int64_t>(seekS * 1e9);  // as the presenter converts it
    ASSERT_LT(seekNs, firstPhase);
    Scene sc;
    QString err;
    const QString script = QStringLiteral(R"({"title": "test", "steps": [
        {"seek": %1, "caption": "first"}, {"wait": 5}, {"step": "next-gc-phase", "repeat": 2},
        {"caption": "done"}]})")
                               .arg(seekS, 0, 'f', 3);
    ASSERT_TRUE(parseScene(script.toUtf8(), &sc, &err)) << s(err);
    p.setScene(sc);
    QSignalSpy done(&p, &Presenter::sceneStepDone);
    p.advanceScene();
    ASSERT_TRUE(waitFor([&] { return done.count() == 1; }, 20000));
    EXPECT_EQ(w.moment()->tNs, seekNs);
    EXPECT_EQ(p.caption(), QStringLiteral("first"));
    p.advanceScene();  // the wait is skipped when stepping by hand
    ASSERT_TRUE(waitFor([&] { return done.count() == 2; }, 20000));
    EXPECT_EQ(p.sceneIndex(), 2);
    const int64_t second =
        sqlInt(s_file, "SELECT t_ns FROM gc_phases WHERE t_ns > " + std::to_string(seekNs) +
                           " ORDER BY t_ns LIMIT 1 OFFSET 1");
    ASSERT_GT(second, 0);
    EXPECT_EQ(int64_t(p.current()->event.timeNs), second);
    EXPECT_EQ(w.moment()->tNs, second);
    p.advanceScene();
    ASSERT_TRUE(waitFor([&] { return done.count() == 3; }, 20000));
    EXPECT_EQ(p.caption(), QStringLiteral("done"));
    p.advanceScene();  // past the end
    EXPECT_EQ(p.sceneIndex(), -1);

    p.setActive(false);
    EXPECT_NEAR(w.font().pointSizeF(), before, 0.01);
    EXPECT_NEAR(chart->chart()->axes().first()->labelsFont().pointSizeF(), axisBefore, 0.01);
    EXPECT_FALSE(p.bar()->isVisible());
}
