// Tests of the kinds table (spanscope/kinds.h): docs/session-format.md's table of kinds agrees
// with it both ways, the packed payload fields' accessors read what their packers wrote, and what
// is derived from the table (a session's event_kinds rows, the span_events view's filter, kind
// names) covers every kind, the ones added last included.
#include "spanscope/kinds.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "spanscope/session.h"
#include "stream_builder.h"

using namespace spanscope;
using spanscope::test::makeEvent;
using spanscope::test::StreamBuilder;

namespace {

struct DocRow {
    std::string name, fields;
};

// The rows "| 24 | SpanRefill | fields |" of the doc's table of kinds (after its header row
// "| kind | name | fields |"); "\|" in a cell is a literal bar.
std::map<uint16_t, DocRow> docRows() {
    std::ifstream in(SPANSCOPE_FORMAT_DOC);
    EXPECT_TRUE(in) << SPANSCOPE_FORMAT_DOC;
    std::map<uint16_t, DocRow> rows;
    const std::regex row(R"(^\| (\d+) \| (\w+) \| (.*) \|$)");
    bool inTable = false;
    std::string line;
    while (std::getline(in, line)) {
        if (line == "| kind | name | fields |") {
            inTable = true;
            continue;
        }
        if (!inTable || line.rfind("|---", 0) == 0) continue;
        std::smatch m;
        if (!std::regex_match(line, m, row)) {
            inTable = false;
            continue;
        }
        std::string fields = m[3];
        for (size_t at; (at = fields.find("\\|")) != std::string::npos;) fields.erase(at, 1);
        const auto kind = static_cast<uint16_t>(std::stoi(m[1]));
        EXPECT_FALSE(rows.count(kind)) << "kind " << kind << " has two rows in the doc";
        rows[kind] = {m[2], fields};
    }
    return rows;
}

std::string docRowOf(const kinds::KindInfo& k) {
    std::string fields = k.fields;
    for (size_t at = 0; (at = fields.find('|', at)) != std::string::npos; at += 2)
        fields.insert(at, "\\");
    return "| " + std::to_string(k.kind) + " | " + k.name + " | " + fields + " |";
}

TEST(KindsTable, DocsTableAgreesBothWays) {
    const auto rows = docRows();
    ASSERT_FALSE(rows.empty());
    for (const kinds::KindInfo& k : kinds::kTable) {
        auto it = rows.find(k.kind);
        if (it == rows.end()) {
            ADD_FAILURE() << "docs/session-format.md lacks kind " << k.kind << "; its row:\n"
                          << docRowOf(k);
            continue;
        }
        EXPECT_EQ(it->second.name, k.name) << docRowOf(k);
        EXPECT_EQ(it->second.fields, k.fields) << "the doc's row should read:\n" << docRowOf(k);
    }
    for (const auto& [kind, row] : rows)
        EXPECT_NE(kinds::find(kind), nullptr)
            << "the doc lists kind " << kind << " (" << row.name << ") the table does not have";
}

TEST(KindsTable, EveryKindHasANameFieldsAndASentence) {
    std::set<std::string> names;
    for (const kinds::KindInfo& k : kinds::kTable) {
        EXPECT_TRUE(names.insert(k.name).second) << k.name;
        EXPECT_STREQ(session::kindName(k.kind), k.name);
        EXPECT_GT(std::strlen(k.fields), 0u) << k.name;
        EXPECT_GT(std::strlen(k.says), 0u) << k.name;
    }
    // The enums are made from the same lists.
    EXPECT_STREQ(kinds::find(uint16_t(EventKind::SpanRefill))->name, "SpanRefill");
    EXPECT_STREQ(kinds::find(stream::kModuleName)->name, "ModuleName");
    EXPECT_STREQ(session::kindName(999), "kind999");
    EXPECT_EQ(kinds::sqlList(kKindSpanView), "1,2,3,4,5,6,7,24");
}

// The packed fields' accessors read back what their packers wrote, at the edges of each field.
TEST(KindsTable, PayloadAccessorsReadWhatThePackersWrote) {
    Event e{};
    e.d = payload::packRefillOld(0xc000006000, 0x1fff);
    EXPECT_EQ(payload::refillOldBase(e), 0xc000006000u);
    EXPECT_EQ(payload::refillOldAllocCount(e), 0x1fffu);
    e.addr = payload::packHiLo(2500, 0xffffffff);
    EXPECT_EQ(payload::gcPhaseHi(e), 2500u);
    EXPECT_EQ(payload::gcPhaseLo(e), 0xffffffffu);
    e.flags = payload::packProfStackFlags(5, true);
    EXPECT_EQ(payload::profStackFrames(e), 5u);
    EXPECT_TRUE(payload::profStackLast(e));
    e.flags = payload::packProfStackFlags(3, false);
    EXPECT_EQ(payload::profStackFrames(e), 3u);
    EXPECT_FALSE(payload::profStackLast(e));
    e.a = payload::packSpanCounts(0xffff, 170, 0x12345);
    EXPECT_EQ(payload::spanStateNelems(e), 0xffffu);
    EXPECT_EQ(payload::spanStateAllocCount(e), 170u);
    EXPECT_EQ(payload::spanStateFreeindex(e), 0x12345u);
    e.d = payload::packSweepgenWords(0xfffffffe, 3);
    EXPECT_EQ(payload::spanStateSweepgen(e), 0xfffffffeu);
    EXPECT_EQ(payload::spanStateWords(e), 3u);
}

class KindsSession : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/spanscope-kinds-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        m_dir = tmpl;
        m_path = m_dir + "/s.spanscope";
    }
    void TearDown() override { std::system(("rm -rf " + m_dir).c_str()); }
    std::string m_dir, m_path;
};

// The session's event_kinds rows are the table's, the probe's kinds 264 and 265 included (the
// hand-kept name array they replace had stopped at 263), and span_events lists exactly the kinds
// flagged kKindSpanView.
TEST_F(KindsSession, EventKindsRowsAndSpanEventsViewComeFromTheTable) {
    constexpr uint64_t kStart = 1000000, A = 0xc000000000;
    constexpr uint8_t kSpc = 10 << 1 | 1;
    StreamBuilder b(kStart);
    b.frame({makeEvent(kStart + 10, EventKind::SpanAlloc, A, kSpc, 1, 64),
             makeEvent(kStart + 20, EventKind::SpanRefill, A, kSpc, 1, 3, 64),
             makeEvent(kStart + 30, EventKind::GCPhase, 0, 0, 0, 1, 1 << 20, 4 << 20),
             makeEvent(kStart + 40, EventKind::ThreadStart)});
    b.trailer();
    {
        session::Recorder rec;
        session::RecorderOptions opts;
        opts.path = m_path;
        std::string err;
        ASSERT_TRUE(rec.open(opts, &err)) << err;
        rec.feed(b.bytes.data(), b.bytes.size());
        session::EndInfo end;
        end.reason = "exit";
        ASSERT_TRUE(rec.finish(end));
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(m_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    ASSERT_EQ(session::registerSessionTables(db), SQLITE_OK);
    std::map<uint16_t, std::string> rows;
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT kind, name FROM event_kinds", -1, &st, nullptr),
              SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        rows[uint16_t(sqlite3_column_int(st, 0))] =
            reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    EXPECT_EQ(rows.size(), sizeof kinds::kTable / sizeof *kinds::kTable);
    for (const kinds::KindInfo& k : kinds::kTable) EXPECT_EQ(rows[k.kind], k.name);
    EXPECT_EQ(rows[265], "ModuleName");

    std::vector<std::string> viewKinds;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT kind FROM span_events ORDER BY id", -1, &st, nullptr),
              SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        viewKinds.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    sqlite3_close(db);
    EXPECT_EQ(viewKinds, (std::vector<std::string>{"SpanAlloc", "SpanRefill"}));
}

}  // namespace
