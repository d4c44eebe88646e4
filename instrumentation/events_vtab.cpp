// The SQLite virtual tables `events` and `prof_samples`: a session's records and its heap
// profile's samples, one row each, decoded from their blocks (spanscope/detail/event_block.h;
// event_blocks, prof_sample_blocks). Eponymous tables: once the modules are registered on a
// connection, `SELECT ... FROM events` works on any session file; a session of schema version 1
// or 2 has a real `events` table, and one of version 3 a real `prof_samples` table, which SQLite
// finds first. Constraints on id, t_ns and kind (=, <, <=, >, >=, IN) are pushed down: blocks
// outside the range, or holding none of the kinds, are skipped without being read. Rows come in
// id order (ORDER BY id costs nothing).
// Compiled twice: into the instrumentation library (registerSessionTables, for the reader and the
// CLI) and, with SPANSCOPE_SQLITE_EXTENSION, into the loadable extension libspanscope_sqlite.so
// (for the sqlite3 shell: `.load build/instrumentation/libspanscope_sqlite`).
#ifdef SPANSCOPE_SQLITE_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#else
#include <sqlite3.h>
#endif

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "spanscope/detail/event_block.h"
#include "spanscope/events_table.h"

namespace spanscope::session::detail {
namespace {

// What each table reads: its blocks' tables, its columns (id and t_ns first in both), and
// which column is the kind.
struct Source {
    const char* declare;
    const char* blocksSql;  // the directory: ?1 < id <= ?2, t range ?3..?4, kinds mask ?5
    const char* dataSql;    // one block's blob
    int kindColumn;
    int64_t (*value)(const Event& e, int col);  // a column other than id
};

enum Column { kId, kT, kTid, kSeq, kKind, kSpanClass, kFlags, kNpages, kAddr, kA, kB, kC, kD };
int64_t eventValue(const Event& e, int col) {
    switch (col) {
        case kT:
            return static_cast<int64_t>(e.timeNs);
        case kTid:
            return e.tid;
        case kSeq:
            return e.seq;
        case kKind:
            return static_cast<uint16_t>(e.kind);
        case kSpanClass:
            return e.spanClass;
        case kFlags:
            return e.flags;
        case kNpages:
            return e.npages;
        case kAddr:
            return static_cast<int64_t>(e.addr);
        case kA:
            return static_cast<int64_t>(e.a);
        case kB:
            return static_cast<int64_t>(e.b);
        case kC:
            return static_cast<int64_t>(e.c);
        case kD:
            return static_cast<int64_t>(e.d);
        default:
            return 0;
    }
}
const Source kEvents = {
    "CREATE TABLE x(id INTEGER, t_ns INTEGER, tid INTEGER, seq INTEGER, kind INTEGER, "
    "span_class INTEGER, flags INTEGER, npages INTEGER, addr INTEGER, a INTEGER, b INTEGER, "
    "c INTEGER, d INTEGER)",
    "SELECT id, count FROM event_blocks WHERE id > ?1 AND id <= ?2 AND t_max >= ?3 "
    "AND t_min <= ?4 AND (kinds & ?5) != 0 ORDER BY id",
    "SELECT data FROM event_block_data WHERE id = ?", kKind, eventValue};

// A sample as ProfileStore writes it: kind 1 or 2, bytes in a, the stack in b, the rate in c,
// managed in flags.
enum SampleColumn { kSKind = 2, kSAddr, kSBytes, kSStack, kSRate, kSManaged };
int64_t sampleValue(const Event& e, int col) {
    switch (col) {
        case kT:
            return static_cast<int64_t>(e.timeNs);
        case kSKind:
            return static_cast<uint16_t>(e.kind);
        case kSAddr:
            return static_cast<int64_t>(e.addr);
        case kSBytes:
            return static_cast<int64_t>(e.a);
        case kSStack:
            return static_cast<int64_t>(e.b);
        case kSRate:
            return static_cast<int64_t>(e.c);
        case kSManaged:
            return e.flags & 1;
        default:
            return 0;
    }
}
const Source kSamples = {
    "CREATE TABLE x(id INTEGER, t_ns INTEGER, kind INTEGER, addr INTEGER, bytes INTEGER, "
    "stack INTEGER, rate INTEGER, managed INTEGER)",
    "SELECT id, count FROM prof_sample_blocks WHERE id > ?1 AND id <= ?2 AND t_max >= ?3 "
    "AND t_min <= ?4 AND (kinds & ?5) != 0 ORDER BY id",
    "SELECT data FROM prof_sample_block_data WHERE id = ?", kSKind, sampleValue};

// idxNum bits: which bound each argv entry carries (argv in this order).
enum Plan : int {
    kIdLo = 1,
    kIdLoEq = 2,
    kIdHi = 4,
    kIdHiEq = 8,
    kTLo = 16,
    kTLoEq = 32,
    kTHi = 64,
    kTHiEq = 128,
    kKinds = 256
};

struct Table {
    sqlite3_vtab base;
    sqlite3* db;
    const Source* src;
};

struct Cursor {
    sqlite3_vtab_cursor base;
    sqlite3_stmt* blocks = nullptr;  // the block directory, in id order
    sqlite3_stmt* data = nullptr;    // one block's blob
    BlockDecoder decoder;
    std::vector<Event> recs;
    int64_t firstId = 0;
    size_t pos = 0;
    bool eof = true;
    // Bounds (inclusive) and kinds of this scan.
    int64_t idLo = INT64_MIN, idHi = INT64_MAX, tLo = INT64_MIN, tHi = INT64_MAX;
    std::vector<uint16_t> kinds;  // empty: any
    bool kindsGiven = false;
};

int connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char**) {
    const auto* src = static_cast<const Source*>(aux);
    const int rc = sqlite3_declare_vtab(db, src->declare);
    if (rc != SQLITE_OK) return rc;
    auto* t = new (std::nothrow) Table{};
    if (!t) return SQLITE_NOMEM;
    t->db = db;
    t->src = src;
    *out = &t->base;
    return SQLITE_OK;
}

int disconnect(sqlite3_vtab* vt) {
    delete reinterpret_cast<Table*>(vt);
    return SQLITE_OK;
}

int bestIndex(sqlite3_vtab* vt, sqlite3_index_info* info) {
    const int kindColumn = reinterpret_cast<Table*>(vt)->src->kindColumn;
    // One argv slot per kind of bound, in Plan order.
    int slot[9];
    bool kindsAtOnce = true;
    std::fill(std::begin(slot), std::end(slot), -1);
    for (int i = 0; i < info->nConstraint; i++) {
        const auto& c = info->aConstraint[i];
        if (!c.usable) continue;
        const bool lo = c.op == SQLITE_INDEX_CONSTRAINT_GT || c.op == SQLITE_INDEX_CONSTRAINT_GE;
        const bool hi = c.op == SQLITE_INDEX_CONSTRAINT_LT || c.op == SQLITE_INDEX_CONSTRAINT_LE;
        const bool eq = c.op == SQLITE_INDEX_CONSTRAINT_EQ;
        const bool inclusive =
            c.op == SQLITE_INDEX_CONSTRAINT_GE || c.op == SQLITE_INDEX_CONSTRAINT_LE;
        if (c.iColumn == kId || c.iColumn == kT) {
            const int baseBit = c.iColumn == kId ? 0 : 4;  // 0..3 for id, 4..7 for t
            if (eq) {
                // x = v: both bounds, inclusive; one argv entry serves both via the lo slot.
                if (slot[baseBit] < 0) slot[baseBit] = i, slot[baseBit + 1] = -2;
                if (slot[baseBit + 2] < 0) slot[baseBit + 2] = i, slot[baseBit + 3] = -2;
            } else if (lo && slot[baseBit] < 0) {
                slot[baseBit] = i;
                if (inclusive) slot[baseBit + 1] = -2;
            } else if (hi && slot[baseBit + 2] < 0) {
                slot[baseBit + 2] = i;
                if (inclusive) slot[baseBit + 3] = -2;
            }
        } else if (c.iColumn == kindColumn && eq && slot[8] < 0) {
            slot[8] = i;
            // An IN list all at once keeps id order; else SQLite filters once per value.
            if (sqlite3_vtab_in(info, i, -1)) kindsAtOnce = sqlite3_vtab_in(info, i, 1);
        }
    }
    int plan = 0, argc = 0;
    double cost = 1e7;
    const int bits[9] = {kIdLo, kIdLoEq, kIdHi, kIdHiEq, kTLo, kTLoEq, kTHi, kTHiEq, kKinds};
    for (int b : {0, 2, 4, 6, 8}) {
        if (slot[b] < 0) continue;
        plan |= bits[b];
        if (b < 8 && slot[b + 1] == -2) plan |= bits[b + 1];
        // The same constraint (x = v) may fill two slots: one argv entry each time it is used.
        auto& u = info->aConstraintUsage[slot[b]];
        if (u.argvIndex == 0) u.argvIndex = ++argc;
        cost /= b == 8 ? 4 : 10;
    }
    // Record which argv entry each bound reads: encoded after the plan bits, 4 bits each.
    int64_t where = 0;
    for (int b : {0, 2, 4, 6, 8})
        if (slot[b] >= 0) where |= int64_t{info->aConstraintUsage[slot[b]].argvIndex} << (b * 2);
    info->idxNum = plan;
    info->idxStr = sqlite3_mprintf("%lld", static_cast<long long>(where));
    info->needToFreeIdxStr = 1;
    info->estimatedCost = cost;
    if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == kId && !info->aOrderBy[0].desc &&
        kindsAtOnce)
        info->orderByConsumed = 1;
    return SQLITE_OK;
}

int open(sqlite3_vtab* vt, sqlite3_vtab_cursor** out) {
    auto* t = reinterpret_cast<Table*>(vt);
    auto* c = new (std::nothrow) Cursor{};
    if (!c) return SQLITE_NOMEM;
    int rc = sqlite3_prepare_v2(t->db, t->src->blocksSql, -1, &c->blocks, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(t->db, t->src->dataSql, -1, &c->data, nullptr);
    if (rc != SQLITE_OK) {
        vt->zErrMsg = sqlite3_mprintf("%s (not a spanscope session of schema version %d?)",
                                      sqlite3_errmsg(t->db), t->src == &kEvents ? 3 : 4);
        sqlite3_finalize(c->blocks);
        sqlite3_finalize(c->data);
        delete c;
        return rc;
    }
    *out = &c->base;
    return SQLITE_OK;
}

int close(sqlite3_vtab_cursor* cur) {
    auto* c = reinterpret_cast<Cursor*>(cur);
    sqlite3_finalize(c->blocks);
    sqlite3_finalize(c->data);
    delete c;
    return SQLITE_OK;
}

bool wanted(const Cursor* c, int64_t id, const Event& e) {
    const auto t = static_cast<int64_t>(e.timeNs);
    if (id < c->idLo || id > c->idHi || t < c->tLo || t > c->tHi) return false;
    if (!c->kindsGiven) return true;
    const auto k = static_cast<uint16_t>(e.kind);
    return std::find(c->kinds.begin(), c->kinds.end(), k) != c->kinds.end();
}

// Moves to the next wanted row, reading blocks as needed.
int advance(Cursor* c) {
    for (;;) {
        while (c->pos < c->recs.size()) {
            if (wanted(c, c->firstId + static_cast<int64_t>(c->pos), c->recs[c->pos]))
                return SQLITE_OK;
            c->pos++;
        }
        const int rc = sqlite3_step(c->blocks);
        if (rc == SQLITE_DONE) {
            c->eof = true;
            return SQLITE_OK;
        }
        if (rc != SQLITE_ROW) return rc;
        c->firstId = sqlite3_column_int64(c->blocks, 0);
        const auto count = static_cast<size_t>(sqlite3_column_int64(c->blocks, 1));
        sqlite3_reset(c->data);
        sqlite3_bind_int64(c->data, 1, c->firstId);
        if (sqlite3_step(c->data) != SQLITE_ROW) return SQLITE_CORRUPT;
        std::string why;
        if (!c->decoder.decode(sqlite3_column_blob(c->data, 0),
                               static_cast<size_t>(sqlite3_column_bytes(c->data, 0)), count,
                               &c->recs, &why)) {
            sqlite3_vtab* vt = c->base.pVtab;
            sqlite3_free(vt->zErrMsg);
            vt->zErrMsg =
                sqlite3_mprintf("%s (block %lld)", why.c_str(), static_cast<long long>(c->firstId));
            return SQLITE_CORRUPT;
        }
        c->pos = 0;
    }
}

int filter(sqlite3_vtab_cursor* cur, int plan, const char* idxStr, int argc, sqlite3_value** argv) {
    auto* c = reinterpret_cast<Cursor*>(cur);
    c->idLo = INT64_MIN, c->idHi = INT64_MAX, c->tLo = INT64_MIN, c->tHi = INT64_MAX;
    c->kinds.clear();
    c->kindsGiven = false;
    c->recs.clear();
    c->pos = 0;
    c->eof = false;
    const long long where = idxStr ? std::atoll(idxStr) : 0;
    auto arg = [&](int b) -> sqlite3_value* {
        const int idx = static_cast<int>((where >> (b * 2)) & 0xf);
        return idx >= 1 && idx <= argc ? argv[idx - 1] : nullptr;
    };
    // A bound on a REAL or TEXT value is left to SQLite (it checks every constraint again).
    auto bound = [](sqlite3_value* v, bool lower, bool inclusive, int64_t* out) {
        if (!v || sqlite3_value_type(v) != SQLITE_INTEGER) return;
        const int64_t x = sqlite3_value_int64(v);
        if (lower)
            *out = inclusive ? x : (x == INT64_MAX ? x : x + 1);
        else
            *out = inclusive ? x : (x == INT64_MIN ? x : x - 1);
    };
    if (plan & kIdLo) bound(arg(0), true, plan & kIdLoEq, &c->idLo);
    if (plan & kIdHi) bound(arg(2), false, plan & kIdHiEq, &c->idHi);
    if (plan & kTLo) bound(arg(4), true, plan & kTLoEq, &c->tLo);
    if (plan & kTHi) bound(arg(6), false, plan & kTHiEq, &c->tHi);
    if (plan & kKinds) {
        sqlite3_value* list = arg(8);
        sqlite3_value* v = nullptr;
        c->kindsGiven = true;
        int rc = list ? sqlite3_vtab_in_first(list, &v) : SQLITE_ERROR;
        if (rc == SQLITE_OK || rc == SQLITE_DONE) {
            for (; rc == SQLITE_OK && v; rc = sqlite3_vtab_in_next(list, &v)) {
                if (sqlite3_value_type(v) != SQLITE_INTEGER) {
                    c->kindsGiven = false;  // kind IN ('x', ...): SQLite filters
                    break;
                }
                const int64_t k = sqlite3_value_int64(v);
                if (k >= 0 && k <= 0xffff) c->kinds.push_back(static_cast<uint16_t>(k));
            }
        } else if (list && sqlite3_value_type(list) == SQLITE_INTEGER) {
            const int64_t k = sqlite3_value_int64(list);
            if (k >= 0 && k <= 0xffff) c->kinds.push_back(static_cast<uint16_t>(k));
        } else if (list) {
            c->kindsGiven = false;  // not an integer: SQLite filters
        }
        if (c->kindsGiven && c->kinds.empty()) {
            c->eof = true;  // kind = 'x' or kind IN () matches nothing
            return SQLITE_OK;
        }
    }
    if (c->idLo > c->idHi || c->tLo > c->tHi) {
        c->eof = true;
        return SQLITE_OK;
    }
    sqlite3_reset(c->blocks);
    // A block starting before idLo may still hold it: blocks hold at most kBlockRecords.
    const int64_t lo = c->idLo <= INT64_MIN + static_cast<int64_t>(kBlockRecords)
                           ? INT64_MIN
                           : c->idLo - static_cast<int64_t>(kBlockRecords);
    sqlite3_bind_int64(c->blocks, 1, lo);
    sqlite3_bind_int64(c->blocks, 2, c->idHi);
    sqlite3_bind_int64(c->blocks, 3, c->tLo);
    sqlite3_bind_int64(c->blocks, 4, c->tHi);
    sqlite3_bind_int64(c->blocks, 5,
                       static_cast<int64_t>(c->kindsGiven ? kindsMask(c->kinds) : ~uint64_t{0}));
    return advance(c);
}

int next(sqlite3_vtab_cursor* cur) {
    auto* c = reinterpret_cast<Cursor*>(cur);
    c->pos++;
    return advance(c);
}

int eof(sqlite3_vtab_cursor* cur) {
    return reinterpret_cast<Cursor*>(cur)->eof;
}

int column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
    auto* c = reinterpret_cast<Cursor*>(cur);
    if (col == kId)
        sqlite3_result_int64(ctx, c->firstId + static_cast<int64_t>(c->pos));
    else
        sqlite3_result_int64(
            ctx, reinterpret_cast<Table*>(cur->pVtab)->src->value(c->recs[c->pos], col));
    return SQLITE_OK;
}

int rowid(sqlite3_vtab_cursor* cur, sqlite_int64* out) {
    auto* c = reinterpret_cast<Cursor*>(cur);
    *out = c->firstId + static_cast<int64_t>(c->pos);
    return SQLITE_OK;
}

sqlite3_module makeModule() {
    sqlite3_module m{};
    m.iVersion = 0;
    m.xCreate = nullptr;  // eponymous only: the table is the module's name
    m.xConnect = connect;
    m.xBestIndex = bestIndex;
    m.xDisconnect = disconnect;
    m.xDestroy = disconnect;
    m.xOpen = open;
    m.xClose = close;
    m.xFilter = filter;
    m.xNext = next;
    m.xEof = eof;
    m.xColumn = column;
    m.xRowid = rowid;
    return m;
}
const sqlite3_module kModule = makeModule();

}  // namespace

int registerSessionModules(sqlite3* db) {
    const int rc = sqlite3_create_module(db, "events", &kModule, const_cast<Source*>(&kEvents));
    if (rc != SQLITE_OK) return rc;
    return sqlite3_create_module(db, "prof_samples", &kModule, const_cast<Source*>(&kSamples));
}

}  // namespace spanscope::session::detail

#ifdef SPANSCOPE_SQLITE_EXTENSION
// The entry point the sqlite3 shell derives from the file name libspanscope_sqlite.so.
extern "C" __attribute__((visibility("default"))) int sqlite3_spanscopesqlite_init(
    sqlite3* db, char**, const sqlite3_api_routines* api) {
    SQLITE_EXTENSION_INIT2(api);
    return spanscope::session::detail::registerSessionModules(db);
}
#endif
