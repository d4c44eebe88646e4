// Offscreen tests of time ranges, the flow view, the compare window and the exports: Shift+drag on
// the timeline selects a range (rangeSelected), the range panel and the flow view show what the
// reader computes for it, "Jump to" moves the cursor; exported SVG parses as XML with the expected
// elements and PNG has the requested size; the compare window shows both sessions' figures.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QImage>
#include <QLineSeries>
#include <QPainter>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QXmlStreamReader>
#include <map>
#include <set>

#include "compare_view.h"
#include "export.h"
#include "flow_view.h"
#include "format.h"
#include "fragmentation_view.h"
#include "main_window.h"
#include "presenter.h"
#include "range_features.h"
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
            *size = QSize(xml.attributes()
                              .value(QStringLiteral("width"))
                              .toString()
                              .remove(QStringLiteral("mm"))
                              .toInt(),
                          xml.attributes()
                              .value(QStringLiteral("height"))
                              .toString()
                              .remove(QStringLiteral("mm"))
                              .toInt());
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
    QMouseEvent move(QEvent::MouseMove, QPointF(to), v.viewport()->mapToGlobal(QPointF(to)),
                     Qt::LeftButton, Qt::LeftButton, Qt::ShiftModifier);
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
    EXPECT_GT(in.blue() - in.red(), out.blue() - out.red() + 10)
        << qPrintable(in.name()) << " " << qPrintable(out.name());
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
    f.refills = 1000, f.handBacks = 10, f.spanAllocs = 0, f.grownBytes = 1 << 20,
    f.releasedBytes = 1 << 10;
    const std::vector<FlowArrow> a = flowArrows(f);
    auto width = [&](const char* label) {
        for (const FlowArrow& x : a)
            if (x.label == QLatin1String(label)) return x.width;
        return -1.0;
    };
    EXPECT_DOUBLE_EQ(width("refills"), kFlowMaxWidth);  // the busiest count
    EXPECT_GT(width("refills"), width("hand-backs"));
    EXPECT_GT(width("hand-backs"), width("spans taken"));
    EXPECT_DOUBLE_EQ(width("spans taken"), 1.0);                     // idle
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
    EXPECT_EQ(of(EventKind::SpanCache), kFlowRefill);  // sessions recorded before SpanRefill
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
    FragmentationView* frag = w.fragmentation();
    // Before presenter mode the fragmentation chart is its group's front tab, not the flow.
    ASSERT_TRUE(waitFor([&] { return frag->isVisible() && !frag->visibleRegion().isEmpty(); }));
    ASSERT_TRUE(flow->visibleRegion().isEmpty());
    p->setActive(true);
    std::set<int> seen;
    QSignalSpy first(p, &Presenter::stepped);
    ASSERT_TRUE(p->firstEvent());
    ASSERT_TRUE(waitFor([&] { return first.count() > 0; }));
    // The flow is the side's front tab in presenter mode.
    ASSERT_TRUE(waitFor([&] { return flow->isVisible() && !flow->visibleRegion().isEmpty(); }));
    for (int i = 0; i < 12; i++) {
        ASSERT_TRUE(waitFor([&] {
            return p->current() && flow->highlighted() == flowPathOf(p->current()->event);
        })) << i;
        if (flow->highlighted() >= 0) {
            EXPECT_TRUE(flow->animating());
            seen.insert(flow->highlighted());
        }
        // The rates are those around the narrated record, not around the cursor.
        const int64_t at = int64_t(p->current()->event.timeNs);
        EXPECT_TRUE(waitFor([&] { return flow->flow().t1 == at + kFlowWindowNs; }))
            << i << ": " << flow->flow().t1;
        QSignalSpy stepped(p, &Presenter::stepped);
        ASSERT_TRUE(p->nextEvent());
        ASSERT_TRUE(waitFor([&] { return stepped.count() > 0; }));
        if (!stepped.takeFirst().at(0).toBool()) break;  // the last record
    }
    // The known session: spans taken (A, B), A cached and handed back, a large object.
    EXPECT_TRUE(seen.count(kFlowSpanAlloc) && seen.count(kFlowRefill) &&
                seen.count(kFlowHandBack) && seen.count(kFlowLarge))
        << seen.size() << " paths seen";
    p->setActive(false);
    EXPECT_EQ(flow->highlighted(), -1);
    EXPECT_FALSE(flow->animating());
    // Leaving presenter mode brings back the tab that was in front before it.
    EXPECT_TRUE(waitFor([&] { return !frag->visibleRegion().isEmpty(); }));
    EXPECT_TRUE(flow->visibleRegion().isEmpty());
}

TEST(ExportTest, SvgParsesWithItsElementsAndPngHasTheSize) {
    QTemporaryDir dir;
    FlowView flow;
    flow.resize(400, 500);
    session::FlowRates f;
    f.refills = 500, f.spanAllocs = 20;
    flow.setFlow(f, QStringLiteral("over a test range"));
    const QString svg = dir.filePath(QStringLiteral("flow.svg")),
                  png = dir.filePath(QStringLiteral("flow.png"));
    QString err;
    ASSERT_TRUE(exportWidget(&flow, svg, QSize(800, 1000), &err)) << qPrintable(err);
    QString root;
    QSize size;
    const auto elements = svgElements(svg, &root, &size);
    EXPECT_EQ(root, QLatin1String("svg"));
    for (const auto& [name, n] : elements)
        EXPECT_FALSE(name.startsWith(QLatin1String("#error"))) << qPrintable(name);
    EXPECT_GT(elements.count(QStringLiteral("path")) ? elements.at(QStringLiteral("path")) : 0,
              5);  // boxes, arrows
    EXPECT_GT(elements.count(QStringLiteral("text")) ? elements.at(QStringLiteral("text")) : 0, 4);
    const QString text = svgText(svg);
    for (const char* word :
         {"mcache", "mcentral", "mheap", "scavenger", "refills", "over a test range"})
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
    EXPECT_FALSE(
        exportWidget(&flow, QStringLiteral("/nonexistent-dir/x.svg"), QSize(100, 100), &err));
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
    ASSERT_TRUE(
        waitFor([&] { return rf->rangePanel()->range() && rf->rangePanel()->range()->ok; }));
    EXPECT_EQ(rf->rangePanel()->range()->stats.t0, 0);
    EXPECT_EQ(rf->rangePanel()->range()->stats.t1, 100);
    EXPECT_EQ(rf->rangePanel()->range()->stats.spansTaken, 3u);  // A, B and the large span
    // A selection: the panel's figures are the reader's for that range, and the flow is over it.
    const int before = shown.count();
    w.timeline()->setSelection(40, 80);
    ASSERT_TRUE(waitFor(
        [&] { return shown.count() > before && rf->rangePanel()->range()->stats.t0 == 40; }));
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
    // Behind another tab the flow view is not computed for each moment shown (while following a
    // live recording each one reads a 200 ms window of records), and it catches up when shown.
    const QList<QDockWidget*> group = w.tabifiedDockWidgets(rf->flowDock());
    ASSERT_FALSE(group.isEmpty());
    group.front()->raise();
    ASSERT_TRUE(waitFor([&] { return !rf->flowInView(); }));
    w.seekTo(55);
    ASSERT_TRUE(waitFor([&] { return w.moment() && w.moment()->tNs == 55; }));
    QTest::qWait(200);  // time enough for a request that should not be made
    EXPECT_EQ(rf->flowView()->flow().t1, 80 + kFlowWindowNs);
    QString exportWhy;  // an export of it reads the rates at the cursor first
    ASSERT_TRUE(rf->exportView(QStringLiteral("flow"), dir.filePath(QStringLiteral("flow.png")),
                               QSize(300, 200), &exportWhy))
        << qPrintable(exportWhy);
    EXPECT_EQ(rf->flowView()->flow().t1, 55 + kFlowWindowNs);
    w.seekTo(40);
    ASSERT_TRUE(waitFor([&] { return w.moment() && w.moment()->tNs == 40; }));
    QTest::qWait(200);
    EXPECT_EQ(rf->flowView()->flow().t1, 55 + kFlowWindowNs);
    rf->flowDock()->raise();
    ASSERT_TRUE(waitFor([&] { return rf->flowView()->flow().t1 == 40 + kFlowWindowNs; }));
    // Every exportable view exports (PNG at the size asked for).
    for (const QString& name : RangeFeatures::exportableViews()) {
        const QString png = dir.filePath(name + QStringLiteral(".png"));
        QString why;
        ASSERT_TRUE(rf->exportView(name, png, QSize(600, 400), &why))
            << qPrintable(name) << ": " << qPrintable(why);
        EXPECT_EQ(QImage(png).size(), QSize(600, 400)) << qPrintable(name);
    }
    QString why;
    EXPECT_FALSE(rf->exportView(QStringLiteral("nosuchview"), dir.filePath(QStringLiteral("n.png")),
                                QSize(10, 10), &why));
}

// A selected range switches the size-class table, the fragmentation panel and the heap map to the
// range; every figure they show equals the range panel's and the reader's for the same range, and
// Esc (or a banner's button) brings all three back to the cursor's moment.
TEST(RangeFeaturesTest, SizeClassesFragmentationAndHeapMapShowTheRange) {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("known.spanscope"));
    ASSERT_TRUE(recordKnownSession(file.toStdString()));
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    RangeFeatures* rf = w.rangeFeatures();
    w.openFile(file);
    ASSERT_TRUE(waitFor(
        [&] { return w.moment() && rf->rangePanel()->range() && rf->rangePanel()->range()->ok; }));
    SizeClassTable* table = w.sizeClasses();
    FragmentationView* frag = w.fragmentation();
    HeapMapView* map = w.heapMap();
    // Nothing selected: the moment (the whole-session answer of the range panel changes nothing).
    EXPECT_FALSE(table->showsRange() || frag->showsRange() || map->showsRange());
    EXPECT_TRUE(table->banner()->text().isEmpty());

    w.timeline()->setSelection(40, 80);  // A was taken at 10; B at 55 and the large span at 70
    ASSERT_TRUE(waitFor([&] {
        return table->showsRange() && frag->showsRange() && map->showsRange() &&
               rf->rangePanel()->range()->stats.t0 == 40;
    }));
    std::string err;
    auto reader = session::SessionReader::open(file.toStdString(), &err);
    ASSERT_TRUE(reader) << err;
    const session::RangeStats direct = session::rangeStats(*reader, 40, 80);
    ASSERT_EQ(direct.spansTaken, 2u);
    ASSERT_EQ(direct.spansReturned, 0u);

    // Size classes: a row per class with anything in the range, its figures the reader's, its
    // cells the range panel's cells, and the total line the panel's summary.
    RangeClassModel* rm = table->rangeModel();
    QAbstractItemModelTester tester(rm, QAbstractItemModelTester::FailureReportingMode::Warning);
    std::map<int, const session::ClassRangeStats*> byClass;
    for (const auto& c : direct.classes)
        if (RangeClassModel::shown(c)) byClass[c.sizeClass] = &c;
    ASSERT_EQ(rm->rowCount(), int(byClass.size()));
    EXPECT_EQ(table->view()->model()->rowCount(),
              rm->rowCount());  // the view shows the range model
    std::map<int, QStringList> panelRows;
    QTableWidget* pc = rf->rangePanel()->classTable();
    for (int r = 0; r < pc->rowCount(); r++) {
        QStringList& cells = panelRows[pc->item(r, 0)->text().toInt()];
        for (int col = 2; col <= 5; col++)
            cells << pc->item(r, col)->text();  // allocated .. bytes freed
    }
    uint64_t taken = 0, returned = 0;
    for (int r = 0; r < rm->rowCount(); r++) {
        const session::ClassRangeStats* got = rm->statsAt(r);
        ASSERT_TRUE(got && byClass.count(got->sizeClass));
        const session::ClassRangeStats& want = *byClass[got->sizeClass];
        EXPECT_EQ(got->allocObjects, want.allocObjects);
        EXPECT_EQ(got->freedObjects, want.freedObjects);
        EXPECT_EQ(got->allocBytes, want.allocBytes);
        EXPECT_EQ(got->freedBytes, want.freedBytes);
        EXPECT_EQ(got->spansAtStart, want.spansAtStart);
        EXPECT_EQ(got->spansAtEnd, want.spansAtEnd);
        EXPECT_EQ(got->spansTaken, want.spansTaken);
        EXPECT_EQ(got->spansReturned, want.spansReturned);
        taken += got->spansTaken, returned += got->spansReturned;
        auto cell = [&](int col) { return rm->index(r, col).data().toString(); };
        if (panelRows.count(
                got->sizeClass)) {  // the range panel lists classes with objects or spans
            const QStringList& p = panelRows[got->sizeClass];
            EXPECT_EQ(cell(RangeClassModel::Allocated), p[0]);
            EXPECT_EQ(cell(RangeClassModel::Freed), p[1]);
            EXPECT_EQ(cell(RangeClassModel::BytesAllocated), p[2]);
            EXPECT_EQ(cell(RangeClassModel::BytesFreed), p[3]);
        }
    }
    EXPECT_EQ(taken, direct.spansTaken);  // per class, the spans taken sum to the total
    EXPECT_EQ(returned, direct.spansReturned);
    EXPECT_TRUE(byClass.count(5) && byClass[5]->spansTaken == 1);  // B
    EXPECT_TRUE(byClass.count(0) && byClass[0]->spansTaken == 1);  // the large span
    const QString total = table->totalText();
    EXPECT_TRUE(
        total.contains(QStringLiteral("%1 objects allocated (%2)")
                           .arg(formatCount(direct.allocObjects), formatBytes(direct.allocBytes))))
        << qPrintable(total);
    EXPECT_TRUE(total.contains(QStringLiteral("spans: 2 taken, 0 returned"))) << qPrintable(total);
    EXPECT_TRUE(table->banner()->text().startsWith(QStringLiteral("Range 0.000 s – 0.000 s")))
        << qPrintable(table->banner()->text());

    // Heap map: the heap at the range's end, the spans taken outlined (as many as the panel
    // counts).
    ASSERT_TRUE(map->scene());
    EXPECT_EQ(map->scene(), &rf->rangePanel()->range()->end->scene);
    EXPECT_EQ(rf->rangePanel()->range()->end->tNs, 80);
    ASSERT_EQ(map->rangeOutlines().taken.size(), direct.spansTaken);
    EXPECT_EQ(map->rangeOutlines().returned.size(), direct.spansReturned);
    std::set<uint64_t> outlined;
    for (const PageRun& r : map->rangeOutlines().taken) outlined.insert(r.base);
    EXPECT_EQ(outlined, (std::set<uint64_t>{kB, kL}));
    EXPECT_TRUE(map->banner()->text().contains(QLatin1String("2 spans taken from the heap")))
        << qPrintable(map->banner()->text());
    int green = 0;
    const QImage img = map->image();
    for (int y = 0; y < img.height(); y++)
        for (int x = 0; x < img.width(); x++) green += img.pixel(x, y) == kTakenOutline;
    EXPECT_GT(green, 20);  // the outlines are drawn

    // Fragmentation: the range panel's min / mean / max, and each class at both ends.
    const session::SeriesStats* f = direct.find("Fragmentation");
    ASSERT_TRUE(f && f->samples);
    const QString fragText = frag->banner()->text();
    EXPECT_TRUE(fragText.contains(
        QStringLiteral("min %1, mean %2, max %3")
            .arg(formatBytes(f->min), formatBytes(uint64_t(f->mean + 0.5)), formatBytes(f->max))))
        << qPrintable(fragText);
    const std::vector<session::ClassTotals> at40 = session::classTotalsOf(
        reader->spansAt(40), reader->sizeClasses(), uint64_t(reader->info().pageSize));
    const std::vector<session::ClassTotals> at80 = session::classTotalsOf(
        reader->spansAt(80), reader->sizeClasses(), uint64_t(reader->info().pageSize));
    const QStringList cats = frag->categories();
    ASSERT_EQ(cats.size(), 4) << qPrintable(
        cats.join(QLatin1String(" | ")));  // classes 5 and 10, start and end
    for (int i = 0; i < cats.size(); i++) {
        const bool start = cats[i].contains(QLatin1String(" start "));
        const int cls = cats[i].startsWith(QLatin1String("48 B")) ? 5 : 10;
        const session::ClassTotals& want = (start ? at40 : at80)[size_t(cls)];
        EXPECT_TRUE(cats[i].contains(formatBytes(want.spanBytes))) << qPrintable(cats[i]);
        EXPECT_DOUBLE_EQ(frag->values(2)[i], double(want.freeSlotBytes)) << qPrintable(cats[i]);
        EXPECT_DOUBLE_EQ(frag->values(3)[i], double(want.tailWaste)) << qPrintable(cats[i]);
        EXPECT_DOUBLE_EQ(frag->values(0)[i] + frag->values(1)[i], double(want.bytesInUse))
            << qPrintable(cats[i]);
    }
    EXPECT_TRUE(frag->classChartTitle().contains(QLatin1String("start and end")));
    const auto [ax0, ax1] = frag->timeAxisRange();  // zoomed to the range
    EXPECT_LE(ax0, 40e-9);
    EXPECT_GE(ax1, 80e-9);
    EXPECT_LT(ax1 - ax0, 100e-9);

    // A click on a span of the range's map inspects it at the range's end, also when the cursor
    // is where that span does not exist (B is taken at 55); back at the moment, at the cursor.
    w.seekTo(20);
    ASSERT_TRUE(waitFor([&] { return w.moment() && w.moment()->tNs == 20; }));
    ASSERT_TRUE(map->showsRange());
    {
        QSignalSpy inspected(&w, &MainWindow::spanInspected);
        w.inspectSpan(kB);
        ASSERT_TRUE(waitFor([&] {
            const auto& o = w.spanInspector()->objects();
            return o && o->addr == kB && o->tNs == 80;
        }));
        EXPECT_TRUE(w.spanInspector()->objects()->found);
        EXPECT_TRUE(w.spanInspector()->titleText().contains(QLatin1String("t = ")))
            << qPrintable(w.spanInspector()->titleText());
    }
    // The legend names the classes of the heap the map shows: B's class 5 at the range's end.
    auto legendHas = [&](int cls) {
        for (const auto& e : w.heapMapLegend()->entries(2000))
            if (e.sizeClass == cls) return true;
        return false;
    };
    EXPECT_TRUE(legendHas(5));

    // Esc: back to the moment, everywhere.
    QAction* esc = nullptr;
    for (QAction* a : w.findChildren<QAction*>())
        if (a->shortcut() == QKeySequence(Qt::Key_Escape)) esc = a;
    ASSERT_NE(esc, nullptr);
    esc->trigger();
    EXPECT_FALSE(w.timeline()->selection());
    EXPECT_FALSE(table->showsRange() || frag->showsRange() || map->showsRange());
    EXPECT_TRUE(table->banner()->text().isEmpty() && frag->banner()->text().isEmpty() &&
                map->banner()->text().isEmpty());
    EXPECT_EQ(map->scene(), &w.moment()->scene);
    EXPECT_TRUE(waitFor([&] {  // the inspector is back at the cursor, where B does not exist
        const auto& o = w.spanInspector()->objects();
        return o && o->tNs == 20 && !o->found;
    }));
    EXPECT_FALSE(legendHas(5));  // at the cursor (20) B's class has no span
    EXPECT_TRUE(frag->classChartTitle().contains(QLatin1String("at the cursor")));
    // A banner's button does the same.
    w.timeline()->setSelection(40, 80);
    ASSERT_TRUE(waitFor([&] { return map->showsRange(); }));
    map->banner()->backButton()->click();
    EXPECT_FALSE(w.timeline()->selection());
    EXPECT_FALSE(table->showsRange() || frag->showsRange() || map->showsRange());
}

TEST(CompareWindowTest, ShowsBothSessionsAndAlignsAtACycle) {
    QTemporaryDir dir;
    const QString a = dir.filePath(QStringLiteral("a.spanscope")),
                  b = dir.filePath(QStringLiteral("b.spanscope"));
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
            << qPrintable(cw.summaryTable()->item(r, 0)->text()) << ": "
            << qPrintable(cw.summaryTable()->item(r, 3)->text());
    }
    EXPECT_EQ(cw.classTable()->rowCount(), 3);           // classes 0 (large), 5 and 10
    EXPECT_EQ(cw.chart()->chart()->series().size(), 4);  // in use and allocated of a and b
    // Fragmentation side by side: a chart per session, on the same axes, titled with diff's
    // figures.
    for (int side = 0; side < 2; side++) {
        QChart* c = cw.fragmentationChart(side)->chart();
        ASSERT_EQ(c->series().size(), 2);
        const auto* bytes = qobject_cast<QLineSeries*>(c->series()[0]);
        ASSERT_TRUE(bytes);
        const auto& heap = (side ? cw.data()->b : cw.data()->a).heap;
        ASSERT_EQ(bytes->count(), qsizetype(heap.size()));
        for (qsizetype i = 0; i < bytes->count();
             i++)  // HeapInuse - HeapAlloc of each sample, in MiB
            EXPECT_DOUBLE_EQ(bytes->at(i).y() * 1048576.0,
                             double(std::max(heap[size_t(i)].heapInuse, heap[size_t(i)].heapAlloc) -
                                    heap[size_t(i)].heapAlloc));
        const auto& sum = (side ? cw.data()->b : cw.data()->a).summary;
        EXPECT_TRUE(c->title().contains(
            QStringLiteral("peak %1, mean %2")
                .arg(formatBytes(sum.peakFragmentation), formatBytes(sum.meanFragmentation))))
            << qPrintable(c->title());
        EXPECT_GT(cw.fragmentationChart(side)->width(), 100);  // laid out, not collapsed
    }
    EXPECT_EQ(cw.fragmentationAxis(0, true), cw.fragmentationAxis(1, true));
    EXPECT_EQ(cw.fragmentationAxis(0, false), cw.fragmentationAxis(1, false));
    EXPECT_GE(cw.fragmentationAxis(0, true).second * 1048576.0,
              double(cw.data()->a.summary.peakFragmentation));
    // Side by side: b's chart to the right of a's, at the same height.
    const QPoint pa = cw.fragmentationChart(0)->mapTo(&cw, QPoint(0, 0)),
                 pb = cw.fragmentationChart(1)->mapTo(&cw, QPoint(0, 0));
    EXPECT_EQ(pa.y(), pb.y());
    EXPECT_GT(pb.x(), pa.x() + cw.fragmentationChart(0)->width() - 10);
    cw.setAlignment(CompareWindow::Align::Cycle, 1);  // sweep generation 1 starts at t = 90
    EXPECT_EQ(cw.offsets(), std::make_pair(int64_t(90), int64_t(90)));
    EXPECT_LT(cw.fragmentationAxis(0, false).first,
              0);  // the aligned times: the sample at 80 is at -10 ns
    cw.setAlignment(CompareWindow::Align::Start);
    EXPECT_EQ(cw.offsets(), std::make_pair(int64_t(0), int64_t(0)));
    // Exported: both fragmentation charts are in the SVG (their titles), at the window's size.
    const QString svg = dir.filePath(QStringLiteral("compare.svg"));
    QString why;
    ASSERT_TRUE(cw.exportTo(svg, &why)) << qPrintable(why);
    QString root;
    QSize svgSize;
    const auto elements = svgElements(svg, &root, &svgSize);
    EXPECT_EQ(root, QLatin1String("svg"));
    for (const auto& [name, n] : elements)
        EXPECT_FALSE(name.startsWith(QLatin1String("#error"))) << qPrintable(name);
    const QString text = svgText(svg);
    EXPECT_EQ(text.count(QLatin1String("fragmentation, peak")), 2);
    EXPECT_TRUE(
        text.contains(QStringLiteral("viewBox=\"0 0 %1 %2\"").arg(cw.width()).arg(cw.height())));
    // A bad file: said in the window.
    CompareWindow bad(a, dir.filePath(QStringLiteral("missing.spanscope")));
    QSignalSpy badLoaded(&bad, &CompareWindow::loaded);
    ASSERT_TRUE(waitFor([&] { return badLoaded.count() > 0; }));
    EXPECT_FALSE(bad.data()->b.error.isEmpty());
}
