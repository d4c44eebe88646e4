// Tests of the event blocks (schema version 3 and later): a block decodes to exactly what was
// encoded, a damaged block is refused, the virtual table `events` answers with the recorded rows
// under every constraint it pushes down, and an old (version 2) session opens and upgrades.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <random>

#include "spanscope/detail/event_block.h"
#include "spanscope/session.h"
#include "stream_builder.h"

using namespace spanscope;
using namespace spanscope::session;
using spanscope::test::makeEvent;
using spanscope::test::StreamBuilder;

namespace {
constexpr uint64_t kStart = 1000000;
constexpr uint64_t kBase = 0xc000000000;
constexpr uint8_t kSpc = 10 << 1 | 1;

struct TempDir {
    std::string dir;
    TempDir() {
        char tmpl[] = "/tmp/spanscope-blocks-XXXXXX";
        dir = mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf " + dir).c_str()); }
    std::string path(const char* name) const { return dir + "/" + name; }
};

bool sameEvent(const Event& x, const Event& y) {
    return x.timeNs == y.timeNs && x.seq == y.seq && x.tid == y.tid && x.kind == y.kind &&
           x.spanClass == y.spanClass && x.flags == y.flags && x.npages == y.npages &&
           x.addr == y.addr && x.a == y.a && x.b == y.b && x.c == y.c && x.d == y.d;
}

int64_t sqlInt(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    int64_t v = -2;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    sqlite3_finalize(st);
    return v;
}

// kFrames frames of kPerFrame records: SpanRefill (even i) and SpanUncache (odd i) over 4096 spans,
// one ns apart, so record n (1-based) has t_ns = n and kind 2 or 3.
constexpr int kFrames = 5, kPerFrame = 5000;
std::string cacheStream() {
    std::string bytes = StreamBuilder(kStart).bytes;
    std::vector<Event> frame(kPerFrame);
    uint64_t t = kStart;
    for (int f = 0; f < kFrames; f++) {
        for (int i = 0; i < kPerFrame; i++) {
            const int n = f * kPerFrame + i + 1;
            frame[size_t(i)] =
                makeEvent(++t, n % 2 ? EventKind::SpanUncache : EventKind::SpanRefill,
                          kBase + uint64_t(n % 4096) * 8192, kSpc, 1, uint64_t(n % 64), 64);
        }
        StreamBuilder fb;
        fb.bytes.clear();
        fb.frame(frame);
        bytes += fb.bytes;
    }
    StreamBuilder tb;
    tb.bytes.clear();
    tb.trailer();
    return bytes + tb.bytes;
}

bool record(const std::string& path, const std::string& bytes) {
    Recorder rec;
    RecorderOptions opts;
    opts.path = path;
    std::string err;
    if (!rec.open(opts, &err)) return false;
    rec.feed(bytes.data(), bytes.size());
    return rec.finish(EndInfo{"exit", 0, 0});
}
}  // namespace

TEST(EventBlock, DecodesExactlyWhatWasEncoded) {
    std::mt19937_64 rng(12);
    std::vector<session::detail::BlockRecord> recs(session::detail::kBlockRecords);
    int64_t t = 5;
    for (size_t i = 0; i < recs.size(); i++) {
        Event& e = recs[i].e;
        t += static_cast<int64_t>(rng() % 1000) - 100;  // not monotonic: late records
        recs[i].t = t;
        e.timeNs = static_cast<uint64_t>(t);
        e.tid = static_cast<uint32_t>(rng()), e.seq = static_cast<uint32_t>(rng());
        e.kind = static_cast<EventKind>(rng() % 300);
        e.spanClass = static_cast<uint8_t>(rng()), e.flags = static_cast<uint8_t>(rng());
        e.npages = static_cast<uint32_t>(rng());
        e.addr = i % 3 ? kBase + (rng() % 1000) * 8192 : rng();
        e.a = rng(), e.b = rng() % 100, e.c = i % 2 ? UINT64_MAX : 0, e.d = rng();
    }
    session::detail::BlockEncoder enc;
    session::detail::BlockDecoder dec;
    std::vector<uint8_t> blob;
    std::vector<Event> out;
    std::string why;
    ASSERT_TRUE(enc.encode(recs.data(), recs.size(), &blob));
    ASSERT_TRUE(dec.decode(blob.data(), blob.size(), recs.size(), &out, &why)) << why;
    ASSERT_EQ(out.size(), recs.size());
    for (size_t i = 0; i < recs.size(); i++) ASSERT_TRUE(sameEvent(out[i], recs[i].e)) << i;
    // A short block too (the recorder cuts one at every commit).
    ASSERT_TRUE(enc.encode(recs.data(), 1, &blob));
    ASSERT_TRUE(dec.decode(blob.data(), blob.size(), 1, &out, &why)) << why;
    EXPECT_TRUE(sameEvent(out[0], recs[0].e));
}

TEST(EventBlock, ADamagedBlockIsRefused) {
    std::vector<session::detail::BlockRecord> recs(100);
    for (size_t i = 0; i < recs.size(); i++)
        recs[i] = {int64_t(i), makeEvent(i, EventKind::SpanAlloc, kBase + i * 8192, kSpc, 1, 64)};
    session::detail::BlockEncoder enc;
    session::detail::BlockDecoder dec;
    std::vector<uint8_t> blob;
    std::vector<Event> out;
    std::string why;
    ASSERT_TRUE(enc.encode(recs.data(), recs.size(), &blob));
    EXPECT_FALSE(dec.decode(blob.data(), blob.size(), recs.size() + 1, &out, &why));  // wrong count
    EXPECT_FALSE(why.empty());
    for (size_t at : {size_t{0}, size_t{3}, blob.size() / 2, blob.size() - 1}) {
        std::vector<uint8_t> bad = blob;
        bad[at] ^= 0x5a;
        why.clear();
        // zstd's checksum-less frames may decode a flipped literal: then the columns check it.
        if (!dec.decode(bad.data(), bad.size(), recs.size(), &out, &why)) {
            EXPECT_FALSE(why.empty());
        }
    }
    EXPECT_FALSE(dec.decode(blob.data(), 1, recs.size(), &out, &why));
}

TEST(EventsTable, AnswersEveryPushedDownConstraintLikeAPlainTable) {
    TempDir dir;
    const std::string file = dir.path("s.db");
    ASSERT_TRUE(record(file, cacheStream()));
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    ASSERT_EQ(registerSessionTables(db), SQLITE_OK);
    const int64_t n = int64_t{kFrames} * kPerFrame;
    EXPECT_GT(sqlInt(db, "SELECT count(*) FROM event_blocks"), 2);  // more than one block
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events"), n);
    EXPECT_EQ(sqlInt(db, "SELECT min(id) FROM events"), 1);
    EXPECT_EQ(sqlInt(db, "SELECT max(id) FROM events"), n);
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events WHERE id <> t_ns"), 0);  // record n at n ns
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events WHERE kind = 24"), n / 2);
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events WHERE kind IN (24, 3)"), n);
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events WHERE kind IN (3, 99)"), n - n / 2);
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events WHERE kind = 7"), 0);
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events WHERE kind = 'x'"), 0);
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events WHERE t_ns BETWEEN 8000 AND 8999"), 1000);
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events WHERE t_ns > 8000 AND t_ns < 9000"), 999);
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events WHERE t_ns >= 8000.5 AND t_ns <= 9000"),
              1000);
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events WHERE id > 24990"), 10);
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM events WHERE id = 12345 AND kind = 3"), 1);
    EXPECT_EQ(sqlInt(db, "SELECT addr FROM events WHERE id = 12345"),
              int64_t(kBase + (12345 % 4096) * 8192));
    EXPECT_EQ(sqlInt(db, "SELECT a FROM events WHERE id = 12345"), 12345 % 64);
    // Id order without a sort, and the same sum whichever way the rows are reached.
    EXPECT_EQ(sqlInt(db, "SELECT id FROM events WHERE kind = 24 ORDER BY id LIMIT 1 OFFSET 100"),
              202);
    EXPECT_EQ(sqlInt(db, "SELECT sum(a) FROM events WHERE kind IN (24, 3) AND t_ns > 100"),
              sqlInt(db, "SELECT sum(a) FROM (SELECT a, t_ns FROM events) WHERE t_ns + 0 > 100"));
    EXPECT_EQ(sqlInt(db,
                     "SELECT count(*) FROM events e JOIN event_kinds k USING (kind) WHERE k.name = "
                     "'SpanRefill'"),
              n / 2);
    sqlite3_close(db);
}

TEST(EventsTable, AnOldSessionOpensAndUpgrades) {
    TempDir dir;
    const std::string file = dir.path("old.db");
    ASSERT_TRUE(record(file, cacheStream()));
    std::string err;
    std::vector<SpanRecord> before;
    {
        auto r = SessionReader::open(file, &err);
        ASSERT_TRUE(r) << err;
        before = r->spansAt(20000);
    }
    ASSERT_FALSE(before.empty());
    // Turn it into a version-2 file: a real events table, no blocks, raw keyframes.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(registerSessionTables(db), SQLITE_OK);
    {
        std::vector<std::pair<int64_t, std::vector<uint8_t>>> raw;
        sqlite3_stmt* q = nullptr;
        sqlite3_prepare_v2(db, "SELECT id, data FROM keyframes", -1, &q, nullptr);
        while (sqlite3_step(q) == SQLITE_ROW) {
            std::vector<uint8_t> r;
            std::string why;
            ASSERT_TRUE(session::detail::keyframeBytes(sqlite3_column_blob(q, 1),
                                                       size_t(sqlite3_column_bytes(q, 1)),
                                                       size_t(1) << 30, &r, &why))
                << why;
            raw.emplace_back(sqlite3_column_int64(q, 0), std::move(r));
        }
        sqlite3_finalize(q);
        sqlite3_prepare_v2(db, "UPDATE keyframes SET data = ? WHERE id = ?", -1, &q, nullptr);
        for (const auto& [id, r] : raw) {
            sqlite3_bind_blob(q, 1, r.data(), int(r.size()), SQLITE_STATIC);
            sqlite3_bind_int64(q, 2, id);
            ASSERT_EQ(sqlite3_step(q), SQLITE_DONE);
            sqlite3_reset(q);
        }
        sqlite3_finalize(q);
    }
    const char* kRawKeyframes =
        "SELECT count(*) FROM keyframes WHERE length(data) > 0 AND hex(substr(data, 1, 4)) <> "
        "'28B52FFD'";
    ASSERT_GT(sqlInt(db, kRawKeyframes), 0);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE old_events AS SELECT * FROM events;"
                           "DROP TABLE event_blocks; DROP TABLE event_block_data;"
                           "ALTER TABLE old_events RENAME TO events; PRAGMA user_version = 2;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);

    auto sameSpans = [&](const char* what) {
        auto r = SessionReader::open(file, &err);
        ASSERT_TRUE(r) << what << ": " << err;
        const auto now = r->spansAt(20000);
        ASSERT_EQ(now.size(), before.size()) << what;
        for (size_t i = 0; i < now.size(); i++)
            EXPECT_TRUE(now[i].base == before[i].base &&
                        now[i].allocCount == before[i].allocCount &&
                        now[i].state == before[i].state)
                << what << " " << i;
        EventRow row;
        ASSERT_TRUE(r->eventAfter(777, 777, {3}, &row)) << what;
        EXPECT_EQ(row.id, 779) << what;
    };
    sameSpans("version 2");
    std::string msg;
    EXPECT_EQ(upgradeSession(file, &msg), UpgradeResult::Upgraded) << msg;
    EXPECT_NE(msg.find("from schema version 2"), std::string::npos) << msg;
    sameSpans("upgraded");
    EXPECT_EQ(upgradeSession(file, &msg), UpgradeResult::AlreadyCurrent) << msg;
    EXPECT_EQ(upgradeSession(dir.path("missing.db"), &msg), UpgradeResult::Failed);
    EXPECT_NE(msg.find("missing.db"), std::string::npos);
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlInt(db, "PRAGMA user_version"), kSchemaVersion);
    EXPECT_EQ(sqlInt(db, "SELECT count(*) FROM sqlite_master WHERE name = 'events'"), 0);
    EXPECT_EQ(sqlInt(db, kRawKeyframes), 0) << "the keyframes were compressed";
    sqlite3_close(db);
}

// A bounded recording keeps the most recent part: whole blocks and keyframes before a keyframe
// go, and the state at any kept moment is the one the whole recording gives.
TEST(BoundedRecording, KeepsTheRecentPartAndItStillSeeks) {
    TempDir dir;
    // 10 s of stream time: 100 frames of 1,000 records 100 us apart over 512 spans.
    std::vector<std::string> frames;
    uint64_t t = kStart;
    for (int f = 0; f < 100; f++) {
        std::vector<Event> frame;
        for (int i = 0; i < 1000; i++) {
            const int n = f * 1000 + i;
            t += 100000;
            const uint64_t span = kBase + uint64_t(n % 512) * 8192;
            frame.push_back(
                n < 512 ? makeEvent(t, EventKind::SpanAlloc, span, kSpc, 1, 64)
                        : makeEvent(t, n % 2 ? EventKind::SpanUncache : EventKind::SpanRefill, span,
                                    kSpc, 1, uint64_t(n % 64), 64));
        }
        StreamBuilder fb;
        fb.bytes.clear();
        fb.frame(frame);
        frames.push_back(fb.bytes);
    }
    auto recordFrames = [&](const std::string& path, int64_t keepNs) {
        Recorder rec;
        RecorderOptions opts;
        opts.path = path;
        opts.keepNs = keepNs;
        opts.commitIntervalMs = 0;  // a commit (and a bounds check) after every frame
        opts.trimIntervalMs = 0;
        std::string err;
        ASSERT_TRUE(rec.open(opts, &err)) << err;
        const std::string header = StreamBuilder(kStart).bytes;
        ASSERT_TRUE(rec.feed(header.data(), header.size()));
        for (const auto& f : frames) ASSERT_TRUE(rec.feed(f.data(), f.size())) << rec.error();
        ASSERT_TRUE(rec.finish(EndInfo{"exit", 0, 0}));
    };
    recordFrames(dir.path("full.db"), 0);
    recordFrames(dir.path("kept.db"), 2000000000);  // --keep 2s
    std::string err;
    auto full = SessionReader::open(dir.path("full.db"), &err);
    ASSERT_TRUE(full) << err;
    auto kept = SessionReader::open(dir.path("kept.db"), &err);
    ASSERT_TRUE(kept) << err;
    EXPECT_EQ(full->info().keptFromNs, 0);
    const int64_t end = kept->info().endNs, from = kept->info().keptFromNs;
    EXPECT_EQ(end, full->info().endNs);
    EXPECT_GE(from, end - 3000000000);  // about 2 s kept (cut at a keyframe, checked per frame)
    EXPECT_LE(from, end - 2000000000);
    for (int64_t at : {from, from + 1, (from + end) / 2, end - 12345, end}) {
        const auto a = full->spansAt(at), b = kept->spansAt(at);
        ASSERT_EQ(a.size(), b.size()) << at;
        for (size_t i = 0; i < a.size(); i++)
            ASSERT_TRUE(a[i].base == b[i].base && a[i].allocCount == b[i].allocCount &&
                        a[i].state == b[i].state)
                << at << " " << i;
        EXPECT_LT(kept->lastReplayCount(), 20000u);
    }
    // Before the kept part: the state where it begins.
    EXPECT_EQ(kept->spansAt(0).size(), kept->spansAt(from).size());
    EventRow row;
    ASSERT_TRUE(kept->eventAfter(0, 0, {}, &row));
    EXPECT_GE(int64_t(row.event.timeNs), from - 1000000000);  // the first kept block
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(dir.path("kept.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    EXPECT_GT(sqlInt(db, "SELECT min(id) FROM event_blocks"), 50000);
    EXPECT_LT(sqlInt(db, "SELECT count(*) FROM keyframes"), 10);
    sqlite3_close(db);
}

TEST(BoundedRecording, SizesAndDurationsParse) {
    uint64_t b = 0;
    int64_t ns = 0;
    EXPECT_TRUE(parseSize("20M", &b));
    EXPECT_EQ(b, 20u << 20);
    EXPECT_TRUE(parseSize("2G", &b));
    EXPECT_EQ(b, uint64_t{2} << 30);
    EXPECT_TRUE(parseSize("1.5K", &b));
    EXPECT_EQ(b, 1536u);
    EXPECT_FALSE(parseSize("", &b));
    EXPECT_FALSE(parseSize("-1M", &b));
    EXPECT_FALSE(parseSize("12Q", &b));
    EXPECT_TRUE(parseDuration("30s", &ns));
    EXPECT_EQ(ns, 30000000000);
    EXPECT_TRUE(parseDuration("10m", &ns));
    EXPECT_EQ(ns, 600000000000);
    EXPECT_TRUE(parseDuration("2h", &ns));
    EXPECT_TRUE(parseDuration("500ms", &ns));
    EXPECT_EQ(ns, 500000000);
    EXPECT_FALSE(parseDuration("soon", &ns));
    EXPECT_FALSE(parseDuration("0s", &ns));
}
