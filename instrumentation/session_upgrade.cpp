// upgradeSession: converts a session of schema version 1 or 2 (one `events` row per record) to
// version 3 (event blocks, spanscope/detail/event_block.h). The records keep their ids, so the
// keyframes' last_event_id still points at the same records. See spanscope/session_upgrade.h.
#include "spanscope/session_upgrade.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <vector>

#include "spanscope/detail/event_block.h"
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

// Reads the events table in id order and writes it as blocks of consecutive ids.
bool convertEvents(sqlite3* db, std::string* why) {
    if (sqlite3_exec(db,
                     "CREATE TABLE event_blocks(id INTEGER PRIMARY KEY, count INTEGER NOT NULL, "
                     "t_min INTEGER NOT NULL, t_max INTEGER NOT NULL, kinds INTEGER NOT NULL);"
                     "CREATE TABLE event_block_data(id INTEGER PRIMARY KEY, data BLOB NOT NULL);",
                     nullptr, nullptr, nullptr) != SQLITE_OK) {
        *why = sqlite3_errmsg(db);
        return false;
    }
    Stmt rd(db,
            "SELECT id, t_ns, tid, seq, kind, span_class, flags, npages, addr, a, b, c, d "
            "FROM events ORDER BY id");
    Stmt insDir(db, "INSERT INTO event_blocks(id, count, t_min, t_max, kinds) VALUES (?,?,?,?,?)");
    Stmt insData(db, "INSERT INTO event_block_data(id, data) VALUES (?,?)");
    if (!rd.st || !insDir.st || !insData.st) {
        *why = sqlite3_errmsg(db);
        return false;
    }
    detail::BlockEncoder enc;
    std::vector<detail::BlockRecord> block;
    std::vector<uint8_t> blob;
    int64_t first = 0;
    auto flush = [&]() {
        if (block.empty()) return true;
        int64_t tMin = INT64_MAX, tMax = INT64_MIN;
        uint64_t kinds = 0;
        for (const auto& r : block) {
            tMin = std::min(tMin, r.t), tMax = std::max(tMax, r.t);
            kinds |= detail::kindBit(static_cast<uint16_t>(r.e.kind));
        }
        if (!enc.encode(block.data(), block.size(), &blob)) return false;
        const int64_t v[] = {first, static_cast<int64_t>(block.size()), tMin, tMax,
                             static_cast<int64_t>(kinds)};
        for (int i = 0; i < 5; i++) sqlite3_bind_int64(insDir.st, i + 1, v[i]);
        const bool ok1 = sqlite3_step(insDir.st) == SQLITE_DONE;
        sqlite3_reset(insDir.st);
        sqlite3_bind_int64(insData.st, 1, first);
        sqlite3_bind_blob(insData.st, 2, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
        const bool ok2 = sqlite3_step(insData.st) == SQLITE_DONE;
        sqlite3_reset(insData.st);
        block.clear();
        return ok1 && ok2;
    };
    int rc;
    while ((rc = sqlite3_step(rd.st)) == SQLITE_ROW) {
        auto col = [&](int i) { return sqlite3_column_int64(rd.st, i); };
        const int64_t id = col(0);
        if (!block.empty() &&
            (id != first + static_cast<int64_t>(block.size()) ||
             block.size() == detail::kBlockRecords) &&
            !flush())
            break;
        if (block.empty()) first = id;
        detail::BlockRecord r{col(1), Event{}};
        r.e.timeNs = static_cast<uint64_t>(r.t);
        r.e.tid = static_cast<uint32_t>(col(2)), r.e.seq = static_cast<uint32_t>(col(3));
        r.e.kind = static_cast<EventKind>(col(4));
        r.e.spanClass = static_cast<uint8_t>(col(5)), r.e.flags = static_cast<uint8_t>(col(6));
        r.e.npages = static_cast<uint32_t>(col(7)), r.e.addr = static_cast<uint64_t>(col(8));
        r.e.a = static_cast<uint64_t>(col(9)), r.e.b = static_cast<uint64_t>(col(10));
        r.e.c = static_cast<uint64_t>(col(11)), r.e.d = static_cast<uint64_t>(col(12));
        block.push_back(r);
    }
    if (rc != SQLITE_DONE || !flush()) {
        *why = std::string("convert the records: ") + sqlite3_errmsg(db);
        return false;
    }
    return true;
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
              convertEvents(dst.db, &why);
    if (ok) {
        const std::string sql =
            "DROP TABLE events; PRAGMA user_version=" + std::to_string(kSchemaVersion) +
            "; COMMIT; VACUUM; PRAGMA journal_mode=WAL;";
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
