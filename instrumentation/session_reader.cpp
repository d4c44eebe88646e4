// SessionReader: opens a session file (refusing foreign and newer files) and answers the GUI's
// and the report's questions. State at t = the latest keyframe <= t plus a bounded replay.
#include "spanscope/session_reader.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "spanscope/detail/event_block.h"
#include "spanscope/detail/span_model.h"
#include "spanscope/events_table.h"
#include "spanscope/session_check.h"

namespace spanscope::session {

struct SessionReader::Db {
    sqlite3* db = nullptr;
    ~Db() {
        if (db) sqlite3_close(db);
    }
    // A statement for one query; finalized by its destructor.
    struct Stmt {
        sqlite3_stmt* st = nullptr;
        Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &st, nullptr); }
        ~Stmt() { sqlite3_finalize(st); }
        explicit operator bool() const { return st != nullptr; }
        bool row() { return st && sqlite3_step(st) == SQLITE_ROW; }
        int64_t i(int col) { return sqlite3_column_int64(st, col); }
        uint64_t u(int col) { return static_cast<uint64_t>(sqlite3_column_int64(st, col)); }
        std::string s(int col) {
            const auto* t = sqlite3_column_text(st, col);
            return t ? reinterpret_cast<const char*>(t) : "";
        }
        bool null(int col) { return sqlite3_column_type(st, col) == SQLITE_NULL; }
        void bind(int idx, int64_t v) { sqlite3_bind_int64(st, idx, v); }
    };
};

SessionReader::~SessionReader() = default;

std::unique_ptr<SessionReader> SessionReader::open(const std::string& path, std::string* err) {
    auto fail = [&](std::string msg) -> std::unique_ptr<SessionReader> {
        if (err) *err = path + ": " + msg;
        return nullptr;
    };
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return fail(std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail("not a regular file");
    {
        FILE* f = std::fopen(path.c_str(), "rb");
        if (!f) return fail(std::strerror(errno));
        char magic[16] = {};
        size_t n = std::fread(magic, 1, sizeof magic, f);
        std::fclose(f);
        if (n < 16 || std::memcmp(magic, "SQLite format 3", 16) != 0) {
            if (n >= 8 && !std::memcmp(magic, "SPANSCOP", 8))
                return fail(
                    "this is a raw stream, not a session (record it with 'spanscope-cli record')");
            return fail("not a spanscope session (not a SQLite database)");
        }
    }
    std::unique_ptr<SessionReader> r(new SessionReader);
    r->m_db = std::make_unique<Db>();
    // Nothing is created beside a session that may not be written (openSessionDb).
    int rc = openSessionDb(path, &r->m_db->db);
    if (rc != SQLITE_OK)
        return fail(std::string("cannot open: ") +
                    (r->m_db->db ? sqlite3_errmsg(r->m_db->db) : sqlite3_errstr(rc)));
    sqlite3_busy_timeout(r->m_db->db, 2000);
    sqlite3* db = r->m_db->db;
    {
        Db::Stmt q(db, "PRAGMA application_id");
        if (!q.row()) return fail(std::string("cannot read: ") + sqlite3_errmsg(db));
    }
    // Schema version, required tables, the session row's types and ranges: a fatal problem
    // refuses the file, the others are warnings naming the damaged part.
    for (SessionProblem& p : checkStructure(db)) {
        if (p.fatal) return fail(p.what);
        r->m_warnings.push_back(std::move(p));
    }
    // Version 3 keeps its records in blocks, read through the virtual table `events`; versions 1
    // and 2 have a real `events` table, which SQLite finds before the virtual one.
    if (registerSessionTables(db) != SQLITE_OK)
        return fail(std::string("cannot read the event blocks: ") + sqlite3_errmsg(db));
    if (!r->refresh()) return fail(r->m_error);
    {
        Db::Stmt m(db, "SELECT 1 FROM pragma_table_info('gc_cycles') WHERE name = 'memory_limit'");
        r->m_hasMemoryLimit = m.row();
    }
    Db::Stmt c(db, "SELECT size, npages, nelems FROM size_classes ORDER BY class LIMIT 256");
    while (c.row())
        r->m_classes.push_back(stream::ClassEntry{static_cast<uint32_t>(c.i(0)),
                                                  static_cast<uint16_t>(c.i(1)),
                                                  static_cast<uint16_t>(c.i(2))});
    return r;
}

bool SessionReader::refresh() {
    sqlite3* db = m_db->db;
    Db::Stmt q(
        db,
        "SELECT format_version, program, pid, start_unix_ns, end_ns, end_reason, exit_code, "
        "signal, "
        "stream_status, stream_error, events, dropped, page_size, arena_bytes, flags FROM session "
        "WHERE id = 1");
    if (!q) {
        m_error = std::string("cannot read the session: ") + sqlite3_errmsg(db);
        return false;
    }
    if (!q.row()) {
        m_error = "the session holds no stream (the program never started the spanscope probe)";
        return false;
    }
    SessionInfo in;
    in.formatVersion = static_cast<int>(q.i(0));
    in.program = q.s(1);
    in.pid = q.i(2);
    in.startUnixNs = q.i(3);
    in.endNs = q.i(4);
    in.endReason = q.s(5);
    in.exitCode = q.null(6) ? -1 : q.i(6);
    in.signal = q.null(7) ? 0 : q.i(7);
    in.streamStatus = q.s(8);
    in.streamError = q.s(9);
    in.events = q.i(10);
    in.dropped = q.i(11);
    in.pageSize = q.i(12);
    in.arenaBytes = q.i(13);
    in.flags = q.i(14);
    {
        // A bounded recording that dropped its beginning: its first block is not record 1.
        Db::Stmt b(db,
                   "SELECT (SELECT min(id) FROM event_blocks), (SELECT min(t_ns) FROM keyframes)");
        if (b && b.row() && !b.null(0) && b.i(0) > 1 && !b.null(1)) in.keptFromNs = b.i(1);
    }
    Db::Stmt a(db, "SELECT arg FROM argv ORDER BY idx");
    while (a.row()) in.argv.push_back(a.s(0));
    Db::Stmt g(db,
               "SELECT from_ns, to_ns, dropped, resynced FROM gaps ORDER BY from_ns LIMIT 100000");
    if (g) {
        while (g.row()) {
            DropGap gap{g.i(0), g.i(1), g.i(2), g.i(3) != 0};
            if (!gap.resynced)
                gap.toNs = std::max(gap.toNs, in.endNs) + 1;  // to the end, inclusive
            if (gap.fromNs < gap.toNs) in.gaps.push_back(gap);
        }
    } else if (in.dropped > 0) {  // recorded before gaps were tracked: where is not known
        in.gaps.push_back(DropGap{0, in.endNs + 1, in.dropped, false});
    }
    m_info = std::move(in);
    return true;
}

std::vector<SpanRecord> SessionReader::spansAt(int64_t t) {
    sqlite3* db = m_db->db;
    // Before the kept part of a bounded recording nothing is known: show where it begins.
    if (m_info.keptFromNs && t < m_info.keptFromNs) t = m_info.keptFromNs;
    SpanModel model;
    int64_t fromId = 0, toId = INT64_MAX;
    {
        Db::Stmt k(db,
                   "SELECT last_event_id, data, spans FROM keyframes WHERE t_ns <= ? ORDER BY "
                   "t_ns DESC, id DESC LIMIT 1");
        k.bind(1, t);
        if (k.row()) {
            fromId = k.i(0);
            const void* blob = sqlite3_column_blob(k.st, 1);
            const int bytes = sqlite3_column_bytes(k.st, 1);
            std::vector<SpanRecord> spans = plausibleSpans(blob, bytes, k.i(2));
            model.load(spans.data(), spans.size());
        }
    }
    {
        // The next keyframe bounds the replay (records reach the recorder up to one drain pass
        // late).
        Db::Stmt k(db,
                   "SELECT last_event_id FROM keyframes WHERE t_ns > ? ORDER BY t_ns, id LIMIT 1");
        k.bind(1, t);
        if (k.row()) toId = k.i(0) + 65536;
    }
    Db::Stmt e(db,
               "SELECT t_ns, tid, kind, span_class, flags, npages, addr, a, b, c, d FROM events "
               "WHERE id > ? AND id <= ? AND t_ns <= ? AND kind IN (1,2,3,4,5,6,7,15,24,256,257) "
               "ORDER BY id");
    e.bind(1, fromId);
    e.bind(2, toId);
    e.bind(3, t);
    m_lastReplay = 0;
    while (e.row()) {
        Event ev{};
        ev.timeNs = static_cast<uint64_t>(e.i(0));
        ev.tid = static_cast<uint32_t>(e.i(1));
        ev.kind = static_cast<EventKind>(e.i(2));
        ev.spanClass = static_cast<uint8_t>(e.i(3));
        ev.flags = static_cast<uint8_t>(e.i(4));
        ev.npages = static_cast<uint32_t>(e.i(5));
        ev.addr = e.u(6);
        ev.a = e.u(7);
        ev.b = e.u(8);
        ev.c = e.u(9);
        ev.d = e.u(10);  // SpanRefill: the span handed back and its count
        model.apply(ev);
        m_lastReplay++;
    }
    std::vector<SpanRecord> out = model.snapshot();
    const size_t before = out.size();
    const uint64_t ps = m_info.pageSize > 0 ? uint64_t(m_info.pageSize) : 0;
    out.erase(std::remove_if(
                  out.begin(), out.end(),
                  [&](const SpanRecord& r) { return !plausibleSpan(r, ps, m_classes.size()); }),
              out.end());
    if (out.size() != before)
        warnOnce("events", std::to_string(before - out.size()) +
                               " replayed span(s) with impossible values near t=" +
                               std::to_string(t) + " ns (not shown)");
    return out;
}

// A keyframe's span records, each checked (plausibleSpan) before it is trusted; the blob's size is
// checked against the session's own limits before anything is allocated.
std::vector<SpanRecord> SessionReader::plausibleSpans(const void* stored, int storedBytes,
                                                      int64_t spanCount) {
    std::vector<SpanRecord> spans;
    if (!stored || storedBytes <= 0) return spans;
    // Compressed from schema 4 (bounded by its span count and its own size; a raw blob, as
    // schema 3 wrote, is read as it is: SQLite has read it already).
    std::vector<uint8_t> raw;
    std::string why;
    const size_t counted = spanCount > 0 && spanCount <= (int64_t{1} << 26)
                               ? size_t(spanCount) * sizeof(SpanRecord)
                               : 0;
    if (!detail::keyframeBytes(stored, size_t(storedBytes), counted, &raw, &why)) {
        warnOnce("keyframes", why + " (skipped)");
        return spans;
    }
    const void* blob = raw.data();
    const int bytes = static_cast<int>(raw.size());
    if (bytes <= 0) return spans;
    if (bytes % int(sizeof(SpanRecord)) != 0) {
        warnOnce("keyframes", "a keyframe of " + std::to_string(bytes) +
                                  " bytes is not whole span records (skipped)");
        return spans;
    }
    const size_t n = static_cast<size_t>(bytes) / sizeof(SpanRecord);
    const uint64_t ps = m_info.pageSize > 0 ? uint64_t(m_info.pageSize) : 0;
    spans.reserve(n);  // at most the blob's own size, which SQLite has already read
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        SpanRecord r;
        std::memcpy(&r, static_cast<const char*>(blob) + i * sizeof r, sizeof r);
        if (plausibleSpan(r, ps, m_classes.size()))
            spans.push_back(r);
        else
            bad++;
    }
    if (bad)
        warnOnce("keyframes", std::to_string(bad) +
                                  " span record(s) of a keyframe with impossible "
                                  "values (not shown)");
    return spans;
}

void SessionReader::warnOnce(const std::string& part, const std::string& what) {
    for (const SessionProblem& p : m_warnings)
        if (p.part == part) return;
    m_warnings.push_back(SessionProblem{false, part, what});
}

std::map<uint16_t, int64_t> SessionReader::droppedByKind() {
    std::map<uint16_t, int64_t> out;
    EventRow row;
    int64_t t = INT64_MIN, id = -1;
    for (int guard = 0; guard < 1000000 && eventAfter(t, id, {stream::kDropped}, &row); guard++) {
        if (row.event.b)
            out[static_cast<uint16_t>(row.event.b)] = static_cast<int64_t>(row.event.c);
        t = static_cast<int64_t>(row.event.timeNs);
        id = row.id;
    }
    return out;
}

std::vector<Event> SessionReader::eventsBetween(int64_t t0, int64_t t1, size_t limit) {
    // Bounded by the keyframes around [t0, t1] (ids follow time within a drain pass's lateness,
    // as spansAt's replay assumes), so a short range costs its own rows, not a scan of the table.
    constexpr int64_t kLate = 65536;
    int64_t lo = 0, hi = INT64_MAX;
    {
        Db::Stmt k(m_db->db,
                   "SELECT last_event_id FROM keyframes WHERE t_ns <= ? ORDER BY t_ns DESC, id "
                   "DESC LIMIT 1");
        k.bind(1, t0);
        if (k.row()) lo = std::max<int64_t>(0, k.i(0) - kLate);
    }
    {
        Db::Stmt k(m_db->db,
                   "SELECT last_event_id FROM keyframes WHERE t_ns > ? ORDER BY t_ns, id LIMIT 1");
        k.bind(1, t1);
        if (k.row()) hi = k.i(0) + kLate;
    }
    std::vector<Event> out;
    Db::Stmt q(
        m_db->db,
        "SELECT t_ns, seq, tid, kind, span_class, flags, npages, addr, a, b, c, d FROM events "
        "WHERE id > ? AND id <= ? AND t_ns BETWEEN ? AND ? ORDER BY id LIMIT ?");
    q.bind(1, lo);
    q.bind(2, hi);
    q.bind(3, t0);
    q.bind(4, t1);
    q.bind(5, static_cast<int64_t>(limit));
    while (q.row()) {
        Event e{};
        e.timeNs = q.u(0);
        e.seq = static_cast<uint32_t>(q.i(1));
        e.tid = static_cast<uint32_t>(q.i(2));
        e.kind = static_cast<EventKind>(q.i(3));
        e.spanClass = static_cast<uint8_t>(q.i(4));
        e.flags = static_cast<uint8_t>(q.i(5));
        e.npages = static_cast<uint32_t>(q.i(6));
        e.addr = q.u(7);
        e.a = q.u(8), e.b = q.u(9), e.c = q.u(10), e.d = q.u(11);
        out.push_back(e);
    }
    return out;
}

std::vector<HeapSample> SessionReader::heapSeries(int64_t t0, int64_t t1) {
    std::vector<HeapSample> out;
    Db::Stmt q(m_db->db, "SELECT * FROM heap_totals WHERE t_ns BETWEEN ? AND ? ORDER BY t_ns");
    q.bind(1, t0);
    q.bind(2, t1);
    while (q.row()) {
        HeapSample h;
        h.tNs = q.i(0);
        h.heapAlloc = q.u(1), h.heapInuse = q.u(2), h.heapIdle = q.u(3), h.heapReleased = q.u(4);
        h.heapSys = q.u(5), h.sys = q.u(6), h.heapObjects = q.u(7), h.totalAlloc = q.u(8);
        h.nextSweep = q.u(9), h.numSweepCycles = q.u(10), h.mallocs = q.u(11), h.frees = q.u(12);
        h.heapLive = q.u(13), h.largestFreeRun = q.u(14);
        out.push_back(h);
    }
    return out;
}

bool SessionReader::heapAt(int64_t t, HeapSample* out) {
    Db::Stmt q(m_db->db, "SELECT max(t_ns) FROM heap_totals WHERE t_ns <= ?");
    q.bind(1, t);
    if (!q.row() || q.null(0)) return false;
    const int64_t at = q.i(0);
    auto v = heapSeries(at, at);
    if (v.empty()) return false;
    *out = v[0];
    return true;
}

std::vector<ClassSample> SessionReader::classSeries(int64_t t0, int64_t t1, int sizeClass) {
    std::vector<ClassSample> out;
    Db::Stmt q(m_db->db, sizeClass < 0 ? "SELECT class, t_ns, mallocs, frees, requested_bytes, "
                                         "slot_bytes, spans FROM class_counters "
                                         "WHERE t_ns BETWEEN ? AND ? ORDER BY t_ns, class"
                                       : "SELECT class, t_ns, mallocs, frees, requested_bytes, "
                                         "slot_bytes, spans FROM class_counters "
                                         "WHERE t_ns BETWEEN ? AND ? AND class = ? ORDER BY t_ns");
    q.bind(1, t0);
    q.bind(2, t1);
    if (sizeClass >= 0) q.bind(3, sizeClass);
    while (q.row())
        out.push_back(
            ClassSample{q.i(1), static_cast<int>(q.i(0)), q.u(2), q.u(3), q.u(4), q.u(5), q.u(6)});
    return out;
}

std::vector<GcCycle> SessionReader::gcCycles(int64_t t0, int64_t t1) {
    std::vector<GcCycle> out;
    Db::Stmt q(
        m_db->db,
        (std::string("SELECT cycle, kind, start_ns, end_ns, heap_live, heap_goal, trigger_bytes, "
                     "sweepgen, stw_ns, ") +
         (m_hasMemoryLimit ? "memory_limit" : "0") +
         " FROM gc_cycles WHERE start_ns <= ? AND (end_ns IS NULL OR end_ns >= ?) ORDER BY "
         "start_ns, id")
            .c_str());
    q.bind(1, t1);
    q.bind(2, t0);
    while (q.row()) {
        GcCycle g;
        g.cycle = q.i(0);
        g.kind = q.s(1);
        g.startNs = q.i(2);
        g.endNs = q.null(3) ? -1 : q.i(3);
        g.heapLive = q.u(4), g.heapGoal = q.u(5), g.trigger = q.u(6), g.sweepgen = q.u(7),
        g.stwNs = q.u(8);
        g.memoryLimit = q.u(9);
        out.push_back(g);
    }
    return out;
}

std::vector<GcPhase> SessionReader::gcPhases(int64_t t0, int64_t t1) {
    std::vector<GcPhase> out;
    Db::Stmt q(
        m_db->db,
        "SELECT cycle, phase, t_ns, heap_live, heap_goal, trigger_bytes, stw_ns FROM gc_phases "
        "WHERE t_ns BETWEEN ? AND ? ORDER BY t_ns, id");
    q.bind(1, t0);
    q.bind(2, t1);
    while (q.row()) out.push_back(GcPhase{q.i(0), q.s(1), q.i(2), q.u(3), q.u(4), q.u(5), q.u(6)});
    return out;
}

namespace {
// Records reach the recorder up to one drain pass late, so a record's id and time order agree
// within this many rows (the bound spansAt's replay uses too).
constexpr int64_t kLateRows = 65536;

constexpr const char* kEventRowColumns =
    "id, t_ns, seq, tid, kind, span_class, flags, npages, addr, a, b, c, d";

void readEventRow(sqlite3_stmt* st, EventRow* out) {
    auto col = [st](int i) { return sqlite3_column_int64(st, i); };
    out->id = col(0);
    Event& e = out->event;
    e = Event{};
    e.timeNs = static_cast<uint64_t>(col(1)), e.seq = static_cast<uint32_t>(col(2));
    e.tid = static_cast<uint32_t>(col(3)), e.kind = static_cast<EventKind>(col(4));
    e.spanClass = static_cast<uint8_t>(col(5)), e.flags = static_cast<uint8_t>(col(6));
    e.npages = static_cast<uint32_t>(col(7)), e.addr = static_cast<uint64_t>(col(8));
    e.a = static_cast<uint64_t>(col(9)), e.b = static_cast<uint64_t>(col(10));
    e.c = static_cast<uint64_t>(col(11)), e.d = static_cast<uint64_t>(col(12));
}

std::string kindFilter(const std::vector<uint16_t>& kinds) {
    if (kinds.empty()) return {};
    std::string s = " AND kind IN (";
    for (size_t i = 0; i < kinds.size(); i++) s += (i ? "," : "") + std::to_string(kinds[i]);
    return s + ")";
}
}  // namespace

// Both searches run in two bounded steps: find the first match in id order from the keyframe
// nearest t, then order by time only the rows within kLateRows of it.
bool SessionReader::eventAfter(int64_t t, int64_t afterId, const std::vector<uint16_t>& kinds,
                               EventRow* out) {
    sqlite3* db = m_db->db;
    int64_t lo = 0;
    {
        Db::Stmt k(db,
                   "SELECT last_event_id FROM keyframes WHERE t_ns <= ? ORDER BY t_ns DESC, id "
                   "DESC LIMIT 1");
        k.bind(1, t);
        if (k.row()) lo = std::max<int64_t>(0, k.i(0) - kLateRows);
    }
    // t_ns >= ?1 is implied; said again so that the event blocks before t are skipped unread.
    const std::string cond =
        "t_ns >= ?1 AND (t_ns > ?1 OR (t_ns = ?1 AND id > ?2))" + kindFilter(kinds);
    int64_t first = 0;
    {
        Db::Stmt q(
            db,
            ("SELECT id FROM events WHERE id > ?3 AND " + cond + " ORDER BY id LIMIT 1").c_str());
        q.bind(1, t), q.bind(2, afterId), q.bind(3, lo);
        if (!q.row()) return false;
        first = q.i(0);
    }
    Db::Stmt q(db, (std::string("SELECT ") + kEventRowColumns +
                    " FROM events "
                    "WHERE id > ?3 AND id <= ?4 AND " +
                    cond + " ORDER BY t_ns, id LIMIT 1")
                       .c_str());
    q.bind(1, t), q.bind(2, afterId), q.bind(3, lo), q.bind(4, first + kLateRows);
    if (!q.row()) return false;
    readEventRow(q.st, out);
    return true;
}

bool SessionReader::eventBefore(int64_t t, int64_t beforeId, const std::vector<uint16_t>& kinds,
                                EventRow* out) {
    sqlite3* db = m_db->db;
    int64_t hi = INT64_MAX;
    {
        Db::Stmt k(db,
                   "SELECT last_event_id FROM keyframes WHERE t_ns > ? ORDER BY t_ns, id LIMIT 1");
        k.bind(1, t);
        if (k.row()) hi = k.i(0) + kLateRows;
    }
    const std::string cond =
        "t_ns <= ?1 AND (t_ns < ?1 OR (t_ns = ?1 AND id < ?2))" + kindFilter(kinds);
    int64_t last = 0;
    {
        Db::Stmt q(
            db, ("SELECT id FROM events WHERE id <= ?3 AND " + cond + " ORDER BY id DESC LIMIT 1")
                    .c_str());
        q.bind(1, t), q.bind(2, beforeId), q.bind(3, hi);
        if (!q.row()) return false;
        last = q.i(0);
    }
    Db::Stmt q(db, (std::string("SELECT ") + kEventRowColumns +
                    " FROM events "
                    "WHERE id >= ?4 AND id <= ?3 AND " +
                    cond + " ORDER BY t_ns DESC, id DESC LIMIT 1")
                       .c_str());
    q.bind(1, t), q.bind(2, beforeId), q.bind(3, hi), q.bind(4, last - kLateRows);
    if (!q.row()) return false;
    readEventRow(q.st, out);
    return true;
}

std::vector<ClassTotals> classTotalsOf(const std::vector<SpanRecord>& spans,
                                       const std::vector<stream::ClassEntry>& classes,
                                       uint64_t pageSize) {
    std::vector<ClassTotals> out(classes.size());
    const uint64_t page = pageSize ? pageSize : 8192;
    for (size_t c = 0; c < out.size(); c++) {
        out[c].sizeClass = static_cast<int>(c);
        out[c].size = classes[c].size;
    }
    for (const SpanRecord& s : spans) {
        const size_t c = s.spanClass >> 1;
        if (c >= out.size()) continue;
        ClassTotals& ct = out[c];
        const uint64_t spanBytes = uint64_t{s.npages} * page;
        ct.spans++;
        ct.spanBytes += spanBytes;
        if (c == 0) {  // large: one object per span, page-rounded
            ct.objects++;
            ct.bytesInUse += spanBytes;
            continue;
        }
        const uint64_t nelems = s.nelems ? s.nelems : classes[c].nelems;
        const uint64_t used = std::min<uint64_t>(nelems, s.allocCount);
        ct.objects += used;
        ct.bytesInUse += used * ct.size;
        ct.freeSlotBytes += (nelems - used) * ct.size;
        if (spanBytes > nelems * ct.size) ct.tailWaste += spanBytes - nelems * ct.size;
    }
    return out;
}

std::vector<ClassTotals> SessionReader::classTotalsAt(int64_t t) {
    std::vector<ClassTotals> out = classTotalsOf(
        spansAt(t), m_classes, static_cast<uint64_t>(m_info.pageSize ? m_info.pageSize : 8192));
    addClassCounters(t, &out);
    return out;
}

void SessionReader::addClassCounters(int64_t t, std::vector<ClassTotals>* totals) {
    std::vector<ClassTotals>& out = *totals;
    Db::Stmt q(m_db->db,
               "SELECT mallocs, frees, requested_bytes FROM class_counters WHERE class = ? AND "
               "t_ns <= ? ORDER BY "
               "t_ns DESC LIMIT 1");
    for (auto& ct : out) {
        sqlite3_reset(q.st);
        q.bind(1, ct.sizeClass);
        q.bind(2, t);
        if (q.row()) ct.mallocs = q.u(0), ct.frees = q.u(1), ct.requestedBytes = q.u(2);
    }
}

std::vector<ClassSample> SessionReader::classCountersAt(int64_t t) {
    std::vector<ClassSample> out;
    Db::Stmt q(m_db->db,
               "SELECT class, t_ns, mallocs, frees, requested_bytes, slot_bytes, spans FROM "
               "class_counters "
               "WHERE class = ? AND t_ns <= ? ORDER BY t_ns DESC LIMIT 1");
    for (size_t c = 0; c < m_classes.size(); c++) {
        sqlite3_reset(q.st);
        q.bind(1, static_cast<int64_t>(c));
        q.bind(2, t);
        if (q.row())
            out.push_back(ClassSample{q.i(1), static_cast<int>(q.i(0)), q.u(2), q.u(3), q.u(4),
                                      q.u(5), q.u(6)});
    }
    return out;
}

bool SessionReader::spanObjectsAt(uint64_t addr, int64_t t, SpanObjects* out) {
    *out = SpanObjects{};
    const uint64_t pageSize = static_cast<uint64_t>(m_info.pageSize ? m_info.pageSize : 8192);
    const std::vector<SpanRecord> spans = spansAt(t);  // sorted by base
    auto it = std::upper_bound(spans.begin(), spans.end(), addr,
                               [](uint64_t a, const SpanRecord& s) { return a < s.base; });
    if (it == spans.begin()) return false;
    const SpanRecord& span = *--it;
    if (addr >= span.base + uint64_t{span.npages} * pageSize) return false;
    out->span = span;
    const int sizeClass = span.spanClass >> 1;
    const bool large = sizeClass == 0;
    out->elemSize = large || sizeClass >= static_cast<int>(m_classes.size())
                        ? static_cast<uint32_t>(span.npages * pageSize)
                        : m_classes[static_cast<size_t>(sizeClass)].size;
    sqlite3* db = m_db->db;

    // The GC phase at t: marking runs from sweep termination to the end of mark termination.
    int64_t markStart = INT64_MAX;
    {
        Db::Stmt q(db,
                   "SELECT cycle, phase FROM gc_phases WHERE t_ns <= ? ORDER BY t_ns DESC, id DESC "
                   "LIMIT 1");
        q.bind(1, t);
        if (q.row() && q.s(1) != "off") {
            out->marking = true;
            out->cycle = q.i(0);
            Db::Stmt st(db, "SELECT min(t_ns) FROM gc_phases WHERE cycle = ?");
            st.bind(1, out->cycle);
            if (st.row() && !st.null(0)) markStart = st.i(0);
        }
    }
    if (!(m_info.flags & stream::kFlagObjectLevel)) return true;  // counts only

    // Replay the span's object records since it was taken from the heap, in time order (a record
    // that reached the recorder late is stored after newer ones: see Recorder::handleEvents).
    const uint64_t end = span.base + uint64_t{span.npages} * pageSize;
    int64_t born = 0, bornT = -1;
    {
        Db::Stmt q(db,
                   "SELECT id, t_ns FROM events WHERE kind IN (1, 5, 6, 7) AND addr = ? AND "
                   "t_ns <= ? ORDER BY t_ns DESC, id DESC LIMIT 1");
        q.bind(1, static_cast<int64_t>(span.base));
        q.bind(2, t);
        if (q.row()) born = q.i(0), bornT = q.i(1);
    }
    const size_t n = large ? 1 : span.nelems;
    std::vector<SlotState> slots(n, SlotState::Free);
    std::vector<uint8_t> marked(n, 0);  // 0 white, 1 grey, 2 black, in the current mark phase
    Db::Stmt q(db,
               "SELECT t_ns, kind, flags, npages, addr, a FROM events WHERE kind BETWEEN 20 AND 22 "
               "AND addr >= ?1 AND addr < ?2 AND t_ns >= ?5 AND (t_ns > ?5 OR id > ?3) AND "
               "t_ns <= ?4 ORDER BY t_ns, id");
    q.bind(1, static_cast<int64_t>(span.base));
    q.bind(2, static_cast<int64_t>(end));
    q.bind(3, born);
    q.bind(4, t);
    q.bind(5, bornT);
    auto slotOf = [&](uint64_t a) -> size_t {
        return large ? 0 : static_cast<size_t>((a - span.base) / out->elemSize);
    };
    while (q.row()) {
        const int64_t te = q.i(0);
        const auto kind = static_cast<EventKind>(q.i(1));
        const uint64_t a = q.u(4);
        const bool inMark = out->marking && te >= markStart;
        if (kind == EventKind::ObjAlloc) {
            size_t i = slotOf(a);
            if (i >= n) continue;
            slots[i] = SlotState::Allocated;
            if (inMark) marked[i] = 2;  // allocated black during marking
        } else if (kind == EventKind::ObjFree) {
            const uint64_t word = q.u(3), mask = q.u(5);
            for (uint64_t m = mask; m; m &= m - 1) {
                size_t i =
                    static_cast<size_t>(word * 64 + static_cast<uint64_t>(__builtin_ctzll(m)));
                if (i < n) slots[i] = SlotState::Free, marked[i] = 0;
            }
        } else if (inMark) {  // ObjMark
            size_t i = slotOf(a);
            if (i < n) marked[i] = std::max<uint8_t>(marked[i], q.i(2) ? 2 : 1);
        }
    }
    if (large && slots[0] == SlotState::Free)
        slots[0] = SlotState::Allocated;  // LargeAlloc is the object
    if (out->marking)
        for (size_t i = 0; i < n; i++)
            if (slots[i] != SlotState::Free)
                slots[i] = marked[i] == 2   ? SlotState::Black
                           : marked[i] == 1 ? SlotState::Grey
                                            : SlotState::White;
    out->slotStates = std::move(slots);
    out->bitsKnown = true;
    return true;
}

}  // namespace spanscope::session
