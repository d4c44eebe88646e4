// upgradeSession: converts a session of schema version 1 or 2 (one `events` row per record) or 3
// (one `prof_samples` row per heap-profile sample) to version 4 (records and samples in blocks,
// spanscope/detail/event_block.h). The records keep their ids, so the keyframes' last_event_id
// still points at the same records. See spanscope/session_upgrade.h.
#include "spanscope/session_upgrade.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <vector>

#include "spanscope/detail/block_writer.h"
#include "spanscope/detail/profile_store.h"
#include "spanscope/session_types.h"

namespace spanscope::session {

namespace {
struct Db {
    sqlite3* db = nullptr;
    ~Db() {
        if (db) sqlite3_close(db);
    }
};
struct Stmt {
    sqlite3_stmt* st = nullptr;
    Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &st, nullptr); }
    ~Stmt() { sqlite3_finalize(st); }
};

int64_t pragmaInt(sqlite3* db, const char* sql) {
    Stmt q(db, sql);
    return q.st && sqlite3_step(q.st) == SQLITE_ROW ? sqlite3_column_int64(q.st, 0) : -1;
}

// Reads a table of rows in id order (`select`: id, t_ns, then the columns `fill` reads) and
// writes them as blocks of consecutive ids into dirTable and dataTable, created by `create`.
using FillRecord = void (*)(sqlite3_stmt* row, Event* e);
bool convertToBlocks(sqlite3* db, const char* create, const char* select, const char* dirTable,
                     const char* dataTable, FillRecord fill, std::string* why) {
    if (sqlite3_exec(db, create, nullptr, nullptr, nullptr) != SQLITE_OK) {
        *why = sqlite3_errmsg(db);
        return false;
    }
    Stmt rd(db, select);
    detail::BlockWriter out;
    if (!rd.st || !out.init(db, dirTable, dataTable)) {
        *why = rd.st ? out.error() : sqlite3_errmsg(db);
        return false;
    }
    std::vector<detail::BlockRecord> block;
    int64_t first = 0;
    auto flush = [&]() {
        const bool ok = out.write(first, block.data(), block.size());
        block.clear();
        return ok;
    };
    int rc;
    while ((rc = sqlite3_step(rd.st)) == SQLITE_ROW) {
        const int64_t id = sqlite3_column_int64(rd.st, 0);
        if (!block.empty() &&
            (id != first + static_cast<int64_t>(block.size()) ||
             block.size() == detail::kBlockRecords) &&
            !flush())
            break;
        if (block.empty()) first = id;
        detail::BlockRecord r{sqlite3_column_int64(rd.st, 1), Event{}};
        r.e.timeNs = static_cast<uint64_t>(r.t);
        fill(rd.st, &r.e);
        block.push_back(r);
    }
    if (rc != SQLITE_DONE || !flush()) {
        *why = std::string("convert ") + dirTable + ": " +
               (out.error().empty() ? sqlite3_errmsg(db) : out.error());
        return false;
    }
    return true;
}

// Versions 1 and 2: one `events` row per record.
bool convertEvents(sqlite3* db, std::string* why) {
    return convertToBlocks(
        db,
        "CREATE TABLE event_blocks(id INTEGER PRIMARY KEY, count INTEGER NOT NULL, "
        "t_min INTEGER NOT NULL, t_max INTEGER NOT NULL, kinds INTEGER NOT NULL);"
        "CREATE TABLE event_block_data(id INTEGER PRIMARY KEY, data BLOB NOT NULL);",
        "SELECT id, t_ns, tid, seq, kind, span_class, flags, npages, addr, a, b, c, d "
        "FROM events ORDER BY id",
        "event_blocks", "event_block_data",
        [](sqlite3_stmt* q, Event* e) {
            auto col = [&](int i) { return sqlite3_column_int64(q, i); };
            e->tid = static_cast<uint32_t>(col(2)), e->seq = static_cast<uint32_t>(col(3));
            e->kind = static_cast<EventKind>(col(4));
            e->spanClass = static_cast<uint8_t>(col(5)), e->flags = static_cast<uint8_t>(col(6));
            e->npages = static_cast<uint32_t>(col(7)), e->addr = static_cast<uint64_t>(col(8));
            e->a = static_cast<uint64_t>(col(9)), e->b = static_cast<uint64_t>(col(10));
            e->c = static_cast<uint64_t>(col(11)), e->d = static_cast<uint64_t>(col(12));
        },
        why);
}

// Version 3 (and the versions 1 and 2 that have a heap profile): one `prof_samples` row per
// sample, into ProfileStore's blocks (kind, addr; bytes in a, stack in b, rate in c, managed in
// flags).
bool convertProfSamples(sqlite3* db, std::string* why) {
    return convertToBlocks(
        db, kProfileSchemaSql,
        "SELECT id, t_ns, kind, addr, bytes, stack, rate, managed FROM prof_samples ORDER BY id",
        "prof_sample_blocks", "prof_sample_block_data",
        [](sqlite3_stmt* q, Event* e) {
            auto col = [&](int i) { return static_cast<uint64_t>(sqlite3_column_int64(q, i)); };
            e->kind = static_cast<EventKind>(col(2));
            e->addr = col(3), e->a = col(4), e->b = col(5), e->c = col(6);
            e->flags = static_cast<uint8_t>(col(7) & 1);
        },
        why);
}

// Schema 4 compresses keyframes (event_block.h, compressKeyframe): the raw ones of an older file
// are compressed in place (a blob already compressed, or damaged, is left as it is).
bool compressKeyframes(sqlite3* db, std::string* why) {
    std::vector<int64_t> ids;
    {
        Stmt q(db, "SELECT id FROM keyframes ORDER BY id");
        if (!q.st) return true;  // no keyframes table: nothing to compress
        while (sqlite3_step(q.st) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(q.st, 0));
    }
    Stmt rd(db, "SELECT data FROM keyframes WHERE id = ?");
    Stmt up(db, "UPDATE keyframes SET data = ? WHERE id = ?");
    std::vector<uint8_t> z;
    for (const int64_t id : ids) {  // one at a time: a big heap's keyframes need not fit at once
        sqlite3_reset(rd.st);
        sqlite3_bind_int64(rd.st, 1, id);
        if (sqlite3_step(rd.st) != SQLITE_ROW) continue;
        const auto* b = static_cast<const uint8_t*>(sqlite3_column_blob(rd.st, 0));
        const int n = sqlite3_column_bytes(rd.st, 0);
        if (!b || n <= 0 || n % int(sizeof(SpanRecord)) != 0 || b[0] == 0x28) continue;
        if (!detail::compressKeyframe(b, size_t(n), &z)) {
            *why = "compress a keyframe: zstd failed";
            return false;
        }
        sqlite3_reset(rd.st);
        sqlite3_bind_blob(up.st, 1, z.data(), int(z.size()), SQLITE_STATIC);
        sqlite3_bind_int64(up.st, 2, id);
        const bool ok = sqlite3_step(up.st) == SQLITE_DONE;
        sqlite3_reset(up.st);
        if (!ok) {
            *why = std::string("compress the keyframes: ") + sqlite3_errmsg(db);
            return false;
        }
    }
    return true;
}

bool hasRealTable(sqlite3* db, const char* name) {
    Stmt q(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    sqlite3_bind_text(q.st, 1, name, -1, SQLITE_STATIC);
    return q.st && sqlite3_step(q.st) == SQLITE_ROW;
}
}  // namespace

UpgradeResult upgradeSession(const std::string& path, std::string* message) {
    auto failed = [&](const std::string& why) {
        *message = path + ": " + why;
        return UpgradeResult::Failed;
    };
    if (access(path.c_str(), R_OK | W_OK) != 0)
        return failed("cannot open (missing or not writable)");
    const std::string tmp = path + ".upgrading";
    {
        Db src;
        if (sqlite3_open_v2(path.c_str(), &src.db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
            return failed(std::string("cannot open: ") + sqlite3_errmsg(src.db));
        sqlite3_busy_timeout(src.db, 2000);
        const int64_t app = pragmaInt(src.db, "PRAGMA application_id");
        const int64_t version = pragmaInt(src.db, "PRAGMA user_version");
        if (app != kApplicationId) return failed("not a spanscope session");
        if (version == kSchemaVersion) {
            *message = path + ": already schema version " + std::to_string(kSchemaVersion) +
                       "; nothing to do";
            return UpgradeResult::AlreadyCurrent;
        }
        if (version > kSchemaVersion)
            return failed("schema version " + std::to_string(version) +
                          " is newer than this build");
        if (version < kOldestSchemaVersion)
            return failed("not a spanscope session (no schema version)");
        std::remove(tmp.c_str());
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(src.db, "VACUUM INTO ?", -1, &st, nullptr);
        sqlite3_bind_text(st, 1, tmp.c_str(), -1, SQLITE_TRANSIENT);
        const int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return failed(std::string("copy: ") + sqlite3_errmsg(src.db));
        *message = path + ": converted from schema version " + std::to_string(version) + " to " +
                   std::to_string(kSchemaVersion);
    }
    Db dst;
    std::string why;
    bool ok = sqlite3_open_v2(tmp.c_str(), &dst.db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK &&
              sqlite3_exec(dst.db, "PRAGMA journal_mode=DELETE; BEGIN", nullptr, nullptr,
                           nullptr) == SQLITE_OK &&
              (!hasRealTable(dst.db, "events") || convertEvents(dst.db, &why)) &&
              (!hasRealTable(dst.db, "prof_samples") || convertProfSamples(dst.db, &why)) &&
              compressKeyframes(dst.db, &why);
    if (ok) {
        const std::string sql =
            "DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS prof_samples; "
            "PRAGMA user_version=" +
            std::to_string(kSchemaVersion) + "; COMMIT; VACUUM; PRAGMA journal_mode=WAL;";
        ok = sqlite3_exec(dst.db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    if (!ok && why.empty()) why = sqlite3_errmsg(dst.db);
    sqlite3_close(dst.db);
    dst.db = nullptr;
    if (!ok) {
        std::remove(tmp.c_str());
        return failed("conversion failed, the file is unchanged: " + why);
    }
    for (const char* suffix : {"-wal", "-shm"}) std::remove((path + suffix).c_str());
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return failed("cannot replace the file; it is unchanged");
    }
    return UpgradeResult::Upgraded;
}

}  // namespace spanscope::session
