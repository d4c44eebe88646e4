// SessionWriter: creates a session file and writes into it with prepared statements.
// See spanscope/detail/session_writer.h and docs/session-format.md.
#include "spanscope/detail/session_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <initializer_list>

#include "spanscope/detail/schema.h"

namespace spanscope::session {

namespace {
const char* phaseName(uint8_t phase) {
    switch (static_cast<GCPhaseKind>(phase)) {
        case GCPhaseKind::Off:
            return "off";
        case GCPhaseKind::Mark:
            return "mark";
        case GCPhaseKind::MarkTermination:
            return "mark-termination";
        case GCPhaseKind::SweepTermination:
            return "sweep-termination";
    }
    return "unknown";
}
int64_t i64(uint64_t v) {
    return static_cast<int64_t>(v);
}
}  // namespace

SessionWriter::~SessionWriter() {
    m_profile.reset();  // its statements, before the connection closes
    for (sqlite3_stmt* st : {m_insClass, m_insHeap, m_insHeapSizes, m_insHeapCounts, m_insCycle,
                             m_endCycle, m_insPhase, m_cycleStw, m_insKeyframe, m_progress})
        sqlite3_finalize(st);
    if (m_db) sqlite3_close(m_db);
}

bool SessionWriter::fail(const char* what) {
    m_error = std::string(what) + ": " + (m_db ? sqlite3_errmsg(m_db) : "out of memory");
    if (m_db) {
        const int err = sqlite3_system_errno(m_db);
        m_diskFull = (sqlite3_errcode(m_db) & 0xff) == SQLITE_FULL || err == ENOSPC ||
                     err == EFBIG || err == EDQUOT;
    }
    return false;
}

void SessionWriter::rollback() {
    m_nextEventId = m_committedEventId;
    m_block.clear();
    if (m_profile) m_profile->rollback();
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

bool SessionWriter::exec(const char* sql) {
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        return fail(std::strlen(sql) > 40 ? "create schema" : sql);
    return true;
}

sqlite3_stmt* SessionWriter::prepare(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
        fail("prepare");
        return nullptr;
    }
    return st;
}

bool SessionWriter::step(sqlite3_stmt* st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return fail("write");
    return true;
}

bool SessionWriter::create(const std::string& path, bool overwrite, std::string* err) {
    auto out = [&](bool ok) {
        if (!ok && err) *err = m_error;
        return ok;
    };
    struct stat st;
    if (stat(path.c_str(), &st) == 0) {
        if (!overwrite) {
            m_error = path + " already exists (use --force to replace it)";
            return out(false);
        }
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) unlink((path + suffix).c_str());
    }
    if (sqlite3_open_v2(path.c_str(), &m_db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
        return out(fail(("cannot create " + path).c_str()));
    sqlite3_busy_timeout(m_db, 2000);
    // Page size before the first table; WAL so readers (the GUI) never block the recorder;
    // synchronous=NORMAL: a commit survives a crash of the recorder (not a power cut).
    std::string pragmas =
        "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "PRAGMA cache_size=-32768; PRAGMA application_id=" +
        std::to_string(kApplicationId) + ";";
    if (!exec(pragmas.c_str())) return out(false);
    if (!exec("BEGIN") || !exec(detail::kSchemaSql) || !exec(detail::spanEventsViewSql().c_str()))
        return out(false);
    {
        sqlite3_stmt* k = prepare("INSERT INTO event_kinds(kind, name) VALUES (?, ?)");
        if (!k) return out(false);
        for (const kinds::KindInfo& kind : kinds::kTable) {  // one row per kind of the table
            sqlite3_bind_int(k, 1, kind.kind);
            sqlite3_bind_text(k, 2, kind.name, -1, SQLITE_STATIC);
            if (!step(k)) return out(false);
        }
        sqlite3_finalize(k);
        sqlite3_stmt* s = prepare("INSERT INTO span_states(state, name) VALUES (?, ?)");
        if (!s) return out(false);
        for (int state = 0; state < 7; state++) {
            sqlite3_bind_int(s, 1, state);
            sqlite3_bind_text(s, 2, spanStateName(static_cast<uint8_t>(state)), -1, SQLITE_STATIC);
            if (!step(s)) return out(false);
        }
        sqlite3_finalize(s);
    }
    if (!exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str()) || !exec("COMMIT"))
        return out(false);

    if (!m_blocks.init(m_db, "event_blocks", "event_block_data")) {
        m_error = m_blocks.error();
        return out(false);
    }
    m_insClass = prepare(
        "INSERT OR REPLACE INTO class_counters(class, t_ns, mallocs, frees, requested_bytes, "
        "slot_bytes, spans) VALUES (?,?,?,?,?,?,?)");
    // A heap sample's row: each of its three records sets its own columns (the others stay 0
    // until theirs arrives), so that no record waits for another.
    auto upsert = [&](std::initializer_list<const char*> own) {
        static const char* const kColumns[] = {
            "heap_alloc", "heap_inuse",   "heap_idle",   "heap_released",   "heap_sys",
            "sys",        "heap_objects", "total_alloc", "next_sweep",      "num_sweep_cycles",
            "mallocs",    "frees",        "heap_live",   "largest_free_run"};
        std::string names = "t_ns", values = "?", set;
        for (const char* c : own) {
            names += std::string(", ") + c, values += ",?";
            set += (set.empty() ? "" : ", ") + std::string(c) + " = excluded." + c;
        }
        for (const char* c : kColumns)
            if (std::find_if(own.begin(), own.end(),
                             [c](const char* o) { return !std::strcmp(o, c); }) == own.end())
                names += std::string(", ") + c, values += ",0";
        return prepare(("INSERT INTO heap_totals(" + names + ") VALUES (" + values +
                        ") ON CONFLICT(t_ns) DO UPDATE SET " + set)
                           .c_str());
    };
    m_insHeap = upsert({"heap_alloc", "heap_inuse", "heap_idle", "heap_released"});
    m_insHeapSizes = upsert(
        {"total_alloc", "heap_sys", "sys", "heap_objects", "next_sweep", "num_sweep_cycles"});
    m_insHeapCounts = upsert({"mallocs", "frees", "heap_live", "largest_free_run"});
    m_insCycle = prepare(
        "INSERT OR IGNORE INTO gc_cycles(kind, cycle, start_ns, heap_live, heap_goal, "
        "trigger_bytes, sweepgen, memory_limit) VALUES (?,?,?,?,?,?,?,?)");
    m_endCycle =
        prepare("UPDATE gc_cycles SET end_ns = ? WHERE kind = ? AND cycle = ? AND end_ns IS NULL");
    m_cycleStw =
        prepare("UPDATE gc_cycles SET stw_ns = stw_ns + ? WHERE kind = 'gc' AND cycle = ?");
    m_insPhase = prepare(
        "INSERT INTO gc_phases(cycle, phase, t_ns, heap_live, heap_goal, trigger_bytes, stw_ns) "
        "VALUES (?,?,?,?,?,?,?)");
    m_insKeyframe =
        prepare("INSERT INTO keyframes(t_ns, last_event_id, spans, data) VALUES (?,?,?,?)");
    m_progress = prepare("UPDATE session SET end_ns = ?, events = ?, dropped = ? WHERE id = 1");
    return out(m_insClass && m_insHeap && m_insHeapSizes && m_insHeapCounts && m_insCycle &&
               m_endCycle && m_cycleStw && m_insPhase && m_insKeyframe && m_progress);
}

bool SessionWriter::begin() {
    return exec("BEGIN");
}
bool SessionWriter::commit() {
    if (m_profile && !m_profile->flush()) {
        m_error = m_profile->error();
        return false;
    }
    if (!flushEvents() || !exec("COMMIT")) return false;
    m_committedEventId = m_nextEventId;
    if (m_profile) m_profile->committed();
    return true;
}

bool SessionWriter::writeHeader(const StreamInfo& info) {
    sqlite3_stmt* st = prepare(
        "INSERT INTO session(id, format_version, program, pid, start_unix_ns, start_mono_ns, "
        "page_size, arena_bytes, flags, recorder_pid) VALUES (1,?,?,?,?,?,?,?,?,?)");
    if (!st) return false;
    sqlite3_bind_int(st, 1, static_cast<int>(info.version));
    sqlite3_bind_text(st, 2, info.program.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, info.pid);
    sqlite3_bind_int64(st, 4, i64(info.startUnixNs));
    sqlite3_bind_int64(st, 5, i64(info.startNs));
    sqlite3_bind_int64(st, 6, info.pageSize);
    sqlite3_bind_int64(st, 7, i64(info.arenaBytes));
    sqlite3_bind_int64(st, 8, info.flags);
    sqlite3_bind_int64(st, 9, getpid());
    bool ok = step(st);
    sqlite3_finalize(st);
    if (!ok) return false;
    ok = insertArgv(info);
    st = prepare("INSERT INTO size_classes(class, size, npages, nelems) VALUES (?,?,?,?)");
    for (size_t c = 0; ok && c < info.classes.size(); c++) {
        sqlite3_bind_int64(st, 1, static_cast<int64_t>(c));
        sqlite3_bind_int64(st, 2, info.classes[c].size);
        sqlite3_bind_int64(st, 3, info.classes[c].npages);
        sqlite3_bind_int64(st, 4, info.classes[c].nelems);
        ok = step(st);
    }
    sqlite3_finalize(st);
    return ok;
}

bool SessionWriter::insertArgv(const StreamInfo& info) {
    sqlite3_stmt* st = prepare("INSERT INTO argv(idx, arg) VALUES (?, ?)");
    bool ok = st != nullptr;
    for (size_t i = 0; ok && i < info.argv.size(); i++) {
        sqlite3_bind_int64(st, 1, static_cast<int64_t>(i));
        sqlite3_bind_text(st, 2, info.argv[i].c_str(), static_cast<int>(info.argv[i].size()),
                          SQLITE_TRANSIENT);
        ok = step(st);
    }
    sqlite3_finalize(st);
    return ok;
}

bool SessionWriter::updateProgram(const StreamInfo& info) {
    if (!exec("DELETE FROM argv")) return false;
    sqlite3_stmt* st = prepare("UPDATE session SET program = ?, flags = ? WHERE id = 1");
    if (!st) return false;
    sqlite3_bind_text(st, 1, info.program.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, info.flags);
    bool ok = step(st);
    sqlite3_finalize(st);
    if (ok) ok = insertArgv(info);
    return ok;
}

bool SessionWriter::insertEvent(int64_t t, const Event& e) {
    m_block.push_back(detail::BlockRecord{t, e});
    m_nextEventId++;
    return m_block.size() < detail::kBlockRecords || flushEvents();
}

// Writes the records held since the last block as one block (its row in the directory, its
// compressed columns in event_block_data).
bool SessionWriter::flushEvents() {
    if (m_block.empty()) return true;
    const int64_t first = m_nextEventId - static_cast<int64_t>(m_block.size());
    const bool ok = m_blocks.write(first, m_block.data(), m_block.size());
    m_block.clear();
    return ok || fail("write an event block");
}

bool SessionWriter::insertClassCounters(int64_t t, const Event& e) {
    sqlite3_stmt* st = m_insClass;
    sqlite3_bind_int(st, 1, e.spanClass);
    sqlite3_bind_int64(st, 2, t);
    sqlite3_bind_int64(st, 3, i64(e.a));
    sqlite3_bind_int64(st, 4, i64(e.b));
    sqlite3_bind_int64(st, 5, i64(e.c));
    sqlite3_bind_int64(st, 6, i64(e.d));
    sqlite3_bind_int64(st, 7, e.npages);
    return step(st);
}

bool SessionWriter::insertHeapSample(int64_t t, const Event& e) {
    sqlite3_stmt* st = nullptr;
    std::vector<int64_t> v{t};
    switch (static_cast<uint16_t>(e.kind)) {
        case static_cast<uint16_t>(EventKind::HeapTotals):
            st = m_insHeap;
            v.insert(v.end(), {i64(e.a), i64(e.b), i64(e.c), i64(e.d)});
            break;
        case stream::kHeapSizes:
            st = m_insHeapSizes;
            v.insert(v.end(), {i64(e.addr), i64(e.a), i64(e.b), i64(e.c), i64(e.d), e.npages});
            break;
        case stream::kHeapCounts:
            st = m_insHeapCounts;
            v.insert(v.end(), {i64(e.a), i64(e.b), i64(e.c), i64(e.d)});
            break;
        default:
            return true;
    }
    for (size_t i = 0; i < v.size(); i++) sqlite3_bind_int64(st, int(i) + 1, v[i]);
    return step(st);
}

bool SessionWriter::sweepCycle(int64_t t, const Event& e) {
    // A new sweep generation ends the previous one.
    if (m_sweepCycles) {
        sqlite3_bind_int64(m_endCycle, 1, t);
        sqlite3_bind_text(m_endCycle, 2, "sweep", -1, SQLITE_STATIC);
        sqlite3_bind_int64(m_endCycle, 3, m_sweepCycles);
        if (!step(m_endCycle)) return false;
    }
    // The allocator's own number (d) when the record has one: a session whose records were
    // dropped (a stalled drain) or an attach that began mid-run keeps the program's numbering,
    // as NumSweepCycles in heap_totals has it. Older streams carry 0: count them instead.
    m_sweepCycles = e.d ? i64(e.d) : m_sweepCycles + 1;
    sqlite3_stmt* st = m_insCycle;
    sqlite3_bind_text(st, 1, "sweep", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, m_sweepCycles);
    sqlite3_bind_int64(st, 3, t);
    sqlite3_bind_int64(st, 4, i64(e.b));
    sqlite3_bind_int64(st, 5, i64(e.c));  // malloc mode: the trigger is the goal
    sqlite3_bind_int64(st, 6, i64(e.c));
    sqlite3_bind_int64(st, 7, i64(e.a));
    sqlite3_bind_int64(st, 8, 0);  // no memory limit in malloc mode
    return step(st);
}

bool SessionWriter::gcPhase(int64_t t, const Event& e) {
    const auto phase = static_cast<GCPhaseKind>(e.flags);
    const int64_t stwNs = int64_t{e.npages} * 1000;
    if (phase == GCPhaseKind::SweepTermination) {
        sqlite3_stmt* st = m_insCycle;
        sqlite3_bind_text(st, 1, "gc", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, i64(e.a));
        sqlite3_bind_int64(st, 3, t);
        sqlite3_bind_int64(st, 4, i64(e.b));
        sqlite3_bind_int64(st, 5, i64(e.c));
        sqlite3_bind_int64(st, 6, i64(e.d));
        sqlite3_bind_int64(st, 7, 0);
        sqlite3_bind_int64(st, 8, i64(e.addr));  // sweep termination: the memory limit in bytes
        if (!step(st)) return false;
    }
    // heap_live, heap_goal and trigger_bytes stay as at the cycle's start (sweep termination);
    // gc_phases keeps each phase's values.
    sqlite3_bind_int64(m_cycleStw, 1, stwNs);
    sqlite3_bind_int64(m_cycleStw, 2, i64(e.a));
    if (!step(m_cycleStw)) return false;
    if (phase == GCPhaseKind::Off) {
        sqlite3_bind_int64(m_endCycle, 1, t);
        sqlite3_bind_text(m_endCycle, 2, "gc", -1, SQLITE_STATIC);
        sqlite3_bind_int64(m_endCycle, 3, i64(e.a));
        if (!step(m_endCycle)) return false;
    }
    sqlite3_stmt* st = m_insPhase;
    sqlite3_bind_int64(st, 1, i64(e.a));
    sqlite3_bind_text(st, 2, phaseName(e.flags), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, t);
    sqlite3_bind_int64(st, 4, i64(e.b));
    sqlite3_bind_int64(st, 5, i64(e.c));
    sqlite3_bind_int64(st, 6, i64(e.d));
    sqlite3_bind_int64(st, 7, stwNs);
    return step(st);
}

bool SessionWriter::insertKeyframe(int64_t t, const std::vector<SpanRecord>& spans) {
    if (!flushEvents()) return false;  // last_event_id must be the last event applied
    sqlite3_stmt* st = m_insKeyframe;
    sqlite3_bind_int64(st, 1, t);
    sqlite3_bind_int64(st, 2, lastEventId());
    sqlite3_bind_int64(st, 3, static_cast<int64_t>(spans.size()));
    // Compressed (a fifth of the 24 bytes a span on churn-1t); an empty keyframe stays empty.
    m_keyframeBlob.clear();
    if (!spans.empty() && !detail::compressKeyframe(spans.data(), spans.size() * sizeof(SpanRecord),
                                                    &m_keyframeBlob)) {
        m_error = "compress a keyframe: zstd failed";
        return false;
    }
    sqlite3_bind_blob(st, 4,
                      m_keyframeBlob.empty() ? "" : static_cast<const void*>(m_keyframeBlob.data()),
                      static_cast<int>(m_keyframeBlob.size()), SQLITE_STATIC);
    return step(st);
}

void SessionWriter::leaveWal() {
    sqlite3_exec(m_db, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
}

bool SessionWriter::openGap(int64_t fromNs) {
    sqlite3_stmt* st =
        prepare("INSERT INTO gaps(from_ns, to_ns, dropped, resynced) VALUES (?, ?, 0, 0)");
    if (!st) return false;
    sqlite3_bind_int64(st, 1, fromNs);
    sqlite3_bind_int64(st, 2, fromNs);
    const bool ok = step(st);
    sqlite3_finalize(st);
    m_openGap = ok ? sqlite3_last_insert_rowid(m_db) : 0;
    return ok;
}

bool SessionWriter::closeGap(int64_t toNs, int64_t dropped, bool resynced) {
    sqlite3_stmt* st =
        prepare("UPDATE gaps SET to_ns = ?, dropped = ?, resynced = ? WHERE rowid = ?");
    if (!st) return false;
    sqlite3_bind_int64(st, 1, toNs);
    sqlite3_bind_int64(st, 2, dropped);
    sqlite3_bind_int64(st, 3, resynced ? 1 : 0);
    sqlite3_bind_int64(st, 4, m_openGap);
    const bool ok = step(st);
    sqlite3_finalize(st);
    return ok;
}

bool SessionWriter::progress(int64_t endNs, int64_t events, int64_t dropped) {
    sqlite3_bind_int64(m_progress, 1, endNs);
    sqlite3_bind_int64(m_progress, 2, events);
    sqlite3_bind_int64(m_progress, 3, dropped);
    return step(m_progress);
}

bool SessionWriter::end(const EndInfo& end, const std::string& streamStatus,
                        const std::string& streamError) {
    sqlite3_stmt* st = prepare(
        "UPDATE session SET end_reason = ?, exit_code = ?, signal = ?, stream_status = ?, "
        "stream_error = ? WHERE id = 1");
    if (!st) return false;
    sqlite3_bind_text(st, 1, end.reason.c_str(), -1, SQLITE_TRANSIENT);
    if (end.exitCode >= 0) sqlite3_bind_int(st, 2, end.exitCode);
    if (end.signal) sqlite3_bind_int(st, 3, end.signal);
    sqlite3_bind_text(st, 4, streamStatus.c_str(), -1, SQLITE_TRANSIENT);
    if (!streamError.empty()) sqlite3_bind_text(st, 5, streamError.c_str(), -1, SQLITE_TRANSIENT);
    bool ok = step(st);
    sqlite3_finalize(st);
    return ok;
}

bool SessionWriter::createProfile() {
    m_profile = std::make_unique<ProfileStore>();
    if (m_profile->init(m_db)) return true;
    m_error = m_profile->error();
    return false;
}

namespace {
bool queryInts(sqlite3* db, const char* sql, int64_t* a, int64_t* b = nullptr) {
    sqlite3_stmt* st = nullptr;
    bool ok = sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW;
    if (ok) {
        *a = sqlite3_column_int64(st, 0);
        if (b) *b = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return ok;
}
}  // namespace

bool SessionWriter::usedBytes(uint64_t* bytes) {
    int64_t pages = 0, freePages = 0, pageSize = 0;
    if (!queryInts(m_db, "PRAGMA page_count", &pages) ||
        !queryInts(m_db, "PRAGMA freelist_count", &freePages) ||
        !queryInts(m_db, "PRAGMA page_size", &pageSize))
        return fail("bounded recording: page count");
    *bytes = static_cast<uint64_t>((pages - freePages) * pageSize);
    return true;
}

bool SessionWriter::keyframeSpan(int64_t* first, int64_t* last) {
    return queryInts(m_db, "SELECT coalesce(min(t_ns), -1), coalesce(max(t_ns), -1) FROM keyframes",
                     first, last);
}

bool SessionWriter::dropBefore(int64_t t) {
    if (!flushEvents()) return false;
    int64_t kfId = 0, kfT = 0, kfLast = 0;
    {
        sqlite3_stmt* st = prepare(
            "SELECT id, t_ns, last_event_id FROM keyframes WHERE t_ns <= ? ORDER BY t_ns DESC, id "
            "DESC "
            "LIMIT 1");
        if (!st) return false;
        sqlite3_bind_int64(st, 1, t);
        const bool found = sqlite3_step(st) == SQLITE_ROW;
        if (found)
            kfId = sqlite3_column_int64(st, 0), kfT = sqlite3_column_int64(st, 1),
            kfLast = sqlite3_column_int64(st, 2);
        sqlite3_finalize(st);
        if (!found) return true;  // nothing before the first keyframe can go
    }
    const std::string id = std::to_string(kfId), last = std::to_string(kfLast),
                      at = std::to_string(kfT);
    const std::string sql =
        "DELETE FROM event_block_data WHERE id IN (SELECT id FROM event_blocks WHERE id + count - "
        "1 <= " +
        last +
        ");"
        "DELETE FROM event_blocks WHERE id + count - 1 <= " +
        last +
        ";"
        "DELETE FROM keyframes WHERE id < " +
        id +
        ";"
        "DELETE FROM heap_totals WHERE t_ns < (SELECT max(t_ns) FROM heap_totals WHERE t_ns <= " +
        at +
        ");"
        "DELETE FROM gc_phases WHERE t_ns < " +
        at +
        ";"
        "DELETE FROM gaps WHERE resynced = 1 AND to_ns < " +
        at +
        ";"
        "DELETE FROM gc_cycles WHERE end_ns IS NOT NULL AND end_ns < " +
        at +
        ";"
        "DELETE FROM class_counters WHERE t_ns < (SELECT max(c.t_ns) FROM class_counters c "
        "WHERE c.class = class_counters.class AND c.t_ns <= " +
        at + ");";
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
        return fail("bounded recording: drop the oldest part");
    return true;
}

}  // namespace spanscope::session
