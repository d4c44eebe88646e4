// Sessions damaged the ways a bad disk, a foreign tool or a hostile file damages them: the reader
// opens what it can with warnings naming the damaged part, refuses what is not a session, never
// trusts a keyframe, and checkSession (spanscope-cli check) names every problem. Regression cases
// of issue 10: format_version 999, missing tables, kind 9999, negative sizes, NULL and text
// values, a keyframe with npages 4184997889, a random keyframe blob.
#include "spanscope/session_check.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "spanscope/detail/event_block.h"
#include "spanscope/events_table.h"
#include "spanscope/session.h"
#include "stream_builder.h"

using namespace spanscope;
using namespace spanscope::session;
using spanscope::test::makeEvent;
using spanscope::test::StreamBuilder;

namespace {
constexpr uint64_t kStart = 1000000;
constexpr uint64_t A = 0xc000000000, B = 0xc000002000;
constexpr uint8_t kSpc = 10 << 1 | 1;

class SessionCheckTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/spanscope-check-XXXXXX";
        m_dir = mkdtemp(tmpl);
        m_path = m_dir + "/s.spanscope";
        StreamBuilder b(kStart);
        b.frame({makeEvent(kStart + 10, EventKind::SpanAlloc, A, kSpc, 1, 64),
                 makeEvent(kStart + 20, EventKind::SpanRefill, A, kSpc, 1, 0, 64),
                 makeEvent(kStart + 30, EventKind::HeapTotals, 0, 0, 0, 8192, 8192, 0, 0),
                 makeEvent(kStart + 40, EventKind::SpanAlloc, B, kSpc, 1, 64)});
        b.trailer();
        Recorder rec;
        RecorderOptions opts;
        opts.path = m_path;
        std::string err;
        ASSERT_TRUE(rec.open(opts, &err)) << err;
        ASSERT_TRUE(rec.feed(b.bytes.data(), b.bytes.size()));
        EndInfo end;
        end.reason = "exit";
        end.exitCode = 0;
        ASSERT_TRUE(rec.finish(end)) << rec.error();
    }
    void TearDown() override { std::system(("rm -rf " + m_dir).c_str()); }
    void sql(const std::string& s) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(m_path.c_str(), &db), SQLITE_OK);
        char* msg = nullptr;
        EXPECT_EQ(sqlite3_exec(db, s.c_str(), nullptr, nullptr, &msg), SQLITE_OK)
            << (msg ? msg : "") << " in " << s;
        sqlite3_free(msg);
        sqlite3_close(db);
    }
    // The session as schema 2 wrote it (a real `events` table, one row per record): damage done
    // to single records with SQL, as a foreign tool would.
    void toSchema2() {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(m_path.c_str(), &db), SQLITE_OK);
        ASSERT_EQ(registerSessionTables(db), SQLITE_OK);
        char* msg = nullptr;
        EXPECT_EQ(
            sqlite3_exec(
                db,
                "CREATE TABLE ev2 AS SELECT id, t_ns, tid, seq, kind, span_class, flags, npages, "
                "addr, a, b, c, d FROM events; DROP TABLE event_blocks; DROP TABLE "
                "event_block_data; "
                "ALTER TABLE ev2 RENAME TO events; PRAGMA user_version = 2",
                nullptr, nullptr, &msg),
            SQLITE_OK)
            << (msg ? msg : "");
        sqlite3_free(msg);
        sqlite3_close(db);
    }
    static bool names(const std::vector<SessionProblem>& ps, const std::string& part,
                      const std::string& text = "") {
        for (const auto& p : ps)
            if (p.part == part && p.what.find(text) != std::string::npos) return true;
        return false;
    }
    std::string m_dir, m_path;
};
}  // namespace

TEST_F(SessionCheckTest, ASoundSessionHasNoProblemAndLeavesNoFilesBehind) {
    EXPECT_TRUE(checkSession(m_path).empty());
    std::string err;
    auto r = SessionReader::open(m_path, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_TRUE(r->warnings().empty());
    EXPECT_EQ(r->spansAt(100).size(), 2u);
    r.reset();
    // Finished: a rollback journal, not WAL, so a read-only reader needs no -shm; and a reader
    // creates nothing beside the file.
    for (const char* s : {"-wal", "-shm", "-journal"})
        EXPECT_NE(access((m_path + s).c_str(), F_OK), 0) << s << " left behind";
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(m_path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, nullptr);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), "delete");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

TEST_F(SessionCheckTest, AForeignFormatVersionIsAWarningNotACrash) {
    sql("UPDATE session SET format_version = 999");
    std::string err;
    auto r = SessionReader::open(m_path, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_TRUE(names(r->warnings(), "session", "format_version 999"));
    EXPECT_EQ(r->spansAt(100).size(), 2u) << "the rest stays browsable";
}

TEST_F(SessionCheckTest, ANewerSchemaAndAMissingSessionTableAreRefused) {
    sql("PRAGMA user_version = 99");
    std::string err;
    EXPECT_FALSE(SessionReader::open(m_path, &err));
    EXPECT_NE(err.find("newer"), std::string::npos) << err;
    auto ps = checkSession(m_path);
    ASSERT_FALSE(ps.empty());
    EXPECT_TRUE(ps[0].fatal);
    sql("PRAGMA user_version = 2; DROP TABLE session");
    EXPECT_FALSE(SessionReader::open(m_path, &err));
}

TEST_F(SessionCheckTest, MissingTablesAreNamedAndTheRestIsBrowsable) {
    sql("DROP VIEW span_events; DROP TABLE event_blocks; DROP TABLE event_block_data; DROP TABLE "
        "keyframes; "
        "DROP TABLE heap_totals");
    std::string err;
    auto r = SessionReader::open(m_path, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_TRUE(names(r->warnings(), "events", "missing"));
    EXPECT_TRUE(r->spansAt(100).empty());
    EXPECT_TRUE(r->heapSeries(0, INT64_MAX).empty());
    const auto ps = checkSession(m_path);
    EXPECT_TRUE(names(ps, "keyframes", "missing"));
    EXPECT_TRUE(names(ps, "heap_totals", "missing"));
}

TEST_F(SessionCheckTest, MissingEventsTableOfSchema2IsNamed) {
    toSchema2();
    sql("DROP VIEW span_events; DROP TABLE events");
    std::string err;
    auto r = SessionReader::open(m_path, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_TRUE(names(r->warnings(), "events", "missing"));
}

TEST_F(SessionCheckTest, BadValuesInTablesAreCounted) {
    toSchema2();
    sql("UPDATE events SET kind = 9999 WHERE id = 1; UPDATE events SET npages = -5 WHERE kind = 1;"
        "UPDATE heap_totals SET heap_sys = 'text'; UPDATE session SET program = X'ff00'");
    std::string err;
    auto r = SessionReader::open(m_path, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_TRUE(names(r->warnings(), "session", "program is not text"));
    for (const SpanRecord& s : r->spansAt(100)) EXPECT_LT(s.npages, 1u << 20);
    const auto ps = checkSession(m_path);
    EXPECT_TRUE(names(ps, "events", "unknown kind"));
    EXPECT_TRUE(names(ps, "heap_totals", "1 row"));
}

// The GUI grew to 15 GB and aborted on this keyframe (issue 10): npages 4184997889.
TEST_F(SessionCheckTest, AKeyframeIsNeverTrusted) {
    sql("UPDATE keyframes SET data = zeroblob(0)");  // keep one row, rewrite below
    SpanRecord bad{};
    bad.base = A;
    bad.npages = 4184997889u;
    bad.spanClass = kSpc;
    SpanRecord good{};
    good.base = B;
    good.npages = 1;
    good.spanClass = kSpc;
    auto setKeyframe = [this](const void* data, size_t bytes, int64_t spans = 2) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(m_path.c_str(), &db), SQLITE_OK);
        sqlite3_stmt* u = nullptr;
        sqlite3_prepare_v2(db, "UPDATE keyframes SET data = ?, spans = ?", -1, &u, nullptr);
        sqlite3_bind_blob(u, 1, data, int(bytes), SQLITE_STATIC);
        sqlite3_bind_int64(u, 2, spans);
        ASSERT_EQ(sqlite3_step(u), SQLITE_DONE);
        sqlite3_finalize(u);
        sqlite3_close(db);
    };
    SpanRecord both[2] = {bad, good};
    setKeyframe(both, sizeof both);  // raw, as schema 3 wrote them
    std::string err;
    auto r = SessionReader::open(m_path, &err);
    ASSERT_TRUE(r) << err;
    const auto spans = r->spansAt(INT64_MAX / 2);
    for (const SpanRecord& s : spans) EXPECT_NE(s.npages, 4184997889u);
    EXPECT_TRUE(names(r->warnings(), "keyframes"));
    EXPECT_TRUE(names(checkSession(m_path), "keyframes", "implausible"));
    // A random blob, not whole records: skipped.
    sql("UPDATE keyframes SET data = X'0102030405060708090a0b0c0d0e0f1011121314151617181920'");
    r = SessionReader::open(m_path, &err);
    ASSERT_TRUE(r) << err;
    (void)r->spansAt(INT64_MAX / 2);
    EXPECT_TRUE(names(r->warnings(), "keyframes", "not whole span records"));
    // Compressed, as schema 4 writes them: the records are checked the same way.
    std::vector<uint8_t> z;
    ASSERT_TRUE(session::detail::compressKeyframe(both, sizeof both, &z));
    setKeyframe(z.data(), z.size());
    r = SessionReader::open(m_path, &err);
    ASSERT_TRUE(r) << err;
    for (const SpanRecord& s : r->spansAt(INT64_MAX / 2)) EXPECT_NE(s.npages, 4184997889u);
    EXPECT_TRUE(names(r->warnings(), "keyframes"));
    EXPECT_TRUE(names(checkSession(m_path), "keyframes", "implausible"));
    // A damaged frame, and a frame that claims 1 GB of span records: refused, nothing allocated.
    std::vector<uint8_t> damaged = z;
    for (size_t i = 6; i < damaged.size(); i++) damaged[i] ^= 0x5a;
    setKeyframe(damaged.data(), damaged.size());
    r = SessionReader::open(m_path, &err);
    ASSERT_TRUE(r) << err;
    (void)r->spansAt(INT64_MAX / 2);
    EXPECT_TRUE(names(r->warnings(), "keyframes", "damaged"));
    EXPECT_TRUE(names(checkSession(m_path), "keyframes", "damaged"));
    const uint8_t huge[] = {0x28, 0xb5, 0x2f, 0xfd, 0x80, 0x00, 0x00, 0x00, 0x00, 0x40, 0, 0, 0};
    setKeyframe(huge, sizeof huge);
    r = SessionReader::open(m_path, &err);
    ASSERT_TRUE(r) << err;
    (void)r->spansAt(INT64_MAX / 2);
    EXPECT_TRUE(names(r->warnings(), "keyframes", "bad frame size"));
    EXPECT_TRUE(names(checkSession(m_path), "keyframes", "bad frame size"));
    // The same with a span count that would allow 1.6 GB: the frame is still bounded by 64 times
    // its own size, so it is refused by its header, not after zeroing a gigabyte.
    setKeyframe(huge, sizeof huge, (int64_t{1} << 26) - 1);
    r = SessionReader::open(m_path, &err);
    ASSERT_TRUE(r) << err;
    (void)r->spansAt(INT64_MAX / 2);
    EXPECT_TRUE(names(r->warnings(), "keyframes", "bad frame size"));
    EXPECT_TRUE(names(checkSession(m_path), "keyframes", "bad frame size"));
}
