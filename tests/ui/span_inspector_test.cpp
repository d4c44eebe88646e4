// The span inspector: the slot grid's pixels (renderSlotGrid, slotAt) and, offscreen, a click on a
// tile of the known session opens the inspector on that span at the cursor's moment.
#include "span_inspector.h"

#include <gtest/gtest.h>

#include <QMouseEvent>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "main_window.h"
#include "palette.h"
#include "ui_test_util.h"

using namespace spanscope;
using namespace spanscope::ui;
using namespace spanscope::uitest;
using session::SlotState;

namespace {
QRgb cellCentre(const QImage& img, size_t i, int columns, int cell) {
    const int x = int(i % size_t(columns)) * cell + 1 + (cell - 1) / 2;
    const int y = int(i / size_t(columns)) * cell + 1 + (cell - 1) / 2;
    return img.pixel(x, y);
}
}  // namespace

TEST(SlotGridTest, EachCellTakesItsStateColour) {
    const std::vector<SlotState> states{SlotState::Free, SlotState::Allocated, SlotState::White,
                                        SlotState::Grey, SlotState::Black,     SlotState::Allocated,
                                        SlotState::Free};
    const QRgb alloc = sizeClassColor(10);
    const int columns = 3, cell = 12;
    const QImage img = renderSlotGrid(states, alloc, columns, cell);
    EXPECT_EQ(img.size(), QSize(columns * cell + 1, 3 * cell + 1));
    for (size_t i = 0; i < states.size(); i++)
        EXPECT_EQ(cellCentre(img, i, columns, cell), slotColor(states[i], alloc)) << "slot " << i;
    EXPECT_EQ(slotColor(SlotState::Allocated, alloc), alloc);
    EXPECT_EQ(slotColor(SlotState::White, alloc), slotcolors::kWhite);
    EXPECT_EQ(slotColor(SlotState::Grey, alloc), slotcolors::kGrey);
    EXPECT_EQ(slotColor(SlotState::Black, alloc), slotcolors::kBlack);
    // Object cells are outlined, free ones are not; the gap and the unused cells are background.
    EXPECT_EQ(img.pixel(cell + 1, 1), slotcolors::kOutline);  // slot 1's top-left corner
    EXPECT_EQ(img.pixel(1, 1), slotcolors::kFree);            // slot 0's corner
    EXPECT_EQ(img.pixel(0, 0), slotcolors::kGridBackground);  // the gap
    EXPECT_EQ(cellCentre(img, 8, columns, cell),
              slotcolors::kGridBackground);  // past the last slot
}

TEST(SlotGridTest, HitTestingMatchesTheCells) {
    const int columns = 4, cell = 10;
    EXPECT_EQ(slotAt(QPoint(1, 1), 10, columns, cell), std::optional<size_t>(0));
    EXPECT_EQ(slotAt(QPoint(15, 5), 10, columns, cell), std::optional<size_t>(1));
    EXPECT_EQ(slotAt(QPoint(5, 15), 10, columns, cell), std::optional<size_t>(4));
    EXPECT_EQ(slotAt(QPoint(25, 25), 10, columns, cell), std::nullopt);  // slot 10 does not exist
    EXPECT_EQ(slotAt(QPoint(45, 5), 10, columns, cell), std::nullopt);   // right of the grid
    EXPECT_EQ(slotAt(QPoint(0, 0), 10, columns, cell), std::nullopt);
}

TEST(SpanInspectorTest, ShowsCountsAndANoteWithoutObjectEvents) {
    SpanInspector insp;
    insp.setSession({}, 8192);
    insp.setTarget(kA);
    auto s = std::make_shared<SpanObjectsSnapshot>();
    s->addr = kA;
    s->tNs = 100;
    s->found = true;
    s->objects.span = session::SpanRecord{
        kA, 1, 64, 32, uint8_t(10 << 1 | 1), uint8_t(session::SpanState::PartialSwept), 0, 0};
    s->objects.elemSize = 128;
    insp.setObjects(s);
    EXPECT_TRUE(insp.fieldText(QStringLiteral("address")).contains(QLatin1String("0xc000000000")));
    EXPECT_TRUE(insp.fieldText(QStringLiteral("class")).contains(QLatin1String("size class 10")));
    EXPECT_TRUE(insp.fieldText(QStringLiteral("objects")).contains(QLatin1String("32 used / 64")));
    EXPECT_TRUE(insp.noteText().contains(QLatin1String("SPANSCOPE_OBJECTS=1")))
        << insp.noteText().toStdString();
    EXPECT_TRUE(insp.grid()->image().isNull());

    // With slots: the grid shows them, no note.
    auto m = std::make_shared<SpanObjectsSnapshot>(*s);
    m->objects.bitsKnown = true;
    m->objects.marking = true;
    m->objects.slotStates.assign(64, SlotState::Free);
    m->objects.slotStates[0] = SlotState::Black;
    m->objects.slotStates[1] = SlotState::Grey;
    insp.resize(400, 500);
    insp.setObjects(m);
    EXPECT_TRUE(insp.noteText().isEmpty());
    const SlotGrid* g = insp.grid();
    ASSERT_FALSE(g->image().isNull());
    EXPECT_EQ(cellCentre(g->image(), 0, g->columns(), g->cellSize()), slotcolors::kBlack);
    EXPECT_EQ(cellCentre(g->image(), 1, g->columns(), g->cellSize()), slotcolors::kGrey);
    EXPECT_TRUE(
        insp.fieldText(QStringLiteral("objects")).contains(QLatin1String("1 grey, 1 black")));
    // While marking, the GC line says who marks: the background worker, idle workers, assists.
    const QString gc = insp.fieldText(QStringLiteral("gc"));
    EXPECT_TRUE(gc.contains(QLatin1String("background mark worker")) &&
                gc.contains(QLatin1String("idle mark workers")) &&
                gc.contains(QLatin1String("mark assists")))
        << qPrintable(gc);
    insp.setObjects(s);  // not marking: no such line
    EXPECT_FALSE(insp.fieldText(QStringLiteral("gc")).contains(QLatin1String("idle mark workers")));
}

TEST(SpanInspectorTest, ClickingATileOpensTheInspectorOnThatSpan) {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("known.spanscope"));
    ASSERT_TRUE(recordKnownSession(file.toStdString()));
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    w.openFile(file);
    ASSERT_TRUE(waitFor([&] { return w.moment() && w.moment()->tNs == 100; }));
    HeapMapView& map = *w.heapMap();
    const QPoint px =
        map.viewport().toPixel(QPointF(*map.layout().cellOf(kB)) + QPointF(0.5, 0.5)).toPoint();
    QSignalSpy inspected(&w, &MainWindow::spanInspected);
    QTest::mouseClick(&map, Qt::LeftButton, {}, px);
    ASSERT_TRUE(waitFor([&] { return inspected.count() > 0; }));
    const SpanInspector& insp = *w.spanInspector();
    EXPECT_TRUE(insp.isVisible());
    ASSERT_TRUE(insp.target());
    EXPECT_EQ(*insp.target(), kB);
    EXPECT_TRUE(insp.fieldText(QStringLiteral("address")).contains(QLatin1String("0xc000004000")))
        << insp.fieldText(QStringLiteral("address")).toStdString();
    EXPECT_TRUE(insp.fieldText(QStringLiteral("class")).contains(QLatin1String("size class 5")))
        << insp.fieldText(QStringLiteral("class")).toStdString();
    EXPECT_TRUE(
        insp.fieldText(QStringLiteral("objects")).contains(QLatin1String("170 used / 170")));
    EXPECT_TRUE(insp.fieldText(QStringLiteral("state")).contains(QLatin1String("full, swept")));

    // It follows the cursor: at t = 30 only A exists, so B's address holds no span.
    const int before = int(inspected.count());
    w.seekTo(30);
    ASSERT_TRUE(waitFor(
        [&] { return inspected.count() > before && insp.objects() && insp.objects()->tNs == 30; }));
    EXPECT_FALSE(insp.objects()->found);
    EXPECT_TRUE(insp.titleText().contains(QLatin1String("No span")))
        << insp.titleText().toStdString();
}
