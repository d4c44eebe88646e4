// Offscreen tests of time ranges, the flow view, the compare window and the exports: Shift+drag on
// the timeline selects a range (rangeSelected), the range panel and the flow view show what the
// reader computes for it, "Jump to" moves the cursor; exported SVG parses as XML with the expected
// elements and PNG has the requested size; the compare window shows both sessions' figures.
#include <gtest/gtest.h>

#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QImage>
#include <QPainter>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>
#include <map>
#include <set>

#include "compare_view.h"
#include "export.h"
#include "flow_view.h"
#include "main_window.h"
#include "range_features.h"
#include "presenter.h"
#include "range_panel.h"
#include "ui_test_util.h"

using namespace spanscope;
using namespace spanscope::ui;
using namespace spanscope::uitest;

namespace {
// Element names of an SVG file and how often each occurs; root is its first element.
std::map<QString, int> svgElements(const QString& path, QString* root, QSize* size) {
    std::map<QString, int> count;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return count;
    QXmlStreamReader xml(&f);
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement) continue;
        if (root->isEmpty()) {
            *root = xml.name().toString();
            *size = QSize(xml.attributes().value(QStringLiteral("width")).toString().remove(QStringLiteral("mm")).toInt(),
                          xml.attributes().value(QStringLiteral("height")).toString().remove(QStringLiteral("mm")).toInt());
        }
        count[xml.name().toString()]++;
    }
    if (xml.hasError()) count[QStringLiteral("#error: ") + xml.errorString()]++;
    return count;
}

QString svgText(const QString& path) {
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    return QString::fromUtf8(f.readAll());
}
}  // namespace

TEST(TimelineRange, ShiftDragSelectsAPlainClickClears) {
    TimelineView v;
    v.resize(900, 300);
    v.show();
    v.setSessionLength(1000);
    QApplication::processEvents();
    QSignalSpy selected(&v, &TimelineView::rangeSelected), cleared(&v, &TimelineView::rangeCleared);
    const int y = int(v.chart()->plotArea().center().y());
    const QPoint from(int(v.xOf(200)), y), to(int(v.xOf(600)), y);
    QTest::mousePress(v.viewport(), Qt::LeftButton, Qt::ShiftModifier, from);
    QTest::mouseMove(v.viewport(), to);
    QMouseEvent move(QEvent::MouseMove, QPointF(to), v.viewport()->mapToGlobal(QPointF(to)), Qt::LeftButton, Qt::LeftButton,
                     Qt::ShiftModifier);
    QApplication::sendEvent(&v, &move);  // QTest::mouseMove carries no button state
    QTest::mouseRelease(v.viewport(), Qt::LeftButton, Qt::ShiftModifier, to);
    ASSERT_EQ(selected.count(), 1);
    const qint64 t0 = selected[0][0].toLongLong(), t1 = selected[0][1].toLongLong();
    EXPECT_NEAR(double(t0), 200, 5);
    EXPECT_NEAR(double(t1), 600, 5);
    ASSERT_TRUE(v.selection());
    EXPECT_EQ(v.selection()->first, t0);
    // The band is drawn: blue over the range, not outside it.
    const QImage img = v.grab().toImage();
    const QColor in(img.pixel(int(v.xOf(400)), y)), out(img.pixel(int(v.xOf(800)), y));
    EXPECT_GT(in.blue() - in.red(), out.blue() - out.red() + 10) << qPrintable(in.name()) << " " << qPrintable(out.name());
    // The same range again emits nothing; a plain click clears it (and moves the cursor).
    v.setSelection(t0, t1);
    EXPECT_EQ(selected.count(), 1);
    QTest::mouseClick(v.viewport(), Qt::LeftButton, Qt::NoModifier, QPoint(int(v.xOf(800)), y));
    EXPECT_EQ(cleared.count(), 1);
    EXPECT_FALSE(v.selection());
    // Reversed bounds are ordered; Escape clears.
    v.setSelection(700, 300);
    EXPECT_EQ(v.selection()->first, 300);
    QTest::keyClick(&v, Qt::Key_Escape);
    EXPECT_EQ(cleared.count(), 2);
}

TEST(FlowView, ArrowsScaleWithTheirRates) {
    session::FlowRates f;
    f.refills = 1000, f.handBacks = 10, f.spanAllocs = 0, f.grownBytes = 1 << 20, f.releasedBytes = 1 << 10;
    const std::vector<FlowArrow> a = flowArrows(f);
    auto width = [&](const char* label) {
        for (const FlowArrow& x : a)
            if (x.label == QLatin1String(label)) return x.width;
        return -1.0;
    };
    EXPECT_DOUBLE_EQ(width("refills"), kFlowMaxWidth);  // the busiest count
    EXPECT_GT(width("refills"), width("hand-backs"));
    EXPECT_GT(width("hand-backs"), width("spans taken"));
    EXPECT_DOUBLE_EQ(width("spans taken"), 1.0);  // idle
    EXPECT_DOUBLE_EQ(width("pages grown + reused"), kFlowMaxWidth);  // bytes scale on their own
    EXPECT_LT(width("released"), kFlowMaxWidth);
}

// Each kind of record that moves memory has its path on the diagram; the highlighted path is drawn
// (a halo and a dot) where the unhighlighted diagram has none.
TEST(FlowView, EachMovingRecordHasItsPathAndTheHighlightIsDrawn) {
    auto of = [](EventKind k) {
        Event e{};
        e.kind = k;
        return flowPathOf(e);
    };
    EXPECT_EQ(of(EventKind::SpanRefill), kFlowRefill);
    EXPECT_EQ(of(EventKind::SpanCache), kFlowRefill);
    EXPECT_EQ(of(EventKind::SpanUncache), kFlowHandBack);
    EXPECT_EQ(of(EventKind::SpanAlloc), kFlowSpanAlloc);
    EXPECT_EQ(of(EventKind::SpanFree), kFlowSpanFree);
    EXPECT_EQ(of(EventKind::LargeAlloc), kFlowLarge);
    EXPECT_EQ(of(EventKind::LargeFree), kFlowLargeFree);
    EXPECT_EQ(of(EventKind::HeapGrow), kFlowGrow);
    EXPECT_EQ(of(EventKind::ArenaMap), kFlowGrow);
    EXPECT_EQ(of(EventKind::ScavReuse), kFlowGrow);
    EXPECT_EQ(of(EventKind::Scavenge), kFlowRelease);
    EXPECT_EQ(of(EventKind::GCPhase), -1);
    EXPECT_EQ(of(EventKind::HeapTotals), -1);
    EXPECT_EQ(flowArrows({}).size(), size_t(kFlowPathCount));

    session::FlowRates f;
    f.refills = 100;
    auto draw = [&](int highlight) {
        QImage img(400, 560, QImage::Format_ARGB32);
        QPainter p(&img);
        paintFlow(p, QRectF(img.rect()), f, QStringLiteral("test"), highlight, 0.5);
        return img;
    };
    const QImage plain = draw(-1);
    for (int path = 0; path < kFlowPathCount; path++) {
        const QImage lit = draw(path);
        int changed = 0;
        for (int y = 0; y < lit.height(); y++)
            for (int x = 0; x < lit.width(); x++) changed += lit.pixel(x, y) != plain.pixel(x, y);
        EXPECT_GT(changed, 200) << "path " << path;  // at least the dot (radius 6) and the halo
    }
}

// Presenter mode: stepping onto a record runs its path on the flow view; leaving presenter mode
// takes the highlight away.
TEST(FlowView, PresenterAnimatesTheNarratedPath) {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("known.spanscope"));
    ASSERT_TRUE(recordKnownSession(file.toStdString()));
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    w.openFile(file);
    ASSERT_TRUE(waitFor([&] { return w.moment() != nullptr && w.summary(); }));
    Presenter* p = w.presenter();
    FlowView* flow = w.rangeFeatures()->flowView();
    p->setActive(true);
    std::set<int> seen;
    ASSERT_TRUE(p->firstEvent());
    for (int i = 0; i < 12; i++) {
        ASSERT_TRUE(waitFor([&] { return p->current() && flow->highlighted() == flowPathOf(p->current()->event); }))
            << i;
        if (flow->highlighted() >= 0) {
            EXPECT_TRUE(flow->animating());
            seen.insert(flow->highlighted());
        }
        QSignalSpy stepped(p, &Presenter::stepped);
        ASSERT_TRUE(p->nextEvent());
        ASSERT_TRUE(waitFor([&] { return stepped.count() > 0; }));
        if (!stepped.takeFirst().at(0).toBool()) break;  // the last record
    }
    // The known session: spans taken (A, B), A cached and handed back, a large object.
    EXPECT_TRUE(seen.count(kFlowSpanAlloc) && seen.count(kFlowRefill) && seen.count(kFlowHandBack) &&
                seen.count(kFlowLarge))
        << seen.size();
    p->setActive(false);
    EXPECT_EQ(flow->highlighted(), -1);
    EXPECT_FALSE(flow->animating());
}

TEST(ExportTest, SvgParsesWithItsElementsAndPngHasTheSize) {
    QTemporaryDir dir;
    FlowView flow;
    flow.resize(400, 500);
    session::FlowRates f;
    f.refills = 500, f.spanAllocs = 20;
    flow.setFlow(f, QStringLiteral("over a test range"));
    const QString svg = dir.filePath(QStringLiteral("flow.svg")), png = dir.filePath(QStringLiteral("flow.png"));
    QString err;
    ASSERT_TRUE(exportWidget(&flow, svg, QSize(800, 1000), &err)) << qPrintable(err);
    QString root;
    QSize size;
    const auto elements = svgElements(svg, &root, &size);
    EXPECT_EQ(root, QLatin1String("svg"));
    for (const auto& [name, n] : elements) EXPECT_FALSE(name.startsWith(QLatin1String("#error"))) << qPrintable(name);
    EXPECT_GT(elements.count(QStringLiteral("path")) ? elements.at(QStringLiteral("path")) : 0, 5);  // boxes, arrows
    EXPECT_GT(elements.count(QStringLiteral("text")) ? elements.at(QStringLiteral("text")) : 0, 4);
    const QString text = svgText(svg);
    for (const char* word : {"mcache", "mcentral", "mheap", "scavenger", "refills", "over a test range"})
        EXPECT_TRUE(text.contains(QLatin1String(word))) << word;
    EXPECT_TRUE(text.contains(QLatin1String("viewBox=\"0 0 800 1000\""))) << "the requested size";
    ASSERT_TRUE(exportWidget(&flow, png, QSize(640, 360), &err)) << qPrintable(err);
    const QImage img(png);
    EXPECT_EQ(img.size(), QSize(640, 360));
    // Drawn, not blank: more than a few colours.
    std::set<QRgb> colours;
    for (int y = 0; y < img.height(); y += 7)
        for (int x = 0; x < img.width(); x += 7) colours.insert(img.pixel(x, y));
    EXPECT_GT(colours.size(), 5u);
    // Bad size and unwritable path: a clear error, no file.
    EXPECT_FALSE(exportWidget(&flow, dir.filePath(QStringLiteral("x.png")), QSize(0, 10), &err));
    EXPECT_FALSE(exportWidget(&flow, QStringLiteral("/nonexistent-dir/x.svg"), QSize(100, 100), &err));
    EXPECT_TRUE(err.contains(QLatin1String("/nonexistent-dir/x.svg"))) << qPrintable(err);
}

TEST(RangeFeaturesTest, PanelFlowAndJumpFollowTheSelection) {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("known.spanscope"));
    ASSERT_TRUE(recordKnownSession(file.toStdString()));
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    RangeFeatures* rf = w.rangeFeatures();
    ASSERT_NE(rf, nullptr);
    QSignalSpy shown(rf, &RangeFeatures::rangeShown), flowShown(rf, &RangeFeatures::flowShown);
    w.openFile(file);
    // Nothing selected: the panel shows the whole session.
    ASSERT_TRUE(waitFor([&] { return rf->rangePanel()->range() && rf->rangePanel()->range()->ok; }));
    EXPECT_EQ(rf->rangePanel()->range()->stats.t0, 0);
    EXPECT_EQ(rf->rangePanel()->range()->stats.t1, 100);
    EXPECT_EQ(rf->rangePanel()->range()->stats.spansTaken, 3u);  // A, B and the large span
    // A selection: the panel's figures are the reader's for that range, and the flow is over it.
    const int before = shown.count();
    w.timeline()->setSelection(40, 80);
    ASSERT_TRUE(waitFor([&] { return shown.count() > before && rf->rangePanel()->range()->stats.t0 == 40; }));
    std::string err;
    auto reader = session::SessionReader::open(file.toStdString(), &err);
    ASSERT_TRUE(reader) << err;
    const session::RangeStats direct = session::rangeStats(*reader, 40, 80);
    const session::RangeStats& shownStats = rf->rangePanel()->range()->stats;
    EXPECT_EQ(shownStats.spansTaken, direct.spansTaken);
    EXPECT_EQ(shownStats.spansTaken, 2u);  // B at 55, the large span at 70
    EXPECT_EQ(rf->flowView()->flow().t0, 40);
    EXPECT_DOUBLE_EQ(rf->flowView()->flow().spanAllocs, 1e9 / 40);  // one SpanAlloc in 40 ns
    EXPECT_GT(rf->rangePanel()->summaryTable()->rowCount(), 8);
    EXPECT_TRUE(rf->rangePanel()->headline().contains(QLatin1String("0.000 s")));
    // Jump to the peak heap: the only heap sample is at t = 80.
    QAction* peak = nullptr;
    for (QAction* a : rf->rangePanel()->jumpMenu()->actions())
        if (a->text() == QLatin1String("Peak heap")) peak = a;
    ASSERT_NE(peak, nullptr);
    ASSERT_TRUE(peak->isEnabled());
    peak->trigger();
    ASSERT_TRUE(waitFor([&] { return w.moment() && w.moment()->tNs == 80; }));
    EXPECT_EQ(w.timeline()->cursorTime(), 80);
    // Clearing the range goes back to the whole session, and the flow to the cursor.
    w.timeline()->clearSelection();
    ASSERT_TRUE(waitFor([&] { return rf->rangePanel()->range()->stats.t0 == 0; }));
    ASSERT_TRUE(waitFor([&] { return rf->flowView()->flow().t1 == 80 + kFlowWindowNs; }));
    // Every exportable view exports (PNG at the size asked for).
    for (const QString& name : RangeFeatures::exportableViews()) {
        const QString png = dir.filePath(name + QStringLiteral(".png"));
        QString why;
        ASSERT_TRUE(rf->exportView(name, png, QSize(600, 400), &why)) << qPrintable(name) << ": " << qPrintable(why);
        EXPECT_EQ(QImage(png).size(), QSize(600, 400)) << qPrintable(name);
    }
    QString why;
    EXPECT_FALSE(rf->exportView(QStringLiteral("nosuchview"), dir.filePath(QStringLiteral("n.png")), QSize(10, 10), &why));
}

TEST(CompareWindowTest, ShowsBothSessionsAndAlignsAtACycle) {
    QTemporaryDir dir;
    const QString a = dir.filePath(QStringLiteral("a.spanscope")), b = dir.filePath(QStringLiteral("b.spanscope"));
    ASSERT_TRUE(recordKnownSession(a.toStdString()));
    ASSERT_TRUE(recordKnownSession(b.toStdString()));
    CompareWindow cw(a, b);
    QSignalSpy loaded(&cw, &CompareWindow::loaded);
    cw.show();
    ASSERT_TRUE(waitFor([&] { return loaded.count() > 0; }));
    ASSERT_TRUE(cw.data());
    EXPECT_TRUE(cw.data()->a.error.isEmpty());
    const auto figures = session::summaryFigures(cw.data()->a.summary, cw.data()->b.summary);
    ASSERT_EQ(cw.summaryTable()->rowCount(), int(figures.size()));
    for (int r = 0; r < cw.summaryTable()->rowCount(); r++) {  // the same session twice: no deltas
        EXPECT_TRUE(cw.summaryTable()->item(r, 3)->text().startsWith(QLatin1Char('0')))
            << qPrintable(cw.summaryTable()->item(r, 0)->text()) << ": " << qPrintable(cw.summaryTable()->item(r, 3)->text());
    }
    EXPECT_EQ(cw.classTable()->rowCount(), 3);  // classes 0 (large), 5 and 10
    EXPECT_EQ(cw.chart()->chart()->series().size(), 6);
    cw.setAlignment(CompareWindow::Align::Cycle, 1);  // sweep generation 1 starts at t = 90
    EXPECT_EQ(cw.offsets(), std::make_pair(int64_t(90), int64_t(90)));
    cw.setAlignment(CompareWindow::Align::Start);
    EXPECT_EQ(cw.offsets(), std::make_pair(int64_t(0), int64_t(0)));
    // A bad file: said in the window.
    CompareWindow bad(a, dir.filePath(QStringLiteral("missing.spanscope")));
    QSignalSpy badLoaded(&bad, &CompareWindow::loaded);
    ASSERT_TRUE(waitFor([&] { return badLoaded.count() > 0; }));
    EXPECT_FALSE(bad.data()->b.error.isEmpty());
}
