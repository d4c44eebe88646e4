// Tests of range statistics and session summaries (instrumentation/session_range.cpp): exact
// figures on a synthetic stream, then, on a real recording of a GC demo, every figure checked
// against SQL written independently over the same session file.
#include "spanscope/session_range.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "spanscope/session.h"
#include "stream_builder.h"

using namespace spanscope;
using namespace spanscope::session;
using spanscope::test::makeEvent;
using spanscope::test::StreamBuilder;

namespace {
constexpr uint64_t kStart = 1000000;
constexpr uint64_t kA = 0xc000000000, kB = 0xc000002000, kC = 0xc000100000;
constexpr uint8_t kSpc = 10 << 1 | 1;  // class 10 (128 B), noscan

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/spanscope-range-XXXXXX";
        m_dir = mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf " + m_dir).c_str()); }
    std::string path(const char* name) const { return m_dir + "/" + name; }

private:
    std::string m_dir;
};

bool recordBytes(const std::string& path, const std::string& bytes) {
    Recorder rec;
    RecorderOptions opts;
    opts.path = path;
    std::string err;
    if (!rec.open(opts, &err)) return false;
    rec.feed(bytes.data(), bytes.size());
    EndInfo end;
    end.reason = "exit";
    end.exitCode = 0;
    return rec.finish(end);
}

Event counters(uint64_t t, int cls, uint64_t mallocs, uint64_t frees, uint64_t requested,
               uint32_t spans) {
    return makeEvent(kStart + t, EventKind::ClassCounters, 0, static_cast<uint8_t>(cls), spans,
                     mallocs, frees, requested, mallocs * 128);
}
Event heap(uint64_t t, uint64_t alloc, uint64_t inuse) {
    return makeEvent(kStart + t, EventKind::HeapTotals, 0, 0, 0, alloc, inuse, 0, 0);
}
Event phase(uint64_t t, GCPhaseKind p, uint64_t cycle, uint32_t stwUs) {
    return makeEvent(kStart + t, EventKind::GCPhase, 0, 0, stwUs, cycle, 4 << 20, 8 << 20, 7 << 20,
                     static_cast<uint8_t>(p));
}

// t=10 span A taken; t=100 counters; t=200 heap; t=300..410 GC 1 (pauses 30 us and 50 us);
// t=500 span B and large span C taken; t=600 counters; t=700 heap; t=800 span A returned.
std::string syntheticStream() {
    StreamBuilder b(kStart);
    auto t = [](uint64_t ns) { return kStart + ns; };
    b.frame({makeEvent(t(1), static_cast<EventKind>(stream::kRundownBegin)),
             makeEvent(t(1), static_cast<EventKind>(stream::kRundownEnd)),
             makeEvent(t(10), EventKind::SpanAlloc, kA, kSpc, 1, 64),
             counters(100, 10, 100, 40, 9000, 2), counters(100, 0, 2, 0, 100000, 2),
             heap(100, 1000, 4000), heap(200, 3000, 4000),
             phase(300, GCPhaseKind::SweepTermination, 1, 30), phase(310, GCPhaseKind::Mark, 1, 0),
             phase(400, GCPhaseKind::MarkTermination, 1, 50), phase(410, GCPhaseKind::Off, 1, 0),
             makeEvent(t(500), EventKind::SpanAlloc, kB, kSpc, 1, 64),
             makeEvent(t(520), EventKind::LargeAlloc, kC, 0, 5, 40000),
             counters(600, 10, 250, 90, 20000, 3), counters(600, 0, 4, 1, 200000, 3),
             heap(700, 2000, 8000), makeEvent(t(800), EventKind::SpanFree, kA, kSpc, 1)});
    b.trailer();
    return b.bytes;
}

const ClassRangeStats* classOf(const RangeStats& r, int c) {
    for (const auto& x : r.classes)
        if (x.sizeClass == c) return &x;
    return nullptr;
}
}  // namespace

TEST(RangeStats, ExactOnASyntheticSession) {
    TempDir dir;
    const std::string file = dir.path("s.db");
    ASSERT_TRUE(recordBytes(file, syntheticStream()));
    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;

    // [150, 900]: the counters of t=600 less those of t=100.
    RangeStats s = rangeStats(*r, 150, 900);
    const ClassRangeStats* c10 = classOf(s, 10);
    ASSERT_NE(c10, nullptr);
    EXPECT_EQ(c10->size, 128u);
    EXPECT_EQ(c10->allocObjects, 150u);
    EXPECT_EQ(c10->freedObjects, 50u);
    EXPECT_EQ(c10->allocBytes, 150u * 128);
    EXPECT_EQ(c10->freedBytes, 50u * 128);
    EXPECT_EQ(c10->requestedBytes, 11000u);
    EXPECT_EQ(c10->spansAtStart, 2u);
    EXPECT_EQ(c10->spansAtEnd, 3u);
    const ClassRangeStats* c0 = classOf(s, 0);
    ASSERT_NE(c0, nullptr);
    EXPECT_EQ(c0->allocObjects, 2u);
    EXPECT_EQ(c0->allocBytes, 100000u);  // large: bytes asked for
    EXPECT_EQ(c0->freedBytes, 50000u);   // 1 free x 200000 / 4 mean
    EXPECT_EQ(s.allocObjects, 152u);
    // Spans: A at 150 and not at 900 (returned); B and C at 900 only (taken).
    EXPECT_EQ(s.spansTaken, 2u);
    EXPECT_EQ(s.pagesTaken, 6u);
    EXPECT_EQ(s.spansReturned, 1u);
    EXPECT_EQ(s.pagesReturned, 1u);
    ASSERT_EQ(s.cycles.size(), 1u);
    EXPECT_EQ(s.cycles[0].cycle, 1);
    ASSERT_EQ(s.pauses.size(), 2u);
    EXPECT_EQ(s.pauseTotalNs, 80000u);
    EXPECT_EQ(s.longestPause.durationNs, 50000);
    EXPECT_EQ(s.longestPause.phase, "mark-termination");
    // HeapAlloc: 1000 holds from 150 to 200, 3000 to 700, 2000 to 900.
    const SeriesStats* alloc = s.find("HeapAlloc");
    ASSERT_NE(alloc, nullptr);
    EXPECT_EQ(alloc->samples, 3u);
    EXPECT_EQ(alloc->min, 1000u);
    EXPECT_EQ(alloc->tMin, 150);
    EXPECT_EQ(alloc->max, 3000u);
    EXPECT_EQ(alloc->tMax, 200);
    EXPECT_DOUBLE_EQ(alloc->mean, (1000.0 * 50 + 3000.0 * 500 + 2000.0 * 200) / 750);
    const SeriesStats* frag = s.find("Fragmentation");
    ASSERT_NE(frag, nullptr);
    EXPECT_EQ(frag->max, 6000u);  // 8000 in use - 2000 allocated at 700
    EXPECT_EQ(frag->tMax, 700);
    EXPECT_EQ(frag->min, 1000u);

    JumpTargets j = jumpTargets(s);
    EXPECT_EQ(j.peakHeap, 200);
    EXPECT_EQ(j.peakFragmentation, 700);
    EXPECT_EQ(j.longestPause, 400 - 50000);  // it ended at 400 after 50 us
    ASSERT_EQ(j.cycleStarts.size(), 1u);
    EXPECT_EQ(j.cycleStarts[0].second, 300);

    // A range before anything: all zero, no samples; reversed bounds are swapped.
    RangeStats early = rangeStats(*r, 5, 2);
    EXPECT_EQ(early.t0, 2);
    EXPECT_EQ(early.allocObjects, 0u);
    EXPECT_EQ(early.spansTaken, 0u);
    EXPECT_EQ(early.find("HeapAlloc")->samples, 0u);
    // Up to 100 inclusive: the counters of t=100 are the range's.
    EXPECT_EQ(classOf(rangeStats(*r, 0, 100), 10)->allocObjects, 100u);
    EXPECT_EQ(classOf(rangeStats(*r, 101, 599), 10)->allocObjects, 0u);
}

TEST(AllocationFlow, RatesPerSecondOfEachPath) {
    TempDir dir;
    const std::string file = dir.path("s.db");
    ASSERT_TRUE(recordBytes(file, syntheticStream()));
    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    // [0, 1000] ns: spans A and B taken, C large, A freed: per second of a microsecond.
    FlowRates f = allocationFlow(*r, 0, 1000);
    EXPECT_FALSE(f.capped);
    EXPECT_EQ(f.coveredNs, 1000);
    EXPECT_DOUBLE_EQ(f.spanAllocs, 2e6);
    EXPECT_DOUBLE_EQ(f.spanFrees, 1e6);
    EXPECT_DOUBLE_EQ(f.largeAllocs, 1e6);
    EXPECT_DOUBLE_EQ(f.refills, 0);
    // [400, 900]: B and C taken, A freed, in half a microsecond.
    f = allocationFlow(*r, 400, 900);
    EXPECT_DOUBLE_EQ(f.spanAllocs, 2e6);
    EXPECT_DOUBLE_EQ(f.spanFrees, 2e6);
    // Capped: the rates are over the records' part of the range.
    f = allocationFlow(*r, 5, 1000, 2);
    EXPECT_TRUE(f.capped);
    EXPECT_EQ(f.records, 2u);
    EXPECT_EQ(f.coveredNs,
              300 - 5);  // the first two records: SpanAlloc A at 10, GC 1's first phase at 300
    EXPECT_DOUBLE_EQ(f.spanAllocs, 1e9 / 295);
}

TEST(SessionSummary, FiguresAtTheEnd) {
    TempDir dir;
    const std::string file = dir.path("s.db");
    ASSERT_TRUE(recordBytes(file, syntheticStream()));
    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    SessionSummary s = sessionSummary(*r);
    EXPECT_EQ(s.cycles, 1u);
    EXPECT_EQ(s.pauses, 2u);
    EXPECT_EQ(s.longestPauseNs, 50000u);
    EXPECT_EQ(s.peakHeapAlloc, 3000u);
    EXPECT_EQ(s.peakHeapInuse, 8000u);
    ASSERT_EQ(s.classes.size(), r->sizeClasses().size());
    EXPECT_EQ(s.classes[10].spans, 1u);  // B (A was returned)
    EXPECT_EQ(s.classes[10].mallocs, 250u);
    EXPECT_EQ(s.classes[0].spans, 1u);  // C
}

// ---- A real recording, checked against independent SQL ----------------------------------------
namespace {
class SqlCheck {
public:
    explicit SqlCheck(const std::string& file) {
        sqlite3_open_v2(file.c_str(), &m_db, SQLITE_OPEN_READONLY, nullptr);
    }
    ~SqlCheck() { sqlite3_close(m_db); }
    // The first column of the first row of sql with ?1 = a, ?2 = b.
    double one(const char* sql, int64_t a, int64_t b) {
        sqlite3_stmt* st = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(m_db, sql, -1, &st, nullptr), SQLITE_OK)
            << sqlite3_errmsg(m_db);
        sqlite3_bind_int64(st, 1, a);
        sqlite3_bind_int64(st, 2, b);
        double v = -1;
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
        return v;
    }

private:
    sqlite3* m_db = nullptr;
};

// Monotonic counters: the range's share is the largest value up to b less the largest before a.
constexpr const char* kClassDelta =
    "SELECT coalesce((SELECT max(%s) FROM class_counters WHERE class = %d AND t_ns <= ?2), 0) - "
    "coalesce((SELECT max(%s) FROM class_counters WHERE class = %d AND t_ns < ?1), 0)";
// Time-weighted mean, min and max of a heap_totals column over [a, b].
constexpr const char* kSeries =
    "WITH s AS (SELECT t_ns, %s AS v, lead(t_ns) OVER (ORDER BY t_ns) AS nt FROM heap_totals), "
    "w AS (SELECT v, max(t_ns, ?1) AS lo, min(coalesce(nt, ?2), ?2) AS hi FROM s "
    "      WHERE t_ns <= ?2 AND (nt IS NULL OR nt > ?1)) "
    "SELECT %s FROM w";
}  // namespace

TEST(RangeStats, AgreesWithSqlOnARecordedGcDemo) {
    TempDir dir;
    const std::string file = dir.path("gc.db");
    const std::string cmd =
        std::string(SPANSCOPE_CLI) + " demo gogc50 --seconds 1.5 -o " + file + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    SqlCheck sql(file);
    const int64_t end = r->info().endNs;
    ASSERT_GT(end, 0);
    for (auto [a, b] :
         {std::pair<int64_t, int64_t>{0, end}, {end / 4, end / 2}, {end / 3, end / 3 + end / 10}}) {
        SCOPED_TRACE("range " + std::to_string(a) + " .. " + std::to_string(b));
        RangeStats s = rangeStats(*r, a, b);
        ASSERT_FALSE(s.classes.empty());
        uint64_t allocs = 0;
        for (const ClassRangeStats& c : s.classes) {
            char q[600];
            std::snprintf(q, sizeof q, kClassDelta, "mallocs", c.sizeClass, "mallocs", c.sizeClass);
            EXPECT_EQ(double(c.allocObjects), sql.one(q, a, b)) << "class " << c.sizeClass;
            std::snprintf(q, sizeof q, kClassDelta, "frees", c.sizeClass, "frees", c.sizeClass);
            EXPECT_EQ(double(c.freedObjects), sql.one(q, a, b)) << "class " << c.sizeClass;
            if (c.sizeClass > 0) {
                std::snprintf(q, sizeof q, kClassDelta, "slot_bytes", c.sizeClass, "slot_bytes",
                              c.sizeClass);
                EXPECT_EQ(double(c.allocBytes), sql.one(q, a, b)) << "class " << c.sizeClass;
            }
            allocs += c.allocObjects;
        }
        EXPECT_GT(allocs, 0u);
        EXPECT_EQ(double(s.cycles.size()),
                  sql.one("SELECT count(*) FROM gc_cycles WHERE start_ns BETWEEN ?1 AND ?2", a, b));
        EXPECT_EQ(
            double(s.pauseTotalNs),
            sql.one("SELECT coalesce(sum(stw_ns), 0) FROM gc_phases WHERE t_ns BETWEEN ?1 AND ?2",
                    a, b));
        EXPECT_EQ(
            double(s.longestPause.durationNs),
            sql.one("SELECT coalesce(max(stw_ns), 0) FROM gc_phases WHERE t_ns BETWEEN ?1 AND ?2",
                    a, b));
        for (const char* col :
             {"heap_alloc", "heap_inuse", "heap_sys", "max(heap_inuse - heap_alloc, 0)"}) {
            const char* name = !std::strcmp(col, "heap_alloc")   ? "HeapAlloc"
                               : !std::strcmp(col, "heap_inuse") ? "HeapInuse"
                               : !std::strcmp(col, "heap_sys")   ? "HeapSys"
                                                                 : "Fragmentation";
            const SeriesStats* st = s.find(name);
            ASSERT_NE(st, nullptr);
            char q[700];
            std::snprintf(q, sizeof q, kSeries, col, "min(v)");
            EXPECT_EQ(double(st->min), sql.one(q, a, b)) << name;
            std::snprintf(q, sizeof q, kSeries, col, "max(v)");
            EXPECT_EQ(double(st->max), sql.one(q, a, b)) << name;
            std::snprintf(q, sizeof q, kSeries, col, "sum(v * (hi - lo)) * 1.0 / sum(hi - lo)");
            EXPECT_NEAR(st->mean, sql.one(q, a, b), 1e-6 * st->max + 1) << name;
        }
        // The span tables at the ends: taken less returned is the change in their size.
        const int64_t grew = int64_t(r->spansAt(b).size()) - int64_t(r->spansAt(a).size());
        EXPECT_EQ(int64_t(s.spansTaken) - int64_t(s.spansReturned), grew);
    }
    // The whole session: the demo ran GC cycles.
    EXPECT_GT(rangeStats(*r, 0, end).cycles.size(), 1u);
}
