// Tests of the Recorder and SessionReader: a synthetic stream recorded into a temporary session,
// then every reader query; keyframes bound the replay; bad files are refused; a recorder that
// dies keeps what it committed; and the recorder's throughput.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "spanscope/detail/sizeclasses.h"
#include "spanscope/session.h"
#include "spanscope/session_export.h"
#include "stream_builder.h"

using namespace spanscope;
using namespace spanscope::session;
using spanscope::test::makeEvent;
using spanscope::test::StreamBuilder;

namespace {
constexpr uint64_t kStart = 1000000;
constexpr uint64_t A = 0xc000000000, B = 0xc000002000, C = 0xc000100000;
constexpr uint8_t kSpc = 10 << 1 | 1;  // class 10 (128 B), noscan: 64 objects per 8 KiB span

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/spanscope-rec-XXXXXX";
        m_dir = mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf " + m_dir).c_str()); }
    std::string path(const char* name) const { return m_dir + "/" + name; }

private:
    std::string m_dir;
};

// SpanCache at t = 20 is the legacy kind: the allocator now caches with SpanRefill, and only
// sessions recorded before it hold SpanCache; this stream is the test that they still replay
// (cached at 25). The ui fixtures (tests/ui/ui_test_util.h) replay SpanRefill.
std::string lifecycleStream() {
    auto t = [](uint64_t ns) { return kStart + ns; };
    StreamBuilder b(kStart);
    b.frame({makeEvent(t(1), static_cast<EventKind>(stream::kRundownBegin)),
             makeEvent(t(1), static_cast<EventKind>(stream::kRundownEnd)),
             makeEvent(t(10), EventKind::SpanAlloc, A, kSpc, 1, 64),
             makeEvent(t(20), EventKind::SpanCache, A, kSpc, 1, 0, 64)});
    b.frame({makeEvent(t(30), EventKind::ClassCounters, 0, 10, 1, 100, 36, 0, 12800),
             makeEvent(t(30), static_cast<EventKind>(stream::kHeapSizes), 777, 0, 3, 8 << 20,
                       10 << 20, 64, 4 << 20),
             makeEvent(t(30), static_cast<EventKind>(stream::kHeapCounts), 0, 0, 0, 100, 36, 8192,
                       4 << 20),
             makeEvent(t(30), EventKind::HeapTotals, 0, 0, 0, 8192, 8192, 0, 0),
             makeEvent(t(40), EventKind::SweepCycle, 0, 0, 0, 4, 1 << 20, 4 << 20)});
    // Out of order within a frame (threads drained one after the other): the recorder sorts.
    b.frame({makeEvent(t(60), EventKind::SpanAlloc, B, kSpc, 1, 64),
             makeEvent(t(50), EventKind::SpanUncache, A, kSpc, 1, 64, 64, 0, 0, 1),
             makeEvent(t(70), EventKind::LargeAlloc, C, 0, 5, 40000),
             makeEvent(t(80), EventKind::SpanFree, A, kSpc, 1),
             makeEvent(t(90), EventKind::SweepCycle, 0, 0, 0, 6, 2 << 20, 5 << 20)});
    b.trailer();
    return b.bytes;
}

bool recordBytes(const std::string& path, const std::string& bytes, RecorderOptions opts = {},
                 RecorderStats* stats = nullptr) {
    Recorder rec;
    opts.path = path;
    std::string err;
    if (!rec.open(opts, &err)) return false;
    rec.feed(bytes.data(), bytes.size());
    EndInfo end;
    end.reason = "exit";
    end.exitCode = 0;
    const bool ok = rec.finish(end);
    if (stats) *stats = rec.stats();
    return ok;
}

const SpanRecord* findSpan(const std::vector<SpanRecord>& v, uint64_t base) {
    for (const auto& s : v)
        if (s.base == base) return &s;
    return nullptr;
}
}  // namespace

// A heap sample's three records are each written as they come (no record waits for a later one):
// in any order, or with one of them lost, each sets its own columns of the sample's row. (The
// recorder used to hold HeapSizes/HeapCounts, then HeapTotalsExt/Ext2, for the HeapTotals after
// them: a HeapTotals first took the previous sample's sizes, and sizes after it were dropped.)
TEST(Recorder, HeapSampleRecordsAreEachMeaningfulAlone) {
    auto t = [](uint64_t ns) { return kStart + ns; };
    StreamBuilder b(kStart);
    b.frame(
        {makeEvent(t(10), static_cast<EventKind>(stream::kHeapSizes), 111, 0, 1, 1 << 20, 2 << 20,
                   10, 3 << 20),
         makeEvent(t(10), static_cast<EventKind>(stream::kHeapCounts), 0, 0, 0, 50, 20, 4096, 8192),
         makeEvent(t(10), EventKind::HeapTotals, 0, 0, 0, 4096, 8192, 0, 0)});
    // The next sample: HeapTotals first, then its sizes; its counts were lost.
    b.frame({makeEvent(t(20), EventKind::HeapTotals, 0, 0, 0, 16384, 16384, 0, 0),
             makeEvent(t(20), static_cast<EventKind>(stream::kHeapSizes), 222, 0, 2, 4 << 20,
                       5 << 20, 12, 6 << 20)});
    b.trailer();
    TempDir dir;
    const std::string file = dir.path("s.db");
    ASSERT_TRUE(recordBytes(file, b.bytes));
    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    auto heap = r->heapSeries(0, 100);
    ASSERT_EQ(heap.size(), 2u);
    EXPECT_EQ(heap[0].heapAlloc, 4096u);
    EXPECT_EQ(heap[0].heapSys, 1u << 20);
    EXPECT_EQ(heap[0].totalAlloc, 111u);
    EXPECT_EQ(heap[0].mallocs, 50u);
    EXPECT_EQ(heap[0].heapLive, 4096u);
    EXPECT_EQ(heap[1].heapAlloc, 16384u);
    EXPECT_EQ(heap[1].heapSys, 4u << 20);  // not the previous sample's
    EXPECT_EQ(heap[1].totalAlloc, 222u);
    EXPECT_EQ(heap[1].numSweepCycles, 2u);
    EXPECT_EQ(heap[1].mallocs, 0u);  // lost: 0, not the previous sample's 50
}

TEST(Recorder, ReaderAnswersFromWhatWasRecorded) {
    TempDir dir;
    const std::string file = dir.path("s.db");
    RecorderOptions opts;
    opts.keyframeEveryEvents = 2;
    ASSERT_TRUE(recordBytes(file, lifecycleStream(), opts));

    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    const SessionInfo& in = r->info();
    EXPECT_EQ(in.program, "/bin/test-program");
    EXPECT_EQ(in.pid, 4242);
    ASSERT_EQ(in.argv.size(), 2u);
    EXPECT_EQ(in.endReason, "exit");
    EXPECT_EQ(in.exitCode, 0);
    EXPECT_EQ(in.streamStatus, "complete");
    EXPECT_EQ(in.endNs, 90);
    EXPECT_EQ(r->sizeClasses().size(), 68u);

    auto s15 = r->spansAt(15);
    ASSERT_EQ(s15.size(), 1u);
    EXPECT_EQ(s15[0].state, static_cast<uint8_t>(SpanState::None));
    EXPECT_EQ(s15[0].nelems, 64);
    auto s25 = r->spansAt(25);
    ASSERT_EQ(s25.size(), 1u);
    EXPECT_EQ(s25[0].state, static_cast<uint8_t>(SpanState::Cached));
    EXPECT_EQ(s25[0].ownerTid, 42u);
    auto s55 = r->spansAt(55);
    ASSERT_EQ(s55.size(), 1u);
    EXPECT_EQ(s55[0].state, static_cast<uint8_t>(SpanState::FullSwept));
    EXPECT_EQ(s55[0].allocCount, 64);
    auto s75 = r->spansAt(75);
    EXPECT_EQ(s75.size(), 3u);
    ASSERT_TRUE(findSpan(s75, C));
    EXPECT_EQ(findSpan(s75, C)->state, static_cast<uint8_t>(SpanState::Large));
    auto s85 = r->spansAt(85);
    EXPECT_EQ(s85.size(), 2u);
    EXPECT_FALSE(findSpan(s85, A));
    EXPECT_TRUE(r->spansAt(5).empty());

    auto heap = r->heapSeries(0, 100);
    ASSERT_EQ(heap.size(), 1u);
    EXPECT_EQ(heap[0].tNs, 30);
    EXPECT_EQ(heap[0].heapAlloc, 8192u);
    EXPECT_EQ(heap[0].heapSys, 8u << 20);
    EXPECT_EQ(heap[0].totalAlloc, 777u);
    EXPECT_EQ(heap[0].numSweepCycles, 3u);
    EXPECT_EQ(heap[0].mallocs, 100u);
    EXPECT_TRUE(r->heapSeries(31, 100).empty());

    auto cycles = r->gcCycles(0, 100);
    ASSERT_EQ(cycles.size(), 2u);
    EXPECT_EQ(cycles[0].kind, "sweep");
    EXPECT_EQ(cycles[0].startNs, 40);
    EXPECT_EQ(cycles[0].endNs, 90);
    EXPECT_EQ(cycles[0].sweepgen, 4u);
    EXPECT_EQ(cycles[1].endNs, -1);
    EXPECT_EQ(r->gcCycles(0, 39).size(), 0u);
    EXPECT_EQ(r->gcCycles(95, 100).size(), 1u);

    auto series = r->classSeries(0, 100, 10);
    ASSERT_EQ(series.size(), 1u);
    EXPECT_EQ(series[0].mallocs, 100u);

    auto totals = r->classTotalsAt(55);
    ASSERT_EQ(totals.size(), 68u);
    EXPECT_EQ(totals[10].spans, 1u);
    EXPECT_EQ(totals[10].objects, 64u);
    EXPECT_EQ(totals[10].bytesInUse, 64u * 128);
    EXPECT_EQ(totals[10].mallocs, 100u);
    EXPECT_EQ(totals[10].frees, 36u);
    auto t75 = r->classTotalsAt(75);
    EXPECT_EQ(t75[0].spans, 1u);
    EXPECT_EQ(t75[0].spanBytes, 5u * 8192);
}

TEST(Recorder, KeyframesBoundTheReplay) {
    TempDir dir;
    const std::string file = dir.path("k.db");
    StreamBuilder b(kStart);
    std::vector<Event> frame;
    const int kSpans = 100, kRounds = 100;  // 8 records per span (the least interval) < 1000
    uint64_t t = kStart;
    for (int r = 0; r < kRounds; r++) {
        for (int s = 0; s < kSpans; s++)
            frame.push_back(makeEvent(++t, r == 0 ? EventKind::SpanAlloc : EventKind::SpanRefill,
                                      A + uint64_t(s) * 8192, kSpc, 1, r % 64, 64));
        b.frame(frame);
        frame.clear();
    }
    b.trailer();
    RecorderOptions opts;
    opts.keyframeEveryEvents = 1000;
    ASSERT_TRUE(recordBytes(file, b.bytes, opts));
    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    for (int64_t at : {int64_t(10), int64_t(kSpans * kRounds / 2), int64_t(kSpans * kRounds - 5)}) {
        auto spans = r->spansAt(at);
        EXPECT_EQ(spans.size(), size_t(at < kSpans ? at : kSpans)) << at;
        EXPECT_LE(r->lastReplayCount(), 1000u + kSpans) << at;
    }
    auto last = r->spansAt(INT64_MAX);
    ASSERT_EQ(last.size(), size_t(kSpans));
    EXPECT_EQ(last[0].allocCount, (kRounds - 1) % 64);
}

// A GC-heavy program sends long runs of records that are not span events (MarkAssist pairs):
// a keyframe every keyframeEveryRecords records keeps what a seek scans bounded all the same.
TEST(Recorder, KeyframesFollowRecordsOfAnyKind) {
    TempDir dir;
    const std::string file = dir.path("m.db");
    StreamBuilder b(kStart);
    uint64_t t = kStart;
    b.frame({makeEvent(++t, EventKind::SpanAlloc, A, kSpc, 1, 64)});
    const int kFrames = 100, kPerFrame = 100;  // 10,000 MarkAssist records, no span event
    for (int f = 0; f < kFrames; f++) {
        std::vector<Event> frame;
        for (int i = 0; i < kPerFrame; i += 2) {
            frame.push_back(makeEvent(++t, EventKind::MarkAssistBegin, 0, 0, 0, 100));
            frame.push_back(makeEvent(++t, EventKind::MarkAssistEnd, 0, 0, 0, 100));
        }
        b.frame(frame);
    }
    b.frame({makeEvent(++t, EventKind::SpanAlloc, B, kSpc, 1, 64)});
    b.trailer();
    RecorderOptions opts;
    opts.keyframeEveryNs = INT64_MAX;  // no keyframe by time: only the record count can bound
    opts.keyframeEveryRecords = 1000;
    ASSERT_TRUE(recordBytes(file, b.bytes, opts));

    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(db, "SELECT last_event_id FROM keyframes ORDER BY id", -1, &st, nullptr),
        SQLITE_OK);
    std::vector<int64_t> ids;
    while (sqlite3_step(st) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    const int64_t records = 2 + kFrames * kPerFrame;
    ASSERT_GE(ids.size(), size_t(records / (1000 + kPerFrame)));
    int64_t prev = 0;
    for (int64_t id : ids) {
        EXPECT_LE(id - prev, 1000 + kPerFrame);  // checked after each frame
        prev = id;
    }
    EXPECT_LE(records - prev, 1000 + kPerFrame);

    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->spansAt(static_cast<int64_t>(t - kStart) - 1).size(), 1u);  // keyframes carry A
    EXPECT_EQ(r->spansAt(static_cast<int64_t>(t - kStart)).size(), 2u);
}

// Records dropped make a gap in the replay; the resync rundown that follows closes it and replaces
// the span table with the heap's own. A gap not closed before the end runs to the end.
TEST(Recorder, DroppedRecordsAreAGapThatAResyncRundownCloses) {
    TempDir dir;
    const std::string file = dir.path("gap.db");
    StreamBuilder b(kStart);
    auto probe = [](uint64_t t, uint16_t kind) {
        Event e = makeEvent(t, EventKind::None);
        e.kind = static_cast<EventKind>(kind);
        return e;
    };
    Event dropped = probe(kStart + 200, stream::kDropped);
    dropped.a = 7, dropped.b = static_cast<uint16_t>(EventKind::SpanFree), dropped.c = 7;
    dropped.d = kStart + 150;  // the oldest record dropped
    Event resync = probe(kStart + 300, stream::kRundownBegin);
    resync.b = 1;
    Event state = probe(kStart + 300, stream::kSpanState);
    state.addr = B, state.npages = 1, state.spanClass = kSpc, state.a = 64;
    Event end = probe(kStart + 300, stream::kRundownEnd);
    end.a = 1;
    Event dropped2 = probe(kStart + 500, stream::kDropped);
    dropped2.a = 9, dropped2.b = static_cast<uint16_t>(EventKind::SpanAlloc), dropped2.c = 2;
    dropped2.d = kStart + 450;
    // A is freed at 160 but its SpanFree was dropped: the replay still shows A until the resync.
    b.frame({makeEvent(kStart + 100, EventKind::SpanAlloc, A, kSpc, 1, 64), dropped, resync, state,
             end, makeEvent(kStart + 400, EventKind::SpanAlloc, C, kSpc, 1, 64), dropped2,
             makeEvent(kStart + 600, EventKind::HeapTotals, 0, 0, 0, 8192, 8192, 0, 0)});
    b.trailer();
    RecorderStats stats;
    ASSERT_TRUE(recordBytes(file, b.bytes, RecorderOptions{}, &stats));
    // What the record command's summary reports: the probe's running count, and the gaps.
    EXPECT_EQ(stats.dropped, 9u);
    EXPECT_EQ(stats.gaps, 2u);

    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    const auto& gaps = r->info().gaps;
    ASSERT_EQ(gaps.size(), 2u);
    EXPECT_EQ(gaps[0].fromNs, 150);
    EXPECT_EQ(gaps[0].toNs, 300);
    EXPECT_EQ(gaps[0].dropped, 7);
    EXPECT_TRUE(gaps[0].resynced);
    EXPECT_EQ(gaps[1].fromNs, 450);
    EXPECT_FALSE(gaps[1].resynced);
    EXPECT_GT(gaps[1].toNs, r->info().endNs);  // to the end, inclusive
    EXPECT_EQ(r->info().gapAt(120), nullptr);
    EXPECT_NE(r->info().gapAt(200), nullptr);
    EXPECT_EQ(r->info().gapAt(350), nullptr);
    EXPECT_NE(r->info().gapAt(r->info().endNs), nullptr);
    // After the resync the span table is the rundown's (B), then C: A is gone.
    const auto at350 = r->spansAt(350);
    ASSERT_EQ(at350.size(), 1u);
    EXPECT_EQ(at350[0].base, B);
    EXPECT_EQ(r->spansAt(450).size(), 2u);
}

TEST(Recorder, RefusesToOverwriteUnlessAsked) {
    TempDir dir;
    const std::string file = dir.path("o.db");
    ASSERT_TRUE(recordBytes(file, lifecycleStream()));
    Recorder rec;
    RecorderOptions opts;
    opts.path = file;
    std::string err;
    EXPECT_FALSE(rec.open(opts, &err));
    EXPECT_NE(err.find("already exists"), std::string::npos);
    opts.overwrite = true;
    Recorder rec2;
    EXPECT_TRUE(rec2.open(opts, &err)) << err;
}

TEST(Recorder, CorruptStreamKeepsWhatCameBefore) {
    TempDir dir;
    const std::string file = dir.path("c.db");
    std::string bytes = lifecycleStream();
    bytes[bytes.size() - 60] ^= 1;  // damage the last events frame
    Recorder rec;
    RecorderOptions opts;
    opts.path = file;
    std::string err;
    ASSERT_TRUE(rec.open(opts, &err));
    rec.feed(bytes.data(), bytes.size());
    EndInfo end{"exit", 0, 0};
    ASSERT_TRUE(rec.finish(end));
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->info().streamStatus, "corrupt");
    EXPECT_NE(r->info().streamError.find("CRC"), std::string::npos);
    EXPECT_EQ(r->heapSeries(0, 100).size(), 1u);  // the second frame made it
}

TEST(Reader, RefusesMissingForeignAndNewerFiles) {
    TempDir dir;
    std::string err;
    EXPECT_FALSE(SessionReader::open(dir.path("missing.db"), &err));
    EXPECT_NE(err.find("No such file"), std::string::npos) << err;

    std::ofstream(dir.path("text.txt")) << "just some text\n";
    EXPECT_FALSE(SessionReader::open(dir.path("text.txt"), &err));
    EXPECT_NE(err.find("not a spanscope session"), std::string::npos) << err;

    sqlite3* db = nullptr;
    sqlite3_open(dir.path("other.db").c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    EXPECT_FALSE(SessionReader::open(dir.path("other.db"), &err));
    EXPECT_NE(err.find("another application"), std::string::npos) << err;

    ASSERT_TRUE(recordBytes(dir.path("newer.db"), lifecycleStream()));
    sqlite3_open(dir.path("newer.db").c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    EXPECT_FALSE(SessionReader::open(dir.path("newer.db"), &err));
    EXPECT_NE(err.find("newer"), std::string::npos) << err;

    std::ofstream(dir.path("raw.stream")) << StreamBuilder().bytes;
    EXPECT_FALSE(SessionReader::open(dir.path("raw.stream"), &err));
    EXPECT_NE(err.find("raw stream"), std::string::npos) << err;
}

TEST(Recorder, AKilledRecorderLeavesEverythingCommitted) {
    TempDir dir;
    const std::string file = dir.path("killed.db");
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        Recorder rec;
        RecorderOptions opts;
        opts.path = file;
        std::string err;
        if (!rec.open(opts, &err)) _exit(2);
        std::string bytes = lifecycleStream();
        rec.feed(bytes.data(), bytes.size() - 48);  // everything but the trailer
        rec.commit();
        rec.feed(bytes.data() + bytes.size() - 48, 10);  // then die mid-transaction
        kill(getpid(), SIGKILL);
        _exit(3);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_TRUE(r->info().interrupted());
    EXPECT_EQ(r->info().endReason, "recording");
    EXPECT_GT(r->info().events, 5);
    EXPECT_EQ(r->gcCycles(0, 100).size(), 2u);
    EXPECT_EQ(r->spansAt(100).size(), 2u);
}

// Not a benchmark (docs/BENCHMARKS.md has the numbers): checks that a large stream is recorded
// whole, and prints the rate it ran at in the log. Speed is judged by benchmarks, not by tests.
TEST(Recorder, LargeStreamIsRecordedWhole) {
    TempDir dir;
    const std::string file = dir.path("t.db");
    const int kFrames = 40, kPerFrame = 16384;
    std::string bytes = StreamBuilder(kStart).bytes;
    std::vector<Event> frame(kPerFrame);
    uint64_t t = kStart;
    for (int f = 0; f < kFrames; f++) {
        for (int i = 0; i < kPerFrame; i++) {
            const uint64_t span = A + uint64_t(i % 4096) * 8192;
            frame[size_t(i)] =
                makeEvent(++t, i % 2 ? EventKind::SpanRefill : EventKind::SpanUncache, span, kSpc,
                          1, uint64_t(i % 64), 64);
        }
        StreamBuilder fb;
        fb.bytes.clear();
        fb.frame(frame);
        bytes += fb.bytes;
    }
    Recorder rec;
    RecorderOptions opts;
    opts.path = file;
    std::string err;
    ASSERT_TRUE(rec.open(opts, &err));
    auto t0 = std::chrono::steady_clock::now();
    for (size_t off = 0; off < bytes.size(); off += 256 << 10)
        ASSERT_TRUE(rec.feed(bytes.data() + off, std::min<size_t>(256 << 10, bytes.size() - off)))
            << rec.error();
    ASSERT_TRUE(rec.finish(EndInfo{"exit", 0, 0}));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = double(kFrames) * kPerFrame / secs;
    std::printf("[ rate     ] %d events recorded in %.3f s: %.0f events/s, %llu keyframes\n",
                kFrames * kPerFrame, secs, rate, (unsigned long long)rec.stats().keyframes);
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->info().events, int64_t{kFrames} * kPerFrame);
    EXPECT_GT(rec.stats().keyframes, 0u);
}

TEST(Recorder, ALiveReaderSeesDataWithin100ms) {
    TempDir dir;
    const std::string file = dir.path("live.db");
    Recorder rec;
    RecorderOptions opts;
    opts.path = file;
    std::string err;
    ASSERT_TRUE(rec.open(opts, &err));
    StreamBuilder b(kStart);
    b.frame({makeEvent(kStart + 10, EventKind::SpanAlloc, A, kSpc, 1, 64)});
    ASSERT_TRUE(rec.feed(b.bytes.data(), b.bytes.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(110));
    StreamBuilder more;
    more.bytes.clear();
    more.frame({makeEvent(kStart + 20, EventKind::SpanRefill, A, kSpc, 1, 0, 64)});
    ASSERT_TRUE(
        rec.feed(more.bytes.data(), more.bytes.size()));  // the interval passed: this commits
    auto r = SessionReader::open(file, &err);  // a second connection, as the GUI's would be
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->info().endReason, "recording");
    EXPECT_EQ(r->info().events, 2);
    auto spans = r->spansAt(100);
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_EQ(spans[0].state, static_cast<uint8_t>(SpanState::Cached));
}

TEST(Recorder, AFullDiskKeepsWhatWasCommittedAndSaysSo) {
    TempDir dir;
    const std::string file = dir.path("full.db");
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // The "disk" holds 1 MiB: writes past it fail with EFBIG.
        signal(SIGXFSZ, SIG_IGN);
        rlimit lim{1 << 20, 1 << 20};
        setrlimit(RLIMIT_FSIZE, &lim);
        Recorder rec;
        RecorderOptions opts;
        opts.path = file;
        opts.commitIntervalMs = 0;  // commit every frame
        std::string err;
        if (!rec.open(opts, &err)) _exit(2);
        StreamBuilder b(kStart);
        if (!rec.feed(b.bytes.data(), b.bytes.size())) _exit(3);
        uint64_t t = kStart;
        for (int f = 0; f < 200; f++) {
            std::vector<Event> frame;
            for (int i = 0; i < 4096; i++)
                frame.push_back(
                    makeEvent(++t, EventKind::SpanRefill, A + uint64_t(i) * 8192, kSpc, 1, 1, 64));
            StreamBuilder fb;
            fb.bytes.clear();
            fb.frame(frame);
            if (!rec.feed(fb.bytes.data(), fb.bytes.size())) {
                std::fprintf(stderr, "%s\n", rec.error().c_str());
                // ENOSPC reads as SQLITE_FULL ("disk is full"); EFBIG (our limit) as an I/O error.
                const bool expected = rec.error().find("disk is full") != std::string::npos ||
                                      rec.error().find("disk I/O error") != std::string::npos;
                _exit(expected ? 0 : 4);
            }
        }
        _exit(5);  // never filled up
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_GT(r->info().events, 4096);
    const std::string why = r->info().endReason;
    EXPECT_TRUE(why == "disk-full" || why == "write-error" || why == "recording") << why;
    EXPECT_FALSE(r->spansAt(INT64_MAX).empty());
}

TEST(Recorder, GcCyclesAndPhasesAndEventsBetween) {
    TempDir dir;
    const std::string file = dir.path("gc.db");
    auto t = [](uint64_t ns) { return kStart + ns; };
    auto phase = [&](uint64_t ns, GCPhaseKind p, uint64_t cycle, uint32_t stwUs) {
        return makeEvent(t(ns), EventKind::GCPhase, 0, 0, stwUs, cycle, 4 << 20, 8 << 20, 7 << 20,
                         static_cast<uint8_t>(p));
    };
    StreamBuilder b(kStart);
    b.frame({phase(100, GCPhaseKind::SweepTermination, 1, 30), phase(110, GCPhaseKind::Mark, 1, 0),
             phase(200, GCPhaseKind::MarkTermination, 1, 50), phase(210, GCPhaseKind::Off, 1, 0),
             phase(500, GCPhaseKind::SweepTermination, 2, 20),
             phase(510, GCPhaseKind::Mark, 2, 0)});
    b.trailer();
    ASSERT_TRUE(recordBytes(file, b.bytes));
    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    auto cycles = r->gcCycles(0, 1000);
    ASSERT_EQ(cycles.size(), 2u);
    EXPECT_EQ(cycles[0].kind, "gc");
    EXPECT_EQ(cycles[0].cycle, 1);
    EXPECT_EQ(cycles[0].startNs, 100);
    EXPECT_EQ(cycles[0].endNs, 210);
    EXPECT_EQ(cycles[0].stwNs, 80000u);  // 30 us + 50 us
    EXPECT_EQ(cycles[0].heapGoal, 8u << 20);
    EXPECT_EQ(cycles[1].endNs, -1);
    EXPECT_EQ(r->gcCycles(300, 400).size(), 0u);
    auto events = r->eventsBetween(105, 205);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].kind, EventKind::GCPhase);
    EXPECT_EQ(events[0].flags, static_cast<uint8_t>(GCPhaseKind::Mark));
    EXPECT_EQ(r->eventsBetween(0, 1000, 3).size(), 3u);
}

TEST(Recorder, SweepGenerationsKeepTheAllocatorsNumbers) {
    // An attach that began at generation 5, with generation 6's record dropped: gc_cycles says 5
    // and 7 (the program's numbers, as num_sweep_cycles counts them), and 5 ends where 7 begins.
    // A stream from before the record carried its number (d = 0) is counted 1, 2, ...
    TempDir dir;
    auto t = [](uint64_t ns) { return kStart + ns; };
    auto sweep = [&](uint64_t ns, uint64_t sweepgen, uint64_t number) {
        return makeEvent(t(ns), EventKind::SweepCycle, 0, 0, 0, sweepgen, 1 << 20, 4 << 20, number);
    };
    for (bool numbered : {true, false}) {
        const std::string file = dir.path(numbered ? "numbered.db" : "old.db");
        StreamBuilder b(kStart);
        b.frame({sweep(100, 10, numbered ? 5 : 0), sweep(300, 14, numbered ? 7 : 0)});
        b.trailer();
        ASSERT_TRUE(recordBytes(file, b.bytes));
        std::string err;
        auto r = SessionReader::open(file, &err);
        ASSERT_TRUE(r) << err;
        auto cycles = r->gcCycles(0, 1000);
        ASSERT_EQ(cycles.size(), 2u);
        EXPECT_EQ(cycles[0].kind, "sweep");
        EXPECT_EQ(cycles[0].cycle, numbered ? 5 : 1);
        EXPECT_EQ(cycles[0].endNs, 300);
        EXPECT_EQ(cycles[0].sweepgen, 10u);
        EXPECT_EQ(cycles[1].cycle, numbered ? 7 : 2);
        EXPECT_EQ(cycles[1].endNs, -1);
    }
}

TEST(Export, ClassCsvSaysThePagesAndSlotsOfTheSpansThemselves) {
    // Malloc mode's spans of 1 KiB objects are 4 pages of 32 slots (Go's table: 1 page of 8):
    // size_classes.csv's npages and nelems follow the spans the session holds, so that
    // npages x pages x spans is span_bytes; a class without spans keeps the table's figures.
    TempDir dir;
    const std::string file = dir.path("malloc.db");
    const int cls = sizeToClass(1024);
    ASSERT_EQ(kClassToSize[cls], 1024u);
    const auto spc = static_cast<uint8_t>(cls << 1 | 1);
    StreamBuilder b(kStart);
    b.frame({makeEvent(kStart + 10, EventKind::SpanAlloc, A, spc, 4, 32),
             makeEvent(kStart + 20, EventKind::SpanAlloc, C, spc, 4, 32)});
    b.trailer();
    ASSERT_TRUE(recordBytes(file, b.bytes));
    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    ASSERT_TRUE(exportCsv(*r, dir.path("csv"), &err)) << err;
    std::ifstream in(dir.path("csv") + "/size_classes.csv");
    std::string line;
    std::getline(in, line);
    ASSERT_EQ(line.rfind("class,size,npages,nelems,spans,span_bytes,", 0), 0u) << line;
    bool seen = false, other = false;
    while (std::getline(in, line)) {
        std::vector<uint64_t> v;
        std::stringstream ss(line);
        for (std::string cell; std::getline(ss, cell, ',');) v.push_back(std::stoull(cell));
        ASSERT_GE(v.size(), 6u) << line;
        if (v[0] == uint64_t(cls)) {
            seen = true;
            EXPECT_EQ(v[2], 4u) << line;
            EXPECT_EQ(v[3], 32u) << line;
            EXPECT_EQ(v[4], 2u) << line;
            EXPECT_EQ(v[5], 2u * 4 * 8192) << line;
        } else if (v[0] == uint64_t(cls - 1) && v[4] == 0) {
            other = true;
            EXPECT_EQ(v[2], kClassToAllocNPages[cls - 1]) << line;
        }
    }
    EXPECT_TRUE(seen);
    EXPECT_TRUE(other);
}

TEST(Recorder, WatermarksPutLateRecordsInTimeOrder) {
    // Thread 1's records of t=10..30 arrive a frame after thread 2's t=40: the watermark of the
    // first frame (t=35) holds t=40 back; the session's id order is time order.
    TempDir dir;
    const std::string file = dir.path("w.db");
    auto t = [](uint64_t ns) { return kStart + ns; };
    auto wm = [&](uint64_t ns) {
        return makeEvent(t(ns), static_cast<EventKind>(stream::kWatermark), 0, 0, 0, t(ns));
    };
    StreamBuilder b(kStart);
    b.frame({makeEvent(t(40), EventKind::SpanFree, B, kSpc, 1),
             makeEvent(t(5), EventKind::SpanAlloc, A, kSpc, 1, 64), wm(35)});
    b.frame({makeEvent(t(10), EventKind::SpanAlloc, B, kSpc, 1, 64),
             makeEvent(t(20), EventKind::SpanRefill, B, kSpc, 1, 0, 64),
             makeEvent(t(30), EventKind::SpanUncache, B, kSpc, 1, 64, 64, 0, 0, 1), wm(45)});
    b.trailer();
    ASSERT_TRUE(recordBytes(file, b.bytes));
    std::string err;
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    auto events = r->eventsBetween(0, 100);
    ASSERT_EQ(events.size(), 5u);  // watermarks are not stored
    for (size_t i = 1; i < events.size(); i++)
        EXPECT_LE(events[i - 1].timeNs, events[i].timeNs) << i;
    EXPECT_EQ(r->spansAt(35).size(), 2u);
    auto end = r->spansAt(100);
    ASSERT_EQ(end.size(), 1u);  // B was freed at t=40, after its late records
    EXPECT_EQ(end[0].base, A);
}

// A record that arrives after a watermark already passed it (its thread was held off the CPU for
// longer than the probe holds a watermark for it) is counted late and stored after newer records;
// the span inspector's replay still puts it in time order: a sweep's free of slot 0 (t=20), late,
// comes before the allocation that reused the slot (t=30).
TEST(Recorder, ARecordBehindAWatermarkIsCountedAndReplayedInTimeOrder) {
    TempDir dir;
    const std::string file = dir.path("late.db");
    auto t = [](uint64_t ns) { return kStart + ns; };
    auto wm = [&](uint64_t ns) {
        return makeEvent(t(ns), static_cast<EventKind>(stream::kWatermark), 0, 0, 0, t(ns));
    };
    StreamBuilder b(kStart, 4242, "/bin/test-program", stream::kFlagObjectLevel);
    b.frame({makeEvent(t(5), EventKind::SpanAlloc, A, kSpc, 1, 64),
             makeEvent(t(10), EventKind::ObjAlloc, A, kSpc), wm(25)});
    b.frame({makeEvent(t(30), EventKind::ObjAlloc, A, kSpc), wm(35)});
    // ObjFree: npages = the bitmap word, a = the mask of slots freed.
    b.frame({makeEvent(t(20), EventKind::ObjFree, A, kSpc, 0, 1), wm(45)});
    b.trailer();
    Recorder rec;
    RecorderOptions opts;
    opts.path = file;
    std::string err;
    ASSERT_TRUE(rec.open(opts, &err)) << err;
    ASSERT_TRUE(rec.feed(b.bytes.data(), b.bytes.size()));
    EndInfo end;
    end.reason = "exit";
    ASSERT_TRUE(rec.finish(end));
    EXPECT_EQ(rec.stats().late, 1u);
    auto r = SessionReader::open(file, &err);
    ASSERT_TRUE(r) << err;
    SpanObjects o;
    ASSERT_TRUE(r->spanObjectsAt(A, 40, &o));
    ASSERT_TRUE(o.bitsKnown);
    ASSERT_EQ(o.slotStates.size(), 64u);
    EXPECT_EQ(o.slotStates[0], SlotState::Allocated);  // freed at 20, allocated again at 30
    ASSERT_TRUE(r->spanObjectsAt(A, 25, &o));
    EXPECT_EQ(o.slotStates[0], SlotState::Free);
}
