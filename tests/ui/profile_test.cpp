// The heap profile in the GUI (ui/profile_tree.h, profile_model.h, flame_graph.h, profile_panel.h):
// call trees from a profile built in memory (totals, top-down against bottom-up, search, the
// span filler), the models under QAbstractItemModelTester, the flame graph's layout and pixels;
// then a real program with known allocation sites (tests/instrumentation/prof_sites.c) recorded at
// SPANSCOPE_MEMPROFILERATE=1: the trees against 'spanscope-cli top' (the same figures), the
// window's Profile panel, its selection outlining the spans in the heap map, the span inspector's
// sampled allocations, and the presenter's "this span was filled by" sentence.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <QAbstractItemModelTester>
#include <QDockWidget>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <QTreeWidget>
#include <array>
#include <functional>
#include <map>
#include <set>

#include "flame_graph.h"
#include "format.h"
#include "main_window.h"
#include "profile_model.h"
#include "profile_panel.h"
#include "profile_tree.h"
#include "spanscope/detail/block_writer.h"
#include "spanscope/events_table.h"
#include "spanscope/session_check.h"
#include "spanscope/session_reader.h"
#include "spanscope/session_upgrade.h"
#include "ui_test_util.h"

using namespace spanscope;
using namespace spanscope::ui;

namespace {

constexpr uint64_t kMiB = 1 << 20;

// Four stacks over six pcs (innermost first, as the reader gives them):
//   1: main -> parse -> json_decode (parser.c:120)          in use 3 x 100 B, allocated 5 x 100 B
//   2: main -> parse -> read_file (io.c:10)                  in use 1 x 4000 B, allocated 2 x 4000
//   B 3: main -> worker -> json_decode (parser.c:120)          in use 0, allocated 4 x 100 B 4:
//   main -> worker -> [inlined: fill_cache (cache.h:7) in grow (cache.c:30)]  in use 2 x 64 B
session::HeapProfile syntheticProfile(int64_t rate = 1) {
    session::HeapProfile p;
    p.rate = rate;
    auto locations = std::make_shared<session::LocationTable>();
    p.locations = locations;
    auto loc = [&](uint64_t pc, std::vector<session::ProfileFrame> frames) {
        (*locations)[pc] = session::ProfileLocation{pc, 0, std::move(frames)};
    };
    loc(0x10, {{"main", "/src/main.c", 5}});
    loc(0x20, {{"parse", "/src/parser.c", 40}});
    loc(0x30, {{"json_decode", "/src/parser.c", 120}});
    loc(0x40, {{"read_file", "/src/io.c", 10}});
    loc(0x50, {{"worker", "/src/main.c", 9}});
    loc(0x60, {{"fill_cache", "/src/cache.h", 7}, {"grow", "/src/cache.c", 30}});
    auto stack = [&](uint64_t id, std::vector<uint64_t> pcs, uint64_t io, uint64_t ib, uint64_t ao,
                     uint64_t ab) {
        session::ProfileStack s;
        s.id = id;
        s.index = uint32_t(p.stacks.size());
        s.pcs = std::move(pcs);
        s.inuseObjects = io, s.inuseBytes = ib, s.allocObjects = ao, s.allocBytes = ab;
        s.rate = rate;
        p.stacks.push_back(s);
    };
    stack(1, {0x30, 0x20, 0x10}, 3, 300, 5, 500);
    stack(2, {0x40, 0x20, 0x10}, 1, 4000, 2, 8000);
    stack(3, {0x30, 0x50, 0x10}, 0, 0, 4, 400);
    stack(4, {0x60, 0x50, 0x10}, 2, 128, 2, 128);
    // Live samples: stack 1 in the span [0x1000, 0x3000), stack 2 and 4 in [0x8000, 0xa000).
    p.live = {{0x1000, 100, 1, 5},  {0x1100, 100, 1, 6}, {0x2f00, 100, 1, 7},
              {0x8000, 4000, 2, 8}, {0x9000, 64, 4, 9},  {0x9040, 64, 4, 9}};
    p.samples = 13;
    p.symbolized = true;
    return p;
}

ProfilePtr snapshotOf(session::HeapProfile hp) {
    auto s = std::make_shared<ProfileSnapshot>();
    s->available = true;
    s->profile = std::move(hp);
    s->topDown = buildProfileTree(s->profile, false);
    s->bottomUp = buildProfileTree(s->profile, true);
    return s;
}

// Every node of t's shape, as values (present or not).
std::vector<ProfileNode> allNodes(const ProfileTree& t) {
    std::vector<ProfileNode> out;
    for (size_t n = 0; n < t.size(); n++) out.push_back(t.node(int(n)));
    return out;
}

int childByFunction(const ProfileTree& t, int node, const QString& fn) {
    for (int c : t.node(node).children)
        if (t.frames()[size_t(t.node(c).frame)].function == fn) return c;
    return -1;
}

// Sum of v over the nodes of t whose function is fn.
template <typename F>
int64_t sumOver(const ProfileTree& t, const QString& fn, F v) {
    int64_t sum = 0;
    for (const ProfileNode& n : allNodes(t))
        if (n.frame >= 0 && t.frames()[size_t(n.frame)].function == fn) sum += v(n);
    return sum;
}

}  // namespace

TEST(ProfileTree, RootHoldsEveryStacksScaledValues) {
    for (int64_t rate : {int64_t(1), int64_t(512 * 1024)}) {
        const session::HeapProfile p = syntheticProfile(rate);
        ProfileValues want;
        for (const auto& s : p.stacks) {
            ProfileValues v;
            session::scaleHeapSample(s.inuseObjects, s.inuseBytes, s.rate, &v.inuseObjects,
                                     &v.inuseBytes);
            session::scaleHeapSample(s.allocObjects, s.allocBytes, s.rate, &v.allocObjects,
                                     &v.allocBytes);
            want += v;
        }
        for (bool bottomUp : {false, true}) {
            const ProfileTree t = buildProfileTree(p, bottomUp);
            EXPECT_EQ(t.root().total.inuseBytes, want.inuseBytes) << rate;
            EXPECT_EQ(t.root().total.inuseObjects, want.inuseObjects) << rate;
            EXPECT_EQ(t.root().total.allocBytes, want.allocBytes) << rate;
            EXPECT_EQ(t.root().total.allocObjects, want.allocObjects) << rate;
            // Top-down, every node's total is its self plus its children's totals; bottom-up, the
            // roots' selves (the allocating frames) add up to everything.
            ProfileValues selves;
            for (const ProfileNode& n : allNodes(t)) {
                selves += n.self;
                if (bottomUp) continue;
                ProfileValues sum = n.self;
                for (int c : n.children) sum += t.node(c).total;
                EXPECT_EQ(sum.inuseBytes, n.total.inuseBytes);
                EXPECT_EQ(sum.allocObjects, n.total.allocObjects);
            }
            EXPECT_EQ(selves.inuseBytes, want.inuseBytes);
            EXPECT_EQ(selves.allocObjects, want.allocObjects);
        }
        if (rate > 1) {
            EXPECT_GT(want.inuseBytes, 4428) << "scaled estimates exceed the sampled bytes";
        }
    }
}

TEST(ProfileTree, TopDownPathsAndInlinedFrames) {
    const ProfileTree t = buildProfileTree(syntheticProfile(), false);
    ASSERT_EQ(t.root().children.size(), 1u);
    const int main = t.root().children[0];
    EXPECT_EQ(t.label(main), QStringLiteral("main (main.c:5)"));
    const int parse = childByFunction(t, main, QStringLiteral("parse"));
    const int worker = childByFunction(t, main, QStringLiteral("worker"));
    ASSERT_GE(parse, 0);
    ASSERT_GE(worker, 0);
    EXPECT_EQ(t.node(parse).total.inuseBytes, 4300);
    EXPECT_EQ(t.node(parse).self.inuseBytes, 0);
    const int json = childByFunction(t, parse, QStringLiteral("json_decode"));
    EXPECT_EQ(t.node(json).self.inuseBytes, 300);
    EXPECT_EQ(t.node(json).self.allocObjects, 5);
    // The inlined frame sits below the function it was inlined into.
    const int grow = childByFunction(t, worker, QStringLiteral("grow"));
    ASSERT_GE(grow, 0);
    const int fill = childByFunction(t, grow, QStringLiteral("fill_cache"));
    ASSERT_GE(fill, 0);
    EXPECT_EQ(t.label(fill), QStringLiteral("fill_cache (cache.h:7)"));
    EXPECT_EQ(t.node(fill).self.inuseBytes, 128);
    EXPECT_EQ(t.maxDepth(), 4);
    EXPECT_EQ(stacksThrough(t, worker), (std::vector<size_t>{2, 3}));
    EXPECT_EQ(stacksThrough(t, 0).size(), 4u);
}

TEST(ProfileTree, BottomUpAgreesWithTopDown) {
    const session::HeapProfile p = syntheticProfile(512 * 1024);
    const ProfileTree td = buildProfileTree(p, false), bu = buildProfileTree(p, true);
    // The bottom-up roots are the allocating frames; each holds what the top-down tree's nodes of
    // that function allocated themselves.
    std::map<QString, int64_t> roots;
    for (int c : bu.root().children) {
        const ProfileNode n = bu.node(c);
        roots[bu.frames()[size_t(n.frame)].function] += n.total.inuseBytes;
        EXPECT_EQ(n.self.allocBytes, n.total.allocBytes) << "a bottom-up root is all self";
    }
    EXPECT_EQ(roots.size(), 3u);  // json_decode, read_file, fill_cache
    for (const auto& [fn, bytes] : roots)
        EXPECT_EQ(bytes, sumOver(td, fn, [](const ProfileNode& n) { return n.self.inuseBytes; }))
            << fn.toStdString();
    // Below the roots nothing is self, and json_decode's callers split its bytes.
    const int json = childByFunction(bu, 0, QStringLiteral("json_decode"));
    ASSERT_GE(json, 0);
    EXPECT_EQ(bu.node(json).children.size(), 2u);  // parse and worker
    for (size_t i = 0; i < bu.size(); i++)
        if (bu.node(int(i)).depth > 1) {
            EXPECT_EQ(bu.node(int(i)).self.allocBytes, 0);
        }
    EXPECT_EQ(bu.root().total.allocBytes, td.root().total.allocBytes);
}

TEST(ProfileTree, SearchCountsEachStackOnce) {
    const ProfileTree t = buildProfileTree(syntheticProfile(), false);
    const ProfileSearch s = searchProfile(t, QStringLiteral("JSON"));
    EXPECT_EQ(s.matchedNodes, 2u);         // under parse and under worker
    EXPECT_EQ(s.matched.inuseBytes, 300);  // stacks 1 and 3
    EXPECT_EQ(s.matched.allocBytes, 900);
    const ProfileSearch m = searchProfile(t, QStringLiteral("main"));
    EXPECT_EQ(m.matched.allocBytes, t.root().total.allocBytes);  // every stack, once
    const ProfileSearch none = searchProfile(t, QStringLiteral("no_such_function"));
    EXPECT_EQ(none.matchedNodes, 0u);
    EXPECT_EQ(none.matched.allocBytes, 0);
}

TEST(ProfileTree, LiveSamplesAndSpanFiller) {
    const session::HeapProfile p = syntheticProfile();
    const ProfileTree t = buildProfileTree(p, false);
    const int worker = childByFunction(t, t.root().children[0], QStringLiteral("worker"));
    const auto live = liveSamplesOf(p, stacksThrough(t, worker));
    ASSERT_EQ(live.size(), 2u);  // stack 3 has none live, stack 4 two
    EXPECT_EQ(live[0].addr, 0x9000u);
    SpanFiller f;
    ASSERT_TRUE(spanFilledBy(p, 0x1000, 0x3000, &f));
    EXPECT_EQ(f.frame.label(), QStringLiteral("json_decode (parser.c:120)"));
    EXPECT_EQ(f.samples, 3u);
    EXPECT_EQ(f.otherStacks, 0u);
    ASSERT_TRUE(spanFilledBy(p, 0x8000, 0xa000, &f));
    EXPECT_EQ(f.frame.function, QStringLiteral("read_file"));  // 4000 B against 128 B
    EXPECT_EQ(f.otherStacks, 1u);
    EXPECT_FALSE(spanFilledBy(p, 0x3000, 0x8000, &f));
}

// A window's tree over a skeleton of more stacks: the skeleton's other nodes stay in the shape
// but nothing shows them (the model's rows, search, the flame graph, the stacks through a node).
TEST(ProfileModel, WindowTreeShowsOnlyWhatTheWindowHolds) {
    const session::HeapProfile all = syntheticProfile();
    const ProfileTree skelTd = buildProfileTree(all, false), skelBu = buildProfileTree(all, true);
    session::HeapProfile w = all;  // stacks 1 and 4 only, keeping their indices in the session
    w.stacks = {all.stacks[0], all.stacks[3]};
    auto snap = std::make_shared<ProfileSnapshot>();
    snap->available = true;
    snap->profile = w;
    snap->topDown = profileTreeForWindow(skelTd, w);
    snap->bottomUp = profileTreeForWindow(skelBu, w);
    const ProfileTree& td = snap->topDown;
    EXPECT_EQ(td.size(), skelTd.size()) << "the skeleton's shape, shared";
    EXPECT_EQ(td.shape, skelTd.shape);
    const int main = childByFunction(td, 0, QStringLiteral("main"));
    const int parse = childByFunction(td, main, QStringLiteral("parse"));
    const int worker = childByFunction(td, main, QStringLiteral("worker"));
    const int readFile = childByFunction(td, parse, QStringLiteral("read_file"));
    ASSERT_GT(readFile, 0);
    EXPECT_FALSE(td.present(readFile));
    EXPECT_EQ(td.total(readFile).allocBytes, 0);
    EXPECT_EQ(td.total(parse).allocBytes, 500);
    EXPECT_EQ(td.total(0).allocBytes, 500 + 128);
    EXPECT_EQ(td.total(worker).inuseBytes, 128);
    EXPECT_EQ(td.shownChildren(parse).size(), 1u);
    EXPECT_EQ(td.shownChildren(worker).size(), 1u) << "json_decode under worker is not shown";
    // Stacks through parse: the window's first stack only.
    EXPECT_EQ(stacksThrough(td, parse), std::vector<size_t>{0});
    EXPECT_EQ(stacksThrough(td, worker), std::vector<size_t>{1});
    EXPECT_TRUE(stacksThrough(td, readFile).empty());
    // Search counts only what is shown.
    EXPECT_EQ(searchProfile(td, QStringLiteral("read_file")).matchedNodes, 0u);
    EXPECT_EQ(searchProfile(td, QStringLiteral("json")).matchedNodes, 1u);
    // The flame graph draws no box for it.
    for (const FlameBox& b : layoutFlameGraph(td, ProfileMetric::AllocBytes, 0, 1000, 20))
        EXPECT_TRUE(td.present(b.node)) << td.label(b.node).toStdString();
    for (bool bottomUp : {false, true}) {
        ProfileModel m(bottomUp);
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
        m.setProfile(snap);
        const ProfileTree& t = bottomUp ? snap->bottomUp : snap->topDown;
        // Every row, all the way down, is a present node; the rows are the present children.
        std::function<void(const QModelIndex&)> walk = [&](const QModelIndex& parent) {
            const int node = parent.isValid() ? parent.data(ProfileModel::kNodeRole).toInt() : 0;
            ASSERT_EQ(size_t(m.rowCount(parent)), t.shownChildren(node).size());
            for (int r = 0; r < m.rowCount(parent); r++) {
                const QModelIndex i = m.index(r, 0, parent);
                EXPECT_TRUE(t.present(i.data(ProfileModel::kNodeRole).toInt()));
                EXPECT_EQ(m.parent(i), parent);
                walk(i);
            }
        };
        walk({});
        EXPECT_EQ(m.rowCount(), bottomUp ? 2 : 1);  // json_decode and fill_cache; main
    }
    ProfileModel m(false);
    m.setProfile(snap);
    EXPECT_FALSE(m.indexOfNode(readFile).isValid());
    EXPECT_EQ(m.indexOfNode(parse).data().toString(), QStringLiteral("parse"));
}

TEST(ProfileModel, PassesModelTesterAndShowsFigures) {
    const ProfilePtr snap = snapshotOf(syntheticProfile());
    for (bool bottomUp : {false, true}) {
        ProfileModel m(bottomUp);
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
        m.setProfile(snap);
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&m);
        proxy.setSortRole(ProfileModel::kSortRole);
        QAbstractItemModelTester proxyTester(&proxy,
                                             QAbstractItemModelTester::FailureReportingMode::Fatal);
        proxy.sort(ProfileModel::InclusiveBytes, Qt::DescendingOrder);
        m.setMetric(ProfileMetric::AllocObjects);
        const ProfileSearch s =
            searchProfile(bottomUp ? snap->bottomUp : snap->topDown, QStringLiteral("json"));
        m.setSearch(&s);
        m.setProfile(nullptr);
        EXPECT_EQ(m.rowCount(), 0);
        m.setProfile(snap);
        m.setMetric(ProfileMetric::InuseBytes);
    }
    ProfileModel m(true);
    m.setProfile(snap);
    ASSERT_EQ(m.rowCount(), 3);
    int64_t sum = 0;
    for (int r = 0; r < m.rowCount(); r++)
        sum += m.index(r, ProfileModel::InclusiveBytes).data(ProfileModel::kSortRole).toLongLong();
    EXPECT_EQ(sum, snap->bottomUp.root().total.inuseBytes);
    const int json = childByFunction(snap->bottomUp, 0, QStringLiteral("json_decode"));
    const QModelIndex ji = m.indexOfNode(json);
    EXPECT_EQ(ji.data().toString(), QStringLiteral("json_decode"));
    EXPECT_EQ(m.indexOfNode(json, ProfileModel::Location).data().toString(),
              QStringLiteral("parser.c:120"));
    EXPECT_EQ(m.indexOfNode(json, ProfileModel::InclusiveBytes).data().toString(),
              QStringLiteral("300 B"));
    EXPECT_EQ(m.indexOfNode(json, ProfileModel::Share).data().toString(),
              QStringLiteral("6.8%"));  // 300 / 4428
    EXPECT_EQ(m.rowCount(ji), 2);
}

TEST(FlameGraph, WidthsFollowTheMetric) {
    const ProfileTree t = buildProfileTree(syntheticProfile(), false);
    const int width = 1000, row = 20;
    const auto boxes = layoutFlameGraph(t, ProfileMetric::AllocBytes, 0, width, row);
    const double total = double(t.root().total.allocBytes);
    std::map<int, QRectF> byNode;
    for (const FlameBox& b : boxes) byNode[b.node] = b.rect;
    ASSERT_EQ(byNode.size(), t.size());  // every node is wide enough at 1000 px
    for (const auto& [node, r] : byNode) {
        const ProfileNode n = t.node(node);
        EXPECT_NEAR(r.width(), width * double(n.total.allocBytes) / total, 1e-6);
        EXPECT_DOUBLE_EQ(r.top(), n.depth * row);
        if (n.parent >= 0) {  // inside its parent's span, one row below
            const QRectF& pr = byNode[n.parent];
            EXPECT_GE(r.left(), pr.left() - 1e-9);
            EXPECT_LE(r.right(), pr.right() + 1e-9);
        }
    }
    // In-use objects: stack 3 has none in use, so its json_decode box under worker is gone.
    const int worker = childByFunction(t, t.root().children[0], QStringLiteral("worker"));
    const int json3 = childByFunction(t, worker, QStringLiteral("json_decode"));
    for (const FlameBox& b : layoutFlameGraph(t, ProfileMetric::InuseObjects, 0, width, row))
        EXPECT_NE(b.node, json3);
    // Zoomed on worker: its ancestors full width on top, worker full width below them.
    const auto zoomed = layoutFlameGraph(t, ProfileMetric::AllocBytes, worker, width, row);
    for (const FlameBox& b : zoomed) {
        if (t.isAncestorOrSelf(b.node, worker)) {
            EXPECT_DOUBLE_EQ(b.rect.width(), width);
        } else {
            EXPECT_TRUE(t.isAncestorOrSelf(worker, b.node)) << "only worker's subtree below it";
        }
    }
}

TEST(FlameGraph, PixelsColourAndLabels) {
    const ProfileTree t = buildProfileTree(syntheticProfile(), false);
    QFont font;
    font.setPixelSize(12);
    const int row = QFontMetrics(font).height() + 6;
    const QSize size(1200, row * 6);
    const auto boxes = layoutFlameGraph(t, ProfileMetric::AllocBytes, 0, size.width(), row);
    FlameRenderOptions o;
    o.font = font;
    const QImage img = renderFlameGraph(t, boxes, size, o);
    // A pixel near each wide box's top right corner (above the text) has the frame's colour.
    for (const FlameBox& b : boxes) {
        if (b.rect.width() < 12) continue;
        const QPoint px(int(b.rect.right()) - 4, int(b.rect.top()) + 1);
        const ProfileNode n = t.node(b.node);
        const QRgb want =
            n.frame < 0 ? flamecolors::kRoot : flameColor(t.frames()[size_t(n.frame)]);
        EXPECT_EQ(img.pixel(px), want) << t.label(b.node).toStdString();
    }
    // Searching: matches magenta, the rest grey; the selected frame outlined.
    const ProfileSearch s = searchProfile(t, QStringLiteral("json"));
    o.search = &s;
    const int read =
        childByFunction(t, childByFunction(t, t.root().children[0], QStringLiteral("parse")),
                        QStringLiteral("read_file"));
    o.selectedNode = read;
    const QImage searched = renderFlameGraph(t, boxes, size, o);
    for (const FlameBox& b : boxes) {
        if (b.node == 0 || b.node == read || b.rect.width() < 12) continue;
        const QPoint px(int(b.rect.right()) - 4, int(b.rect.top()) + 1);
        EXPECT_EQ(searched.pixel(px),
                  s.matchedNode[size_t(b.node)] ? flamecolors::kMatch : flamecolors::kUnmatched)
            << t.label(b.node).toStdString();
    }
    for (const FlameBox& b : boxes)
        if (b.node == read) {
            EXPECT_EQ(searched.pixel(int(b.rect.left()) + 1, int(b.rect.center().y())),
                      flamecolors::kSelected);
        }
    // Labels: whole when they fit, the function elided when not, nothing in a sliver.
    const QFontMetrics fm(font);
    const FlameFrame f{QStringLiteral("json_decode"), QStringLiteral("/src/parser.c"), 120};
    EXPECT_EQ(flameBoxText(f, false, fm, 400), QStringLiteral("json_decode (parser.c:120)"));
    const QString elided =
        flameBoxText(f, false, fm, fm.horizontalAdvance(QStringLiteral("json_d")) + 6);
    EXPECT_TRUE(elided.startsWith(QStringLiteral("json"))) << elided.toStdString();
    EXPECT_TRUE(elided.endsWith(QChar(0x2026))) << elided.toStdString();
    EXPECT_TRUE(flameBoxText(f, false, fm, 8).isEmpty());
}

TEST(FlameGraph, ViewClickSelectsAndDoubleClickZooms) {
    const ProfileTree t = buildProfileTree(syntheticProfile(), false);
    FlameGraphView v;
    v.resize(800, 300);
    v.setTree(&t, ProfileMetric::AllocBytes);
    QSignalSpy clicked(&v, &FlameGraphView::nodeClicked);
    const int main = t.root().children[0];
    const int worker = childByFunction(t, main, QStringLiteral("worker"));
    QRectF wr;
    for (const FlameBox& b : v.boxes())
        if (b.node == worker) wr = b.rect;
    ASSERT_FALSE(wr.isNull());
    QTest::mouseClick(&v, Qt::LeftButton, {}, wr.center().toPoint());
    ASSERT_EQ(clicked.count(), 1);
    EXPECT_EQ(clicked.at(0).at(0).toInt(), worker);
    EXPECT_EQ(v.selectedNode(), worker);
    EXPECT_TRUE(v.tooltipFor(worker).contains(QStringLiteral("worker")));
    QTest::mouseDClick(&v, Qt::LeftButton, {}, wr.center().toPoint());
    EXPECT_EQ(v.zoomNode(), worker);
    for (const FlameBox& b : v.boxes())
        if (b.node == worker) {
            EXPECT_DOUBLE_EQ(b.rect.width(), 800);
        }
    QTest::keyClick(&v, Qt::Key_Escape);
    EXPECT_EQ(v.zoomNode(), 0);
}

TEST(Narration, NamesTheSiteThatFilledTheSpan) {
    Event e{};
    e.kind = EventKind::SpanUncache;
    e.addr = 0xc000004000;
    e.spanClass = 5 << 1 | 1;
    e.a = 170, e.b = 170, e.flags = 1;
    NarrationContext ctx;
    const QString plain = narrate(e, {}, ctx);
    EXPECT_FALSE(plain.contains(QStringLiteral("filled")));
    ctx.filledBy = QStringLiteral("json_decode (parser.c:120)");
    EXPECT_EQ(narrate(e, {}, ctx),
              plain + QStringLiteral(" — this span was filled by json_decode (parser.c:120)"));
    ctx.filledByOthers = 2;
    EXPECT_TRUE(narrate(e, {}, ctx)
                    .endsWith(QStringLiteral("json_decode (parser.c:120) and 2 other sites")));
}

// ---- A real program with known allocation sites --------------------------------------------

namespace {

// prof_sites recorded once per test process, every allocation sampled.
class ProfSites : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = new QTemporaryDir;
        s_path = s_dir->filePath(QStringLiteral("prof_sites.spanscope"));
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("SPANSCOPE_MEMPROFILERATE"), QStringLiteral("1"));
        env.remove(QStringLiteral("LD_PRELOAD"));
        p.setProcessEnvironment(env);
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(QStringLiteral(SPANSCOPE_CLI),
                {QStringLiteral("record"), QStringLiteral("--force"), QStringLiteral("-o"), s_path,
                 QStringLiteral("--"), QStringLiteral(SPANSCOPE_PROF_SITES)});
        s_ok = p.waitForFinished(120000) && p.exitStatus() == QProcess::NormalExit &&
               p.exitCode() == 0;
        s_output = p.readAll();
    }
    static void TearDownTestSuite() {
        delete s_dir;
        s_dir = nullptr;
    }
    void SetUp() override {
        ASSERT_TRUE(s_ok) << "spanscope-cli record prof_sites:\n" << s_output.toStdString();
    }

    // 'spanscope-cli top --tsv': function -> in-use bytes, objects, allocated bytes, objects.
    static std::map<QString, std::array<int64_t, 4>> cliTop(const QStringList& extra = {}) {
        QProcess p;
        p.start(QStringLiteral(SPANSCOPE_CLI),
                QStringList{QStringLiteral("top"), s_path, QStringLiteral("--tsv"),
                            QStringLiteral("-n"), QStringLiteral("1000")} +
                    extra);
        std::map<QString, std::array<int64_t, 4>> out;
        if (!p.waitForFinished(60000) || p.exitCode() != 0) {
            ADD_FAILURE() << "spanscope-cli top: " << p.readAllStandardError().toStdString();
            return out;
        }
        for (const QString& line : QString::fromUtf8(p.readAllStandardOutput())
                                       .split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
            const QStringList f = line.split(QLatin1Char('\t'));
            if (f.size() != 5) continue;
            out[f[4]] = {f[0].toLongLong(), f[1].toLongLong(), f[2].toLongLong(),
                         f[3].toLongLong()};
        }
        return out;
    }

    // The bottom-up roots (allocating frames) summed per function, as 'top' groups its sites.
    static std::map<QString, std::array<int64_t, 4>> sitesOf(const ProfileTree& bu) {
        std::map<QString, std::array<int64_t, 4>> out;
        for (int c : bu.root().children) {
            const ProfileNode n = bu.node(c);
            auto& v = out[bu.frames()[size_t(n.frame)].function];
            v[0] += n.total.inuseBytes, v[1] += n.total.inuseObjects, v[2] += n.total.allocBytes,
                v[3] += n.total.allocObjects;
        }
        return out;
    }

    static QTemporaryDir* s_dir;
    static QString s_path;
    static bool s_ok;
    static QByteArray s_output;
};
QTemporaryDir* ProfSites::s_dir = nullptr;
QString ProfSites::s_path;
bool ProfSites::s_ok = false;
QByteArray ProfSites::s_output;

}  // namespace

TEST_F(ProfSites, TreesAgreeWithTheCliAndKnowTheSites) {
    session::HeapProfile hp;
    std::string err;
    ASSERT_TRUE(session::loadHeapProfile(s_path.toStdString(), 0, -1, false, &hp, &err)) << err;
    EXPECT_TRUE(hp.symbolized);
    const ProfileTree td = buildProfileTree(hp, false), bu = buildProfileTree(hp, true);
    const auto sites = sitesOf(bu);
    const auto cli = cliTop();
    ASSERT_FALSE(cli.empty());
    EXPECT_EQ(sites, cli) << "the GUI's per-site figures are the CLI's";
    // The three known sites, exactly (every allocation sampled): 1 MiB, 10 MiB, and 100 MiB of
    // which half is freed; 1 KiB objects.
    const std::map<QString, std::array<int64_t, 4>> want = {
        {QStringLiteral("alloc_one_mib"), {int64_t(kMiB), 1024, int64_t(kMiB), 1024}},
        {QStringLiteral("alloc_ten_mib"), {int64_t(10 * kMiB), 10240, int64_t(10 * kMiB), 10240}},
        {QStringLiteral("alloc_hundred_mib"),
         {int64_t(50 * kMiB), 51200, int64_t(100 * kMiB), 102400}}};
    // A machine too busy for the drain thread drops records (the program never waits for the
    // recorder): a resync rundown restores what is in use, not what was allocated in the gap. With
    // gaps, in-use figures stay exact and allocated ones may only fall short.
    auto reader = session::SessionReader::open(s_path.toStdString(), &err);
    ASSERT_TRUE(reader) << err;
    const bool gaps = !reader->info().gaps.empty();
    if (gaps)
        std::fprintf(
            stderr,
            "note: %zu gap(s) of dropped records: allocated figures checked as upper bounds\n",
            reader->info().gaps.size());
    for (const auto& [fn, v] : want) {
        ASSERT_TRUE(sites.count(fn)) << fn.toStdString();
        if (!gaps) {
            EXPECT_EQ(sites.at(fn), v) << fn.toStdString();
        } else {
            EXPECT_EQ(sites.at(fn)[0], v[0]) << fn.toStdString();
            EXPECT_EQ(sites.at(fn)[1], v[1]) << fn.toStdString();
            EXPECT_LE(sites.at(fn)[2], v[2]) << fn.toStdString();
            EXPECT_LE(sites.at(fn)[3], v[3]) << fn.toStdString();
            EXPECT_GT(sites.at(fn)[2], 0) << fn.toStdString();
        }
        // Top-down: the function's self figures are the same, and main is above it.
        EXPECT_EQ(sumOver(td, fn, [](const ProfileNode& n) { return n.self.inuseBytes; }), v[0]);
        for (const ProfileNode& n : allNodes(td))
            if (n.frame >= 0 && td.frames()[size_t(n.frame)].function == fn) {
                EXPECT_TRUE(
                    td.frames()[size_t(n.frame)].file.endsWith(QStringLiteral("prof_sites.c")));
                bool underMain = false;
                for (int a = n.parent; a > 0; a = td.node(a).parent)
                    underMain |=
                        td.frames()[size_t(td.node(a).frame)].function == QStringLiteral("main");
                EXPECT_TRUE(underMain) << fn.toStdString();
            }
    }
    // The three sites hold all the bytes in use but main's keep array (111 Ki pointers) and what
    // libc and the loader allocate for themselves.
    const int64_t three = sites.at(QStringLiteral("alloc_one_mib"))[0] +
                          sites.at(QStringLiteral("alloc_ten_mib"))[0] +
                          sites.at(QStringLiteral("alloc_hundred_mib"))[0];
    EXPECT_GT(td.root().total.inuseBytes, three + int64_t(111 * 1024 * sizeof(void*)) - 1);
    EXPECT_LT(td.root().total.inuseBytes, three + int64_t(2 * kMiB));
    // A range: the same agreement with 'top --range'.
    const int64_t mid = hp.endNs / 2;
    session::HeapProfile ranged;
    ASSERT_TRUE(session::loadHeapProfile(s_path.toStdString(), 0, mid, true, &ranged, &err)) << err;
    EXPECT_EQ(sitesOf(buildProfileTree(ranged, true)),
              cliTop({QStringLiteral("--range"), QStringLiteral("0..%1ns").arg(mid)}));
}

namespace {

// Two trees show the same: from the root down, the same present children in the same order (by
// label), with the same depth and every figure; each stack's path ends at the same place.
void expectSameSubtree(const ProfileTree& a, int x, const ProfileTree& b, int y,
                       const std::string& what, size_t* visited) {
    ++*visited;
    const std::string where = what + " at " + a.label(x).toStdString();
    ASSERT_EQ(a.label(x), b.label(y)) << where;
    ASSERT_EQ(a.depth(x), b.depth(y)) << where;
    for (const auto& [v, w] :
         {std::make_pair(a.total(x), b.total(y)), std::make_pair(a.self(x), b.self(y))}) {
        EXPECT_EQ(v.inuseBytes, w.inuseBytes) << where;
        EXPECT_EQ(v.inuseObjects, w.inuseObjects) << where;
        EXPECT_EQ(v.allocBytes, w.allocBytes) << where;
        EXPECT_EQ(v.allocObjects, w.allocObjects) << where;
    }
    const std::vector<int> xs = a.shownChildren(x), ys = b.shownChildren(y);
    ASSERT_EQ(xs.size(), ys.size()) << where;
    for (size_t c = 0; c < xs.size(); c++) {
        ASSERT_EQ(a.parent(xs[c]), x) << where;
        expectSameSubtree(a, xs[c], b, ys[c], what, visited);
    }
}

std::vector<QString> pathTo(const ProfileTree& t, int node) {
    std::vector<QString> out;
    for (int n = node; n > 0; n = t.parent(n)) out.push_back(t.label(n));
    return out;
}

void expectSameTree(const ProfileTree& a, const ProfileTree& b, const std::string& what) {
    size_t visited = 0;
    expectSameSubtree(a, 0, b, 0, what, &visited);
    // Every node of the tree built from the window's stacks alone is shown.
    size_t present = 0;
    for (size_t n = 0; n < b.size(); n++) present += b.present(int(n));
    EXPECT_EQ(visited, present) << what;
    ASSERT_EQ(a.stackNode.size(), b.stackNode.size()) << what;
    for (size_t i = 0; i < a.stackNode.size(); i++)
        ASSERT_EQ(pathTo(a, a.stackNode[i]), pathTo(b, b.stackNode[i])) << what << " stack " << i;
}

// Two windows hold the same stacks with the same counts, and the same live samples.
void expectSameWindow(const session::HeapProfile& a, const session::HeapProfile& b,
                      const std::string& what) {
    ASSERT_EQ(a.stacks.size(), b.stacks.size()) << what;
    for (size_t i = 0; i < a.stacks.size(); i++) {
        const session::ProfileStack &x = a.stacks[i], &y = b.stacks[i];
        EXPECT_EQ(x.id, y.id) << what;
        EXPECT_EQ(x.pcs, y.pcs) << what;
        EXPECT_EQ(
            std::make_tuple(x.allocObjects, x.allocBytes, x.inuseObjects, x.inuseBytes, x.rate),
            std::make_tuple(y.allocObjects, y.allocBytes, y.inuseObjects, y.inuseBytes, y.rate))
            << what;
    }
    ASSERT_EQ(a.live.size(), b.live.size()) << what;
    for (size_t i = 0; i < a.live.size(); i++)
        EXPECT_EQ(std::make_tuple(a.live[i].addr, a.live[i].bytes, a.live[i].stack, a.live[i].tNs),
                  std::make_tuple(b.live[i].addr, b.live[i].bytes, b.live[i].stack, b.live[i].tNs))
            << what;
}

}  // namespace

// The viewer's way (the profile kept in memory, trees folded into skeletons over every stack)
// gives the trees built from scratch for the same window, at moments across the session and for
// ranges, and every stack counted once in the whole session.
TEST_F(ProfSites, TreesFromSkeletonsAreTheTreesBuiltFromScratch) {
    session::HeapProfileData d;
    std::string err;
    ASSERT_TRUE(d.load(s_path.toStdString(), &err)) << err;
    const session::HeapProfile all = allStacksOf(d);
    const ProfileTree skelTd = buildProfileTree(all, false), skelBu = buildProfileTree(all, true);
    const int64_t end = d.window(0, -1, false).endNs;
    ASSERT_GT(end, 0);
    size_t nonEmpty = 0, partial = 0, complete = 0;
    for (int k = 0; k <= 10; k++) {
        for (bool ranged : {false, true}) {
            const int64_t at = k == 10 ? -1 : end * k / 10;
            const int64_t from = ranged ? end * k / 20 : 0;
            const std::string what = (ranged ? "range from " + std::to_string(from) + " " : "") +
                                     "at " + std::to_string(at);
            const session::HeapProfile w = d.window(from, at, ranged);
            for (const session::ProfileStack& s : w.stacks)
                ASSERT_EQ(d.stacks()[s.index].id, s.id) << what;
            expectSameTree(profileTreeForWindow(skelTd, w), buildProfileTree(w, false),
                           what + " top-down");
            expectSameTree(profileTreeForWindow(skelBu, w), buildProfileTree(w, true),
                           what + " bottom-up");
            nonEmpty += !w.stacks.empty();
            partial += !w.stacks.empty() && w.stacks.size() < d.stacks().size();
            complete += w.stacks.size() == d.stacks().size();
        }
    }
    EXPECT_GT(nonEmpty, 10u);
    EXPECT_GT(complete, 0u) << "some window holds every stack (the skeleton's shape, shared)";
    EXPECT_GT(partial, 2u)
        << "some windows hold only some of the stacks (the skeleton's other nodes left out)";
    // The whole session's window counts every allocation sample once.
    uint64_t allocs = 0;
    for (const session::ProfileStack& s : d.window(0, -1, false).stacks) allocs += s.allocObjects;
    uint64_t rows = 0;
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open_v2(s_path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr),
                  SQLITE_OK);
        ASSERT_EQ(session::registerSessionTables(db), SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "SELECT count(*) FROM prof_samples WHERE kind = 1", -1, &st,
                           nullptr);
        if (sqlite3_step(st) == SQLITE_ROW) rows = uint64_t(sqlite3_column_int64(st, 0));
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    EXPECT_EQ(allocs, rows);
}

// A live recording: the profile read while the session held half its samples (and only their
// stacks), then refreshed after the rest was committed, equals the profile read at once.
TEST_F(ProfSites, RefreshReadsWhatWasAppended) {
    QTemporaryDir dir;
    const QString copy = dir.filePath(QStringLiteral("growing.spanscope"));
    ASSERT_TRUE(QFile::copy(s_path, copy));
    auto exec = [](sqlite3* db, const std::string& sql) {
        char* msg = nullptr;
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
        EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (msg ? msg : "");
        sqlite3_free(msg);
    };
    // Every sample of the session, as the recorder wrote them (read through `prof_samples`).
    std::vector<std::pair<int64_t, session::detail::BlockRecord>> all;
    {
        sqlite3* r = nullptr;
        ASSERT_EQ(sqlite3_open_v2(s_path.toUtf8().constData(), &r, SQLITE_OPEN_READONLY, nullptr),
                  SQLITE_OK);
        ASSERT_EQ(session::registerSessionTables(r), SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(r,
                           "SELECT id, t_ns, kind, addr, bytes, stack, rate, managed FROM "
                           "prof_samples ORDER BY id",
                           -1, &st, nullptr);
        while (sqlite3_step(st) == SQLITE_ROW) {
            auto col = [&](int i) { return sqlite3_column_int64(st, i); };
            session::detail::BlockRecord rec{col(1), Event{}};
            rec.e.timeNs = uint64_t(rec.t);
            rec.e.kind = static_cast<EventKind>(col(2));
            rec.e.addr = uint64_t(col(3)), rec.e.a = uint64_t(col(4)), rec.e.b = uint64_t(col(5));
            rec.e.c = uint64_t(col(6)), rec.e.flags = uint8_t(col(7));
            all.emplace_back(col(0), rec);
        }
        sqlite3_finalize(st);
        sqlite3_close(r);
    }
    ASSERT_GT(all.size(), 100u);
    const size_t half = all.size() / 2;
    // Samples [from, to) written in blocks, as the recorder commits them.
    auto writeSamples = [&all](sqlite3* db, size_t from, size_t to) {
        session::detail::BlockWriter bw;
        if (!bw.init(db, "prof_sample_blocks", "prof_sample_block_data")) return false;
        for (size_t b = from; b < to; b += session::detail::kBlockRecords) {
            std::vector<session::detail::BlockRecord> recs;
            for (size_t i = b; i < to && i < b + session::detail::kBlockRecords; i++)
                recs.push_back(all[i].second);
            if (!bw.write(all[b].first, recs.data(), recs.size())) return false;
        }
        return true;
    };
    sqlite3* w = nullptr;
    ASSERT_EQ(sqlite3_open(copy.toUtf8().constData(), &w), SQLITE_OK);
    const std::string orig = "'" + s_path.toStdString() + "'";
    exec(w, "ATTACH " + orig + " AS orig");
    ASSERT_EQ(session::registerSessionTables(w), SQLITE_OK);
    exec(w, "DELETE FROM prof_sample_blocks; DELETE FROM prof_sample_block_data");
    ASSERT_TRUE(writeSamples(w, 0, half)) << sqlite3_errmsg(w);
    exec(w, "DELETE FROM prof_stacks WHERE stack NOT IN (SELECT stack FROM prof_samples)");
    session::HeapProfileData d;
    std::string err;
    ASSERT_TRUE(d.load(copy.toStdString(), &err)) << err;
    const size_t halfStacks = d.stacks().size();
    const uint64_t halfSamples = d.samples();
    const uint64_t version = d.stacksVersion();
    ASSERT_TRUE(d.refresh(&err)) << err;
    EXPECT_EQ(d.stacksVersion(), version) << "nothing committed: nothing read";
    // The rest arrives: stacks first, as the recorder writes them.
    exec(w, "INSERT OR IGNORE INTO prof_stacks SELECT * FROM orig.prof_stacks");
    ASSERT_TRUE(writeSamples(w, half, all.size())) << sqlite3_errmsg(w);
    ASSERT_TRUE(d.refresh(&err)) << err;
    sqlite3_close(w);
    EXPECT_GT(d.samples(), halfSamples);
    EXPECT_GT(d.stacks().size(), halfStacks) << "the second half brought stacks of its own";
    EXPECT_NE(d.stacksVersion(), version);
    session::HeapProfileData whole;
    ASSERT_TRUE(whole.load(s_path.toStdString(), &err)) << err;
    EXPECT_EQ(d.samples(), whole.samples());
    EXPECT_EQ(d.stacks().size(), whole.stacks().size());
    const int64_t end = whole.window(0, -1, false).endNs;
    for (int k = 1; k <= 4; k++) {
        const int64_t at = k == 4 ? -1 : end * k / 4;
        // Stacks are numbered in the order each reader met them: compare by id.
        auto byId = [](session::HeapProfile p) {
            std::sort(p.stacks.begin(), p.stacks.end(),
                      [](auto& a, auto& b) { return a.id < b.id; });
            return p;
        };
        expectSameWindow(byId(d.window(0, at, false)), byId(whole.window(0, at, false)),
                         "at " + std::to_string(at));
        expectSameWindow(byId(d.window(end / 8, at, true)), byId(whole.window(end / 8, at, true)),
                         "range at " + std::to_string(at));
    }
}

// A session of schema version 3 (one real `prof_samples` row per sample) reads the same profile,
// answers the same queries as the virtual table of version 4, and upgrades to version 4.
TEST_F(ProfSites, AVersion3SessionReadsTheSameAndUpgrades) {
    QTemporaryDir dir;
    const std::string copy = dir.filePath(QStringLiteral("v3.spanscope")).toStdString();
    ASSERT_TRUE(QFile::copy(s_path, QString::fromStdString(copy)));
    auto sqlInts = [](sqlite3* db, const char* sql) {
        std::vector<int64_t> v;
        sqlite3_stmt* st = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
        while (sqlite3_step(st) == SQLITE_ROW)
            for (int i = 0; i < sqlite3_column_count(st); i++)
                v.push_back(sqlite3_column_int64(st, i));
        sqlite3_finalize(st);
        return v;
    };
    // Queries whose constraints the virtual table pushes down (id, t_ns, kind) or leaves to SQLite.
    const char* const queries[] = {
        "SELECT count(*), sum(bytes), sum(addr % 65536), sum(stack % 65536), sum(rate), "
        "sum(managed) FROM prof_samples",
        "SELECT count(*), sum(bytes) FROM prof_samples WHERE kind = 2",
        "SELECT count(*) FROM prof_samples WHERE id > 100 AND id <= 9000",
        "SELECT id, t_ns, addr FROM prof_samples WHERE id = 77",
        "SELECT count(*) FROM prof_samples WHERE t_ns BETWEEN (SELECT end_ns / 3 FROM session) AND "
        "(SELECT end_ns / 2 FROM session)",
        "SELECT kind, count(*) FROM prof_samples WHERE kind IN (1, 2) GROUP BY kind ORDER BY kind",
    };
    std::vector<std::vector<int64_t>> v4;
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(copy.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(session::registerSessionTables(db), SQLITE_OK);
    for (const char* q : queries) v4.push_back(sqlInts(db, q));
    ASSERT_GT(v4[0][0], 100) << "the session holds samples";
    ASSERT_EQ(v4[3].size(), 3u);
    // Version 3: the samples as a real table, no blocks.
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE v3 AS SELECT * FROM prof_samples;"
                           "DROP TABLE prof_sample_blocks; DROP TABLE prof_sample_block_data;"
                           "ALTER TABLE v3 RENAME TO prof_samples; PRAGMA user_version = 3;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
    auto sameProfile = [&](const char* what) {
        session::HeapProfileData a, b;
        std::string err;
        ASSERT_TRUE(a.load(copy, &err)) << what << ": " << err;
        ASSERT_TRUE(b.load(s_path.toStdString(), &err)) << err;
        EXPECT_EQ(a.samples(), b.samples()) << what;
        const int64_t end = b.window(0, -1, false).endNs;
        for (int k = 1; k <= 3; k++)
            expectSameWindow(a.window(0, k == 3 ? -1 : end * k / 3, false),
                             b.window(0, k == 3 ? -1 : end * k / 3, false), what);
        sqlite3* c = nullptr;
        ASSERT_EQ(sqlite3_open_v2(copy.c_str(), &c, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        ASSERT_EQ(session::registerSessionTables(c), SQLITE_OK);
        for (size_t i = 0; i < std::size(queries); i++)
            EXPECT_EQ(sqlInts(c, queries[i]), v4[i]) << what << ": " << queries[i];
        sqlite3_close(c);
    };
    sameProfile("version 3");
    std::string msg;
    EXPECT_EQ(session::upgradeSession(copy, &msg), session::UpgradeResult::Upgraded) << msg;
    EXPECT_NE(msg.find("from schema version 3"), std::string::npos) << msg;
    sameProfile("upgraded");
    ASSERT_EQ(sqlite3_open(copy.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlInts(db, "PRAGMA user_version"), std::vector<int64_t>{session::kSchemaVersion});
    EXPECT_EQ(sqlInts(db, "SELECT count(*) FROM sqlite_master WHERE name = 'prof_samples'"),
              std::vector<int64_t>{0});
    sqlite3_close(db);
}

// A damaged sample block: `check` names the heap profile, and the profile's reader refuses it with
// the block's number (as `top` and `pprof` print it); the rest of the session is sound.
TEST_F(ProfSites, ADamagedSampleBlockIsNamed) {
    QTemporaryDir dir;
    const std::string copy = dir.filePath(QStringLiteral("damaged.spanscope")).toStdString();
    ASSERT_TRUE(QFile::copy(s_path, QString::fromStdString(copy)));
    EXPECT_TRUE(session::checkSession(copy).empty());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(copy.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "UPDATE prof_sample_block_data SET data = substr(data, 1, 20) || "
                           "X'00112233' || substr(data, 25) WHERE id = (SELECT max(id) FROM "
                           "prof_sample_block_data)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    const auto problems = session::checkSession(copy);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].part, "heap profile");
    EXPECT_FALSE(problems[0].fatal);
    EXPECT_NE(problems[0].what.find("damaged"), std::string::npos) << problems[0].what;
    session::HeapProfileData d;
    std::string err;
    EXPECT_FALSE(d.load(copy, &err));
    EXPECT_NE(err.find("(block "), std::string::npos) << err;
}

// What the allocator allocates for itself through the program's malloc (its background thread's
// TLS, started by a sweep cycle that one of the sites' mallocs began) is under the allocator's
// function, never under a site: every stack through a site allocates in that site itself.
TEST_F(ProfSites, TheAllocatorsOwnAllocationsAreNotUnderTheProgramsStacks) {
    session::HeapProfile hp;
    std::string err;
    ASSERT_TRUE(session::loadHeapProfile(s_path.toStdString(), 0, -1, false, &hp, &err)) << err;
    size_t own = 0;
    for (const session::ProfileStack& s : hp.stacks) {
        const std::vector<FlameFrame> frames = stackFrames(hp, s);  // outermost first
        const QString leaf = frames.back().function;
        bool underMain = false, background = false;
        for (const FlameFrame& f : frames) {
            if (f.function.startsWith(QStringLiteral("alloc_")) &&
                f.function.endsWith(QStringLiteral("_mib"))) {
                EXPECT_EQ(leaf, f.function) << "a stack through " << f.function.toStdString()
                                            << " allocates in " << leaf.toStdString();
            }
            underMain |= f.function == QStringLiteral("main");
            background |= f.function.contains(QStringLiteral("MHeap::startBackground"));
        }
        if (background) {
            own++;
            EXPECT_FALSE(underMain) << "the background thread's start is the allocator's";
            EXPECT_TRUE(frames.front().function.startsWith(QStringLiteral("spanscope::detail::")))
                << frames.front().function.toStdString();
        }
    }
    EXPECT_GE(own, 1u)
        << "prof_sites' 111 MiB start a sweep cycle, which starts the background thread";
}

// `spanscope --profile FUNCTION --screenshot`: the picture shows the Profile dock with the function
// searched (its frames in the match colour). The dock used to stay behind the Fragmentation tab,
// where the panel does not fold the profile, and the picture came from the 30 s fallback without
// it.
TEST_F(ProfSites, ExecutableScreenshotWithProfileShowsTheSearchedFrame) {
    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("profile.png"));
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.filePath(QStringLiteral("config")));
    p.setProcessEnvironment(env);
    p.start(
        QStringLiteral(SPANSCOPE_GUI),
        {s_path, QStringLiteral("--size"), QStringLiteral("1200x800"), QStringLiteral("--profile"),
         QStringLiteral("alloc_ten_mib"), QStringLiteral("--screenshot"), png});
    ASSERT_TRUE(p.waitForFinished(60000));
    EXPECT_EQ(p.exitCode(), 0) << p.readAllStandardError().toStdString();
    const QImage img(png);
    ASSERT_FALSE(img.isNull());
    int matched = 0;
    for (int y = 0; y < img.height(); y++)
        for (int x = 0; x < img.width(); x++) matched += img.pixel(x, y) == flamecolors::kMatch;
    EXPECT_GT(matched, 500)
        << "no frame in the search's match colour: the Profile dock is not shown";
}

TEST_F(ProfSites, WindowPanelSearchHighlightInspectorAndPresenter) {
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    w.openFile(s_path);
    ProfilePanel* panel = w.profilePanel();
    // Behind the fragmentation tab the panel does not fold the profile; in front it does.
    ASSERT_TRUE(uitest::waitFor([&] { return w.moment() != nullptr; }));
    QTest::qWait(300);
    EXPECT_TRUE(!panel->profile() && panel->stale());
    auto* profileDock = w.findChild<QDockWidget*>(QStringLiteral("profile"));
    ASSERT_NE(profileDock, nullptr);
    profileDock->raise();
    ASSERT_TRUE(uitest::waitFor(
        [&] {
            return panel->profile() && panel->profile()->available && w.summary() &&
                   panel->profile()->tNs == w.summary()->info.endNs;
        },
        60000))
        << panel->summaryText().toStdString();
    const ProfilePtr prof = panel->profile();
    // The panel's models and summary show the CLI's totals.
    const auto cli = cliTop();
    int64_t cliInuse = 0, cliObjects = 0;
    for (const auto& [fn, v] : cli) cliInuse += v[0], cliObjects += v[1];
    EXPECT_EQ(prof->topDown.root().total.inuseBytes, cliInuse);
    const ProfileModel* bu = panel->bottomUpModel();
    int64_t sum = 0;
    for (int r = 0; r < bu->rowCount(); r++)
        sum +=
            bu->index(r, ProfileModel::InclusiveBytes).data(ProfileModel::kSortRole).toLongLong();
    EXPECT_EQ(sum, cliInuse);
    EXPECT_TRUE(panel->summaryText().contains(formatBytes(uint64_t(cliInuse))))
        << panel->summaryText().toStdString();
    EXPECT_TRUE(panel->summaryText().contains(formatCount(uint64_t(cliObjects))))
        << panel->summaryText().toStdString();

    // Search: the share of the bytes in use in stacks through alloc_ten_mib, as the reader's stacks
    // say: its 10 MiB exactly (what the allocator allocates for itself is not under it).
    int64_t throughTen = 0;
    std::set<uint64_t> tenStacks;
    for (const auto& st : prof->profile.stacks)
        for (const FlameFrame& f : stackFrames(prof->profile, st))
            if (f.function == QStringLiteral("alloc_ten_mib")) {
                throughTen += int64_t(st.inuseBytes);  // rate 1: no scaling
                tenStacks.insert(st.id);
                break;
            }
    EXPECT_EQ(throughTen, int64_t(10 * kMiB));
    QTreeView* tdView = panel->topDownView();
    ASSERT_TRUE(tdView->isExpanded(tdView->model()->index(0, 0))) << "the heaviest path is opened";
    panel->setSearch(QStringLiteral("alloc_ten"));
    EXPECT_TRUE(tdView->isExpanded(tdView->model()->index(0, 0))) << "a search keeps the rows open";
    EXPECT_EQ(panel->search().matched.inuseBytes, throughTen);
    EXPECT_TRUE(panel->matchText().contains(
        QStringLiteral("%1%").arg(100.0 * double(throughTen) / double(cliInuse), 0, 'f', 1)))
        << panel->matchText().toStdString();
    panel->setSearch(QString());

    // Selecting alloc_ten_mib's frame outlines exactly the spans holding its 10,240 live objects.
    int ten = -1;
    const ProfileTree& td = prof->topDown;
    for (size_t n = 0; n < td.size(); n++)
        if (td.node(int(n)).frame >= 0 &&
            td.frames()[size_t(td.node(int(n)).frame)].function == QStringLiteral("alloc_ten_mib"))
            ten = int(n);
    ASSERT_GT(ten, 0);
    const QImage before = w.heapMap()->image();
    panel->selectNode(ten);
    size_t liveThroughTen = 0;
    for (const auto& s : prof->profile.live) liveThroughTen += tenStacks.count(s.stack);
    EXPECT_GE(liveThroughTen, 10240u);
    EXPECT_EQ(panel->selectedSamples().size(), liveThroughTen);
    const auto& marked = w.heapMap()->markedAddresses();
    ASSERT_EQ(marked.size(), liveThroughTen);
    const HeapScene* scene = w.heapMap()->scene();
    ASSERT_TRUE(scene);
    const auto tiles = tilesHolding(*scene, marked);
    // 10 MiB of 1 KiB objects: at least 10 MiB of spans, and hardly more (a span shared with
    // alloc_one_mib's last objects).
    uint64_t spanBytes = 0;
    for (size_t i : tiles) {
        const Tile& t = scene->tiles[i];
        spanBytes += t.end(scene->pageSize) - t.base;
        EXPECT_EQ(t.kind, TileKind::Span);
    }
    EXPECT_GE(spanBytes, 10 * kMiB);
    EXPECT_LE(spanBytes, 11 * kMiB);
    EXPECT_TRUE(w.heapMap()->image() != before) << "the outlines are drawn";
    // Selection and zoom stay on the same frame when the cursor moves (a new profile, new nodes).
    panel->flameGraph()->zoomTo(ten);
    w.seekTo(w.summary()->info.endNs - 1);
    ASSERT_TRUE(uitest::waitFor(
        [&] { return panel->profile() && panel->profile()->tNs == w.summary()->info.endNs - 1; },
        60000));
    ASSERT_GT(panel->selectedNode(), 0);
    EXPECT_EQ(panel->profile()->topDown.label(panel->selectedNode()), td.label(ten));
    EXPECT_EQ(panel->flameGraph()->zoomNode(), panel->selectedNode());
    panel->flameGraph()->zoomTo(0);
    panel->selectNode(-1);
    EXPECT_TRUE(w.heapMap()->markedAddresses().empty());

    // A time range selected on the timeline: what was allocated in it, as 'top --range'.
    const int64_t mid = w.summary()->info.endNs / 2;
    w.timeline()->setSelection(0, mid);
    profileDock->raise();  // (a selection brings the Range tab to the front)
    ASSERT_TRUE(panel->range().has_value());
    EXPECT_EQ(*panel->range(), std::make_pair(int64_t(0), mid));
    EXPECT_EQ(panel->metric(), ProfileMetric::AllocBytes);
    ASSERT_TRUE(
        uitest::waitFor([&] { return panel->profile() && panel->profile()->ranged; }, 60000));
    int64_t cliRanged = 0;
    for (const auto& [fn, v] :
         cliTop({QStringLiteral("--range"), QStringLiteral("0..%1ns").arg(mid)}))
        cliRanged += v[2];
    EXPECT_EQ(panel->profile()->topDown.root().total.allocBytes, cliRanged);
    EXPECT_TRUE(panel->summaryText().startsWith(QStringLiteral("Allocated in")))
        << panel->summaryText().toStdString();
    w.timeline()->clearSelection();
    profileDock->raise();
    EXPECT_FALSE(panel->range().has_value());
    EXPECT_EQ(panel->metric(), ProfileMetric::InuseBytes);
    ASSERT_TRUE(
        uitest::waitFor([&] { return panel->profile() && !panel->profile()->ranged; }, 60000));

    // The span inspector lists the span's sampled allocations with their stacks.
    uint64_t addr = 0;
    for (const auto& s : prof->profile.live)
        if (tenStacks.count(s.stack) && s.bytes == 1024) addr = s.addr;
    ASSERT_NE(addr, 0u);
    w.inspectSpan(addr);
    ASSERT_TRUE(uitest::waitFor([&] { return !w.spanInspector()->samples().empty(); }, 30000))
        << w.spanInspector()->samplesTitle().toStdString();
    const auto& samples = w.spanInspector()->samples();
    const session::SpanRecord& span = w.spanInspector()->objects()->objects.span;
    for (const auto& s : samples) {
        EXPECT_GE(s.addr, span.base);
        EXPECT_LT(s.addr, span.base + uint64_t{span.npages} * 8192);
    }
    EXPECT_LE(samples.size(), size_t(span.nelems));
    EXPECT_TRUE(w.spanInspector()->samplesTitle().contains(QString::number(samples.size())));
    const QTreeWidgetItem* first = w.spanInspector()->samplesView()->topLevelItem(0);
    ASSERT_TRUE(first);
    EXPECT_TRUE(first->text(0).contains(QStringLiteral("prof_sites.c:")))
        << first->text(0).toStdString();
    EXPECT_GE(first->childCount(), 2);  // the stack: the site, then main

    // The presenter narrates who filled a span: main's keep array is a large object of its own
    // (111 Ki pointers), allocated at prof_sites.c's calloc line.
    SessionClient client;
    client.open(s_path);
    ASSERT_TRUE(uitest::waitFor([&] { return client.isOpen(); }));
    QStringList filled;
    int64_t t = 0, id = 0;
    for (int step = 0; step < 20; step++) {
        EventPtr got;
        auto c = QObject::connect(&client, &SessionClient::eventFound,
                                  [&](const EventPtr& e) { got = e; });
        client.findEvent(t, id, +1, {uint16_t(EventKind::LargeAlloc)});
        ASSERT_TRUE(uitest::waitFor([&] { return got != nullptr; }, 30000));
        QObject::disconnect(c);
        if (!got->found) break;
        t = int64_t(got->row.event.timeNs), id = got->row.id;
        filled << got->context.filledBy;
        if (got->context.filledBy.startsWith(QStringLiteral("main (prof_sites.c:"))) {
            EXPECT_TRUE(
                narrate(got->row.event, client.summary()->classes, got->context)
                    .contains(QStringLiteral("this span was filled by main (prof_sites.c:")));
            break;
        }
    }
    EXPECT_TRUE(!filled.isEmpty() &&
                filled.back().startsWith(QStringLiteral("main (prof_sites.c:")))
        << filled.join(QStringLiteral(" | ")).toStdString();
}
