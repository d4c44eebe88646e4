// One truth per moment: real programs (python3 with PYTHONMALLOC=malloc, sqlite3) recorded under
// `spanscope-cli record`, and built-in demos of both heaps, checked at up to 50 moments each (the
// heap samples' own times): the size classes' objects x size add up to HeapAlloc and their spans'
// pages to HeapInuse, and what the panels show (the worker's moment, the size-class table, the
// heap map's tiles, the fragmentation bars) equals what the reader says at that moment.
//
// Tolerances, and why (docs/glossary.md, "Where the counts come from"): HeapAlloc's counters are
// flushed from each thread's mcache in batches (64 KiB of heap live, or a refill), so the per-span
// counts may differ from them by one refill batch per thread; and the counters are read while the
// threads run, so the spans taken during the read (bounded by those taken in the 50 ms before the
// stamp) may be in the replay and not yet in the counters. The panels must equal the reader
// exactly.
#include <gtest/gtest.h>

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <set>

#include "format.h"
#include "fragmentation_view.h"
#include "glossary.h"
#include "session_worker.h"
#include "size_class_table.h"
#include "spanscope/detail/span_model.h"
#include "spanscope/session.h"

using namespace spanscope;
using namespace spanscope::ui;
using spanscope::session::SpanModel;

namespace {

constexpr uint64_t kKiB = 1024;
// One refill batch: the heap-live batch of a thread's mcache plus the largest small span.
constexpr uint64_t kRefillBatch = 64 * kKiB + 80 * kKiB;
constexpr int kMoments = 50;

// Records cmd under `spanscope-cli` (record ... or demo ...) into path; false with the output.
bool recordWith(const QStringList& args, const QString& path, const QString& stdinText = {},
                const QStringList& env = {}) {
    QProcess p;
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    for (const QString& kv : env)
        e.insert(kv.section(QLatin1Char('='), 0, 0), kv.section(QLatin1Char('='), 1));
    p.setProcessEnvironment(e);
    p.setProcessChannelMode(QProcess::MergedChannels);
    QStringList a = args;
    a.replace(a.indexOf(QStringLiteral("OUT")), path);
    p.start(QStringLiteral(SPANSCOPE_CLI), a);
    if (!p.waitForStarted()) return false;
    if (!stdinText.isEmpty()) p.write(stdinText.toUtf8());
    p.closeWriteChannel();
    const bool done = p.waitForFinished(60000);
    if (!done || p.exitCode() != 0) {
        ADD_FAILURE() << "spanscope-cli " << a.join(QLatin1Char(' ')).toStdString() << ":\n"
                      << p.readAll().toStdString();
        return false;
    }
    return true;
}

// Threads that take spans in the session (each holds at most one refill batch not yet counted).
uint64_t threadsOf(session::SessionReader& r) {
    std::set<uint32_t> tids;
    for (const Event& e : r.eventsBetween(0, r.info().endNs, 1000000))
        if (SpanModel::affectsSpans(static_cast<uint16_t>(e.kind))) tids.insert(e.tid);
    return std::max<uint64_t>(1, tids.size());
}

// The counters are read (readMemStats) while the program's threads go on allocating, and stamped
// when the read is done: the spans those threads took during the read are in the replay at the
// stamp but not in the counters. Their bytes, over the kReadWindowNs before t, bound that.
constexpr int64_t kReadWindowNs = 50'000'000;
uint64_t bytesTakenBefore(session::SessionReader& r, int64_t t, uint64_t pageSize) {
    uint64_t bytes = 0;
    for (const Event& e : r.eventsBetween(std::max<int64_t>(0, t - kReadWindowNs), t, 200000))
        if (e.kind == EventKind::SpanRefill || e.kind == EventKind::SpanAlloc ||
            e.kind == EventKind::LargeAlloc || e.kind == EventKind::SpanFree ||
            e.kind == EventKind::LargeFree)
            bytes += uint64_t{e.npages} * pageSize;
    return bytes;
}

struct Figures {
    uint64_t objectBytes = 0, spanBytes = 0, objects = 0, spans = 0;
};
Figures sumOf(const std::vector<session::ClassTotals>& classes) {
    Figures f;
    for (const auto& c : classes)
        f.objectBytes += c.bytesInUse, f.spanBytes += c.spanBytes, f.objects += c.objects,
            f.spans += c.spans;
    return f;
}

// The figures of every panel at every sampled moment of the session at path.
void checkSession(const QString& path) {
    std::string err;
    auto reader = session::SessionReader::open(path.toStdString(), &err);
    ASSERT_TRUE(reader) << err;
    const auto samples = reader->heapSeries(0, reader->info().endNs);
    ASSERT_GE(samples.size(), 5u) << "too short a session to check";
    const uint64_t pageSize = static_cast<uint64_t>(reader->info().pageSize);

    auto tokens = std::make_shared<RequestTokens>();
    SessionWorker worker(tokens);  // called on this thread: its signals are direct
    QSignalSpy moments(&worker, &SessionWorker::momentReady);
    tokens->open = 1;
    worker.open(path, 1, 0);
    SizeClassTable table;
    FragmentationView frag;

    const uint64_t threads = threadsOf(*reader);
    // Where the probe dropped records (a ring was full: the machine was too busy for the drain
    // thread), the replay is incomplete until the resync rundown that follows; those moments are
    // flagged as such (DropGap) and not compared. Every gap but one running to the end is closed.
    const auto& gaps = reader->info().gaps;
    for (size_t g = 0; g + 1 < gaps.size(); g++)
        EXPECT_TRUE(gaps[g].resynced)
            << "gap at " << gaps[g].fromNs << " ns not closed by a rundown";
    int checked = 0, worst = 0, inGaps = 0;
    uint64_t worstGap = 0;
    const size_t step = std::max<size_t>(1, samples.size() / kMoments);
    for (size_t i = step - 1; i < samples.size(); i += step) {
        const session::HeapSample& h = samples[i];
        const int64_t t = h.tNs;
        SCOPED_TRACE(path.toStdString() + " at t = " + std::to_string(double(t) / 1e9) + " s");
        if (reader->info().gapAt(t)) {
            inGaps++;
            continue;
        }
        const auto classes = reader->classTotalsAt(t);
        const Figures truth = sumOf(classes);
        const uint64_t during = bytesTakenBefore(*reader, t, pageSize);

        // The heap's own counters.
        const uint64_t gap = truth.objectBytes > h.heapAlloc ? truth.objectBytes - h.heapAlloc
                                                             : h.heapAlloc - truth.objectBytes;
        EXPECT_LE(gap, threads * kRefillBatch + during)
            << "objects x size " << truth.objectBytes << " vs HeapAlloc " << h.heapAlloc << " ("
            << threads << " threads, " << during << " B of spans taken in the read window)";
        if (gap > worstGap) worstGap = gap, worst = checked;
        const uint64_t pageGap = truth.spanBytes > h.heapInuse ? truth.spanBytes - h.heapInuse
                                                               : h.heapInuse - truth.spanBytes;
        EXPECT_LE(pageGap, threads * 80 * kKiB + during)
            << "spans x pages " << truth.spanBytes << " vs HeapInuse " << h.heapInuse;

        // The panels: the worker's moment (heap map, status bar), the table, the bars.
        tokens->seek = static_cast<uint64_t>(checked + 1);
        worker.seek(t, tokens->seek);
        if (moments.isEmpty()) {
            ADD_FAILURE() << "no moment";
            return;
        }
        const MomentPtr m = moments.takeLast().at(0).value<MomentPtr>();
        ASSERT_TRUE(m->hasHeap);
        EXPECT_EQ(m->heap.heapAlloc, h.heapAlloc);
        EXPECT_EQ(m->heap.heapInuse, h.heapInuse);
        const Figures shown = sumOf(m->classes);
        EXPECT_EQ(shown.objectBytes, truth.objectBytes);
        EXPECT_EQ(shown.spanBytes, truth.spanBytes);
        for (size_t c = 0; c < classes.size(); c++) {
            EXPECT_EQ(m->classes[c].objects, classes[c].objects) << "class " << c;
            EXPECT_EQ(m->classes[c].mallocs, classes[c].mallocs) << "class " << c;
        }
        uint64_t tileSpans = 0, tilePages = 0, tileObjects = 0;
        for (const Tile& tile : m->scene.tiles)
            if (tile.kind == TileKind::Span || tile.kind == TileKind::Large) {
                tileSpans++, tilePages += tile.npages;
                tileObjects +=
                    tile.kind == TileKind::Large ? 1 : std::min(tile.allocCount, tile.nelems);
            }
        // The map keeps the first of two spans that overlap at t (timestamps are taken on each
        // thread: a span freed on one thread and its pages taken on another can both be alive at
        // an instant between their records); the reader's spans, with the same rule:
        uint64_t mapSpans = 0, mapPages = 0, mapObjects = 0, end = 0;
        for (const auto& sp : reader->spansAt(t)) {  // sorted by base
            if (sp.base < end) continue;
            end = sp.base + uint64_t{sp.npages} * pageSize;
            mapSpans++, mapPages += sp.npages;
            mapObjects += (sp.spanClass >> 1) == 0 ? 1 : std::min(sp.allocCount, sp.nelems);
        }
        EXPECT_EQ(tileSpans, mapSpans);
        EXPECT_EQ(tilePages, mapPages);
        EXPECT_EQ(tileObjects, mapObjects);
        EXPECT_LE(truth.spans - mapSpans, threads) << "overlapping spans at one instant";

        table.setMoment(m);
        uint64_t tableObjects = 0, tableSpans = 0;
        const QAbstractItemModel* model = table.model();
        for (int r = 0; r < model->rowCount(); r++) {
            tableObjects +=
                model->data(model->index(r, SizeClassModel::Objects), SizeClassModel::kSortRole)
                    .toULongLong();
            tableSpans +=
                model->data(model->index(r, SizeClassModel::SpanBytes), SizeClassModel::kSortRole)
                    .toULongLong();
        }
        EXPECT_EQ(tableObjects, truth.objects);
        EXPECT_EQ(tableSpans, truth.spanBytes);

        frag.setMoment(m);
        const QStringList cats = frag.categories();
        for (int k = 0; k < cats.size(); k++) {
            double sum = 0;
            for (int set = 0; set < FragmentationView::kSets; set++)
                sum += frag.values(set).value(k);
            EXPECT_GT(sum, 0) << cats[k].toStdString();
        }
        checked++;
    }
    EXPECT_GE(checked + inGaps, std::min<int>(kMoments, int(samples.size())) - 1);
    EXPECT_GE(checked, (checked + inGaps) / 4)
        << "most of the session is in gaps (records dropped)";
    std::printf(
        "[ consistency ] %s: %d moments (%d more in %zu gaps, %lld records dropped), largest "
        "HeapAlloc "
        "gap %llu B (moment %d)\n",
        qPrintable(QFileInfo(path).fileName()), checked, inGaps, gaps.size(),
        static_cast<long long>(reader->info().dropped), static_cast<unsigned long long>(worstGap),
        worst);
}

class Consistency : public ::testing::Test {
protected:
    QTemporaryDir m_dir;
    QString file(const char* name) { return m_dir.filePath(QString::fromLatin1(name)); }
};

}  // namespace

// The python3 binary itself: a version manager's shim on PATH (pyenv's is a shell script) forks
// helpers that run preloaded too, and their events would join the program's stream.
QString realPython() {
    QProcess p;
    p.start(QStringLiteral("python3"),
            {QStringLiteral("-c"), QStringLiteral("import sys; print(sys.executable)")});
    if (!p.waitForFinished(30000) || p.exitCode() != 0) return QStringLiteral("python3");
    const QString exe = QString::fromLocal8Bit(p.readAllStandardOutput()).trimmed();
    return exe.isEmpty() ? QStringLiteral("python3") : exe;
}

TEST_F(Consistency, Python) {
    // PYTHONMALLOC=malloc: without it pymalloc serves python's small objects and only those over
    // 512 B reach malloc.
    const QString f = file("python.spanscope");
    const QString script = QStringLiteral(
        "import random\nrandom.seed(1)\nkeep=[]\n"
        "for i in range(60000):\n"
        "    keep.append(('x'*random.randint(1,3000))+str(i))\n"
        "    if len(keep)>8000: del keep[random.randrange(len(keep))]\n"
        "d={i:[i]*random.randint(1,40) for i in range(20000)}\n");
    ASSERT_TRUE(recordWith({QStringLiteral("record"), QStringLiteral("-o"), QStringLiteral("OUT"),
                            QStringLiteral("--"), realPython(), QStringLiteral("-c"), script},
                           f, {}, {QStringLiteral("PYTHONMALLOC=malloc")}));
    checkSession(f);
}

TEST_F(Consistency, Sqlite) {
    const QString f = file("sqlite.spanscope");
    const QString sql = QStringLiteral(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB, s TEXT);\n"
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 20000)\n"
        "INSERT INTO t SELECT x, randomblob(abs(random()) % 600), hex(randomblob(abs(random()) % "
        "60)) FROM c;\n"
        "CREATE INDEX ts ON t(s);\nDELETE FROM t WHERE id % 3 = 0;\nSELECT count(*) FROM t;\n");
    ASSERT_TRUE(
        recordWith({QStringLiteral("record"), QStringLiteral("-o"), QStringLiteral("OUT"),
                    QStringLiteral("--"), QStringLiteral("sqlite3"), QStringLiteral(":memory:")},
                   f, sql));
    checkSession(f);
}

TEST_F(Consistency, MallocDemoOnSeveralThreads) {
    const QString f = file("live.spanscope");
    ASSERT_TRUE(
        recordWith({QStringLiteral("demo"), QStringLiteral("live"), QStringLiteral("--seconds"),
                    QStringLiteral("1"), QStringLiteral("-o"), QStringLiteral("OUT")},
                   f));
    checkSession(f);
}

TEST_F(Consistency, ManagedDemo) {
    const QString f = file("server.spanscope");
    ASSERT_TRUE(
        recordWith({QStringLiteral("demo"), QStringLiteral("server"), QStringLiteral("--seconds"),
                    QStringLiteral("1"), QStringLiteral("-o"), QStringLiteral("OUT")},
                   f));
    checkSession(f);
}

// One vocabulary: every label the GUI takes from ui/glossary.cpp is defined in docs/glossary.md.
TEST(Glossary, EveryGuiTermIsDefinedHere) {
    QFile doc(QStringLiteral(QT_TESTCASE_SOURCEDIR "/../../docs/glossary.md"));
    ASSERT_TRUE(doc.open(QIODevice::ReadOnly)) << doc.fileName().toStdString();
    const QString text = QString::fromUtf8(doc.readAll());
    for (int i = 0; i < int(Term::Count); i++) {
        const QString label = termLabel(Term(i));
        EXPECT_TRUE(text.contains(QStringLiteral("**%1**").arg(label))) << label.toStdString();
    }
}

// Durations below a millisecond in µs, counts with their noun in the right number.
TEST(Glossary, DurationsAndCounts) {
    EXPECT_EQ(formatDuration(4000), QStringLiteral("4.0 \u00b5s"));
    EXPECT_EQ(formatDuration(850), QStringLiteral("850 ns"));
    EXPECT_EQ(formatDuration(1250000), QStringLiteral("1.25 ms"));
    EXPECT_EQ(formatDuration(2500000000ull), QStringLiteral("2.500 s"));
    EXPECT_EQ(countOf(1, "class", "classes"), QStringLiteral("1 class"));
    EXPECT_EQ(countOf(3, "class", "classes"), QStringLiteral("3 classes"));
    EXPECT_EQ(countOf(1234, "page", "pages"), QStringLiteral("1,234 pages"));
    EXPECT_EQ(gcPhaseLabel("sweep-termination"),
              QStringLiteral("sweep termination (stop-the-world)"));
}
