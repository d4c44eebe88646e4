// Session validation (spanscope/session_check.h): the reader's checks on open, and the full
// check behind `spanscope-cli check FILE`. See docs/session-format.md and docs/guarantees.md.
#include "spanscope/session_check.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "spanscope/detail/event_block.h"
#include "spanscope/detail/span_model.h"
#include "spanscope/kinds.h"
#include "spanscope/profile.h"
#include "spanscope/session_reader.h"
#include "spanscope/stream.h"

namespace spanscope::session {

namespace {
// One statement, finalized on scope exit.
struct Query {
    sqlite3_stmt* st = nullptr;
    Query(sqlite3* db, const std::string& sql) {
        sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    }
    ~Query() { sqlite3_finalize(st); }
    bool ok() const { return st != nullptr; }
    bool row() { return st && sqlite3_step(st) == SQLITE_ROW; }
    int64_t i(int c) { return sqlite3_column_int64(st, c); }
    int type(int c) { return sqlite3_column_type(st, c); }
};

int64_t scalar(sqlite3* db, const std::string& sql, int64_t fallback = -1) {
    Query q(db, sql);
    return q.row() ? q.i(0) : fallback;
}

bool hasTable(sqlite3* db, const char* name) {
    Query q(db, "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?");
    if (!q.ok()) return false;
    sqlite3_bind_text(q.st, 1, name, -1, SQLITE_STATIC);
    return q.row();
}

bool isPowerOfTwo(int64_t v) {
    return v > 0 && (v & (v - 1)) == 0;
}

// Derived tables and the columns that must hold non-negative integers.
struct Derived {
    const char* table;
    const char* columns;  // comma-separated
    const char* consequence;
};
constexpr Derived kDerived[] = {
    {"size_classes", "class,size,npages,nelems", "size classes are unnamed"},
    {"heap_totals",
     "t_ns,heap_alloc,heap_inuse,heap_idle,heap_released,heap_sys,sys,heap_objects,total_alloc,"
     "mallocs,frees,heap_live",
     "the heap charts are empty"},
    {"class_counters", "class,t_ns,mallocs,frees,requested_bytes,slot_bytes,spans",
     "per-class counters are missing"},
    {"gc_cycles", "cycle,start_ns,heap_live,heap_goal,trigger_bytes,sweepgen,stw_ns",
     "GC cycles are not shown"},
    {"gc_phases", "cycle,t_ns,heap_live,heap_goal,trigger_bytes,stw_ns", "GC phases are not shown"},
    {"keyframes", "t_ns,last_event_id,spans", "the heap map is rebuilt from the records alone"},
};

void add(std::vector<SessionProblem>* out, bool fatal, std::string part, std::string what) {
    out->push_back(SessionProblem{fatal, std::move(part), std::move(what)});
}

// Rows of a derived table whose columns are not non-negative integers.
void checkDerived(sqlite3* db, const Derived& d, std::vector<SessionProblem>* out) {
    if (!hasTable(db, d.table)) {
        add(out, false, d.table, std::string("table missing: ") + d.consequence);
        return;
    }
    std::string where;
    const char* p = d.columns;
    while (*p) {
        const char* comma = std::strchr(p, ',');
        const std::string col(p, comma ? size_t(comma - p) : std::strlen(p));
        if (!where.empty()) where += " OR ";
        where += "typeof(" + col + ") != 'integer' OR " + col + " < 0";
        p = comma ? comma + 1 : p + col.size();
    }
    const int64_t bad =
        scalar(db, std::string("SELECT count(*) FROM ") + d.table + " WHERE " + where);
    if (bad < 0)
        add(out, false, d.table, std::string("unreadable (columns missing?): ") + d.consequence);
    else if (bad > 0)
        add(out, false, d.table,
            std::to_string(bad) +
                " row(s) with a missing, non-integer or negative value (ignored)");
}
}  // namespace

bool plausibleSpan(const SpanRecord& r, uint64_t pageSize, size_t numClasses) {
    if (!pageSize || r.npages == 0 || r.base % pageSize != 0 || r.base >= kMaxAddress) return false;
    if (uint64_t{r.npages} > (kMaxAddress - r.base) / pageSize) return false;
    if (uint64_t{r.npages} > kMaxSpanBytes / pageSize) return false;
    if (r.state > 6) return false;
    return (r.spanClass >> 1) < numClasses || numClasses == 0;
}

int openSessionDb(const std::string& path, sqlite3** db) {
    *db = nullptr;
    std::string dir = path.substr(0, path.find_last_of('/') + 1);
    if (dir.empty()) dir = ".";
    const bool writable = access(path.c_str(), W_OK) == 0 && access(dir.c_str(), W_OK) == 0;
    int rc = SQLITE_CANTOPEN;
    if (writable) {
        // Read-write so that a session left by a killed recorder can recover its WAL.
        rc =
            sqlite3_open_v2(path.c_str(), db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
        if (rc == SQLITE_OK) return rc;
        sqlite3_close(*db);
    }
    // A URI so that the path's own characters ('?', '#', '%') are not read as URI syntax.
    std::string uri = "file:";
    for (char c : path) {
        if (c == '?' || c == '#' || c == '%') {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
            uri += hex;
        } else {
            uri += c;
        }
    }
    for (const char* mode : {"?mode=ro", "?mode=ro&immutable=1"}) {
        rc = sqlite3_open_v2((uri + mode).c_str(), db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
        // Opening is lazy: a WAL session on read-only media fails only at its first read.
        if (rc == SQLITE_OK && sqlite3_exec(*db, "SELECT count(*) FROM sqlite_master", nullptr,
                                            nullptr, nullptr) == SQLITE_OK)
            return SQLITE_OK;
        if (rc == SQLITE_OK) rc = sqlite3_errcode(*db);
        sqlite3_close(*db);
        *db = nullptr;
    }
    return rc;
}

std::vector<SessionProblem> checkStructure(sqlite3* db) {
    std::vector<SessionProblem> out;
    const int64_t appId = scalar(db, "PRAGMA application_id", 0);
    const int64_t version = scalar(db, "PRAGMA user_version", 0);
    if (appId != kApplicationId) {
        add(&out, true, "file",
            "not a spanscope session (a SQLite database of another application)");
        return out;
    }
    if (version < kOldestSchemaVersion) {
        add(&out, true, "file", "not a spanscope session (no schema version)");
        return out;
    }
    if (version > kSchemaVersion) {
        add(&out, true, "file",
            "session schema version " + std::to_string(version) +
                " is newer than this build reads (" + std::to_string(kSchemaVersion) +
                "); update spanscope");
        return out;
    }
    if (!hasTable(db, "session")) {
        add(&out, true, "session", "the session table is missing");
        return out;
    }
    Query q(
        db,
        "SELECT format_version, page_size, arena_bytes, events, dropped, end_ns, typeof(program), "
        "pid FROM session WHERE id = 1");
    if (!q.ok()) {
        add(&out, true, "session", std::string("unreadable: ") + sqlite3_errmsg(db));
        return out;
    }
    if (!q.row()) return out;  // no stream yet: SessionReader says so
    for (int c : {0, 1, 2, 3, 4, 5, 7})
        if (q.type(c) != SQLITE_INTEGER) {
            add(&out, false, "session",
                std::string("column ") + sqlite3_column_name(q.st, c) + " is not an integer");
        }
    const int64_t format = q.i(0), pageSize = q.i(1), arena = q.i(2);
    if (format < 1 || format > int64_t{stream::kVersion})
        add(&out, false, "session",
            "stream format_version " + std::to_string(format) +
                " is not one this build knows (1.." + std::to_string(stream::kVersion) + ")");
    if (!isPowerOfTwo(pageSize) || pageSize < 4096 || pageSize > (1 << 20))
        add(&out, false, "session",
            "page_size " + std::to_string(pageSize) + " is not a power of two in 4 KiB..1 MiB");
    if (!isPowerOfTwo(arena) || arena < pageSize || arena > (int64_t{1} << 40))
        add(&out, false, "session", "arena_bytes " + std::to_string(arena) + " is implausible");
    if (q.i(3) < 0 || q.i(4) < 0 || q.i(5) < 0)
        add(&out, false, "session", "negative events, dropped or end_ns");
    if (std::strcmp(reinterpret_cast<const char*>(sqlite3_column_text(q.st, 6)), "text") != 0)
        add(&out, false, "session", "program is not text");
    // The records: in the table `events` up to schema 2, in zstd blocks (event_blocks and
    // event_block_data, read through the virtual table `events`) from schema 3.
    if (version <= 2 && !hasTable(db, "events"))
        add(&out, false, "events", "table missing: no records to replay");
    if (version >= 3)
        for (const char* t : {"event_blocks", "event_block_data"})
            if (!hasTable(db, t))
                add(&out, false, "events",
                    std::string("table ") + t + " missing: no records to replay");
    const int64_t classes = scalar(db, "SELECT count(*) FROM size_classes", 0);
    if (classes > 256)
        add(&out, false, "size_classes", std::to_string(classes) + " classes (at most 256)");
    return out;
}

namespace {
// Every keyframe: its span count against the session's header, its blob decompressed (from
// schema 4) to exactly that many span records, then each span record.
void checkKeyframes(sqlite3* db, uint64_t pageSize, size_t numClasses, int64_t endNs,
                    std::vector<SessionProblem>* out) {
    if (!hasTable(db, "keyframes")) return;  // reported by checkDerived
    Query q(db, "SELECT id, t_ns, spans, length(data), typeof(data) FROM keyframes ORDER BY id");
    int64_t bad = 0, firstBad = -1;
    std::string why;
    while (q.row()) {
        const int64_t id = q.i(0), t = q.i(1), spans = q.i(2), bytes = q.i(3);
        std::string problem;
        const char* type = reinterpret_cast<const char*>(sqlite3_column_text(q.st, 4));
        if (bytes != 0 && (!type || std::strcmp(type, "blob") != 0))
            problem = "data is not a blob";
        else if (spans < 0 || spans > (int64_t{1} << 26))
            problem = "span count " + std::to_string(spans);
        else if (t < 0 || (endNs > 0 && t > endNs + 1000000000))
            problem = "time out of range";
        std::vector<uint8_t> raw;
        if (problem.empty()) {
            Query d(db, "SELECT data FROM keyframes WHERE id = " + std::to_string(id));
            std::string zwhy;
            const size_t want = size_t(spans) * sizeof(SpanRecord);
            if (d.row() && !detail::keyframeBytes(sqlite3_column_blob(d.st, 0), size_t(bytes), want,
                                                  &raw, &zwhy))
                problem = zwhy;
            else if (raw.size() != want)
                problem = std::to_string(raw.size()) + " bytes of span records for " +
                          std::to_string(spans) + " spans";
        }
        for (int64_t k = 0; problem.empty() && k < spans; k++) {
            SpanRecord r;
            std::memcpy(&r, raw.data() + k * int64_t{sizeof r}, sizeof r);
            if (!plausibleSpan(r, pageSize, numClasses))
                problem = "span " + std::to_string(k) + " is implausible (npages " +
                          std::to_string(r.npages) + ", state " + std::to_string(r.state) + ")";
        }
        if (problem.empty()) continue;
        if (!bad++) {
            firstBad = id;
            why = problem;
        }
    }
    if (bad)
        add(out, false, "keyframes",
            std::to_string(bad) + " damaged keyframe(s), the first id " + std::to_string(firstBad) +
                ": " + why + " (skipped: the state is rebuilt from the records)");
}

// Every record, through the reader (whatever the storage): known kinds, times in range, page
// counts a heap can hold. Windows of time, narrowed where records are dense; empty stretches are
// jumped over (eventAfter), so a damaged end time cannot make this loop long.
void checkRecords(SessionReader& r, std::vector<SessionProblem>* out) {
    const uint64_t ps = r.info().pageSize > 0 ? uint64_t(r.info().pageSize) : 8192;
    const int64_t end = r.info().endNs;
    constexpr size_t kChunk = 100000;
    constexpr int64_t kSlackNs = 1000000000;
    int64_t unknown = 0, badPages = 0, badTime = 0;
    int64_t t0 = INT64_MIN, window = int64_t{1} << 28;
    EventRow next;
    if (!r.eventAfter(INT64_MIN, -1, {}, &next)) return;  // no records
    t0 = static_cast<int64_t>(next.event.timeNs);
    for (int guard = 0; guard < 10000000; guard++) {
        const int64_t t1 = t0 > INT64_MAX - window ? INT64_MAX : t0 + window - 1;
        const std::vector<Event> evs = r.eventsBetween(t0, t1, kChunk);
        if (evs.size() == kChunk && window > 1) {
            window /= 16;
            continue;
        }
        for (const Event& e : evs) {
            const uint16_t k = static_cast<uint16_t>(e.kind);
            if (k != 0 && !kinds::find(k)) unknown++;
            if (SpanModel::affectsSpans(k) && uint64_t{e.npages} > kMaxSpanBytes / ps) badPages++;
            const int64_t t = static_cast<int64_t>(e.timeNs);
            if (t < 0 || t > end + kSlackNs) badTime++;
        }
        if (t1 == INT64_MAX) break;
        t0 = t1 + 1;
        if (evs.size() < kChunk / 8 && window < (int64_t{1} << 32)) window *= 2;
        if (evs.empty()) {  // jump to the next record
            if (!r.eventAfter(t1, INT64_MAX, {}, &next)) break;
            t0 = std::max(t0, static_cast<int64_t>(next.event.timeNs));
        }
    }
    if (unknown)
        add(out, false, "events",
            std::to_string(unknown) + " record(s) of an unknown kind (ignored)");
    if (badPages)
        add(out, false, "events",
            std::to_string(badPages) + " span record(s) with an implausible page count (ignored)");
    if (badTime)
        add(out, false, "events", std::to_string(badTime) + " record(s) timed outside the session");
}
}  // namespace

std::vector<SessionProblem> checkSession(const std::string& path) {
    std::vector<SessionProblem> out;
    std::string err;
    auto reader = SessionReader::open(path, &err);
    if (!reader) {
        add(&out, true, "file", err);
        return out;
    }
    out = reader->warnings();
    sqlite3* db = nullptr;
    if (openSessionDb(path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        add(&out, true, "file", "cannot open a second connection");
        return out;
    }
    for (const Derived& d : kDerived) checkDerived(db, d, &out);
    const auto& info = reader->info();
    checkKeyframes(db, info.pageSize > 0 ? uint64_t(info.pageSize) : 0,
                   reader->sizeClasses().size(), info.endNs, &out);
    // The heap profile, read as `top`, `pprof` and the flame graph read it (every sample block
    // decoded); a session recorded before the heap profiler has none, which is no problem.
    const bool profiled = hasTable(db, "prof_sample_blocks") || hasTable(db, "prof_samples");
    sqlite3_close(db);
    if (profiled) {
        HeapProfileData profile;
        if (!profile.load(path, &err))
            add(&out, false, "heap profile",
                err + " (top, pprof and the flame graph cannot show it; the rest is unaffected)");
    }
    checkRecords(*reader, &out);
    return out;
}

}  // namespace spanscope::session
