// ProfileStore: the heap profiler's records into prof_sample_blocks, prof_stacks and prof_modules.
// See spanscope/detail/profile_store.h; symbolization is in profile_symbolize.cpp.
#include "spanscope/detail/profile_store.h"

#include <cstring>

#include "spanscope/detail/probe_profile.h"
#include "spanscope/stream.h"

namespace spanscope::session {

const char* const kProfileSchemaSql = R"sql(
-- The samples, in blocks as the records are (the directory here, the compressed columns in
-- prof_sample_block_data). The virtual table `prof_samples` (events_vtab.cpp) shows them one row
-- each: id, t_ns, kind (1 allocation, 2 free), addr, bytes (slot bytes), stack
-- (prof_stacks.stack), rate (MemProfileRate when sampled; 0 on frees), managed.
CREATE TABLE IF NOT EXISTS prof_sample_blocks(
  id INTEGER PRIMARY KEY,   -- the id of the block's first sample; the others follow
  count INTEGER NOT NULL,
  t_min INTEGER NOT NULL,
  t_max INTEGER NOT NULL,
  kinds INTEGER NOT NULL    -- a mask of the kinds it holds (event_block.h, kindBit)
);
CREATE TABLE IF NOT EXISTS prof_sample_block_data(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS prof_stacks(
  stack INTEGER NOT NULL,    -- segment << 32 | the allocator's bucket id
  depth INTEGER NOT NULL,    -- 0 = innermost (the allocator's entry point)
  pc INTEGER NOT NULL,       -- return address
  PRIMARY KEY (stack, depth)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS prof_modules(
  id INTEGER PRIMARY KEY,
  t_ns INTEGER NOT NULL,
  path TEXT NOT NULL,
  start INTEGER NOT NULL,
  end INTEGER NOT NULL,
  bias INTEGER NOT NULL,
  build_id TEXT
);
CREATE TABLE IF NOT EXISTS prof_frames(
  pc INTEGER NOT NULL,
  idx INTEGER NOT NULL,      -- 0 = innermost inlined frame at pc; the last is the real function
  module INTEGER,            -- prof_modules.id
  function TEXT,             -- demangled; NULL if unknown
  file TEXT,
  line INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (pc, idx)
) WITHOUT ROWID;
)sql";

ProfileStore::~ProfileStore() {
    for (sqlite3_stmt* st : {m_insStack, m_insModule}) sqlite3_finalize(st);
}

bool ProfileStore::fail(const char* what) {
    m_error = std::string(what) + ": " + sqlite3_errmsg(m_db);
    return false;
}

bool ProfileStore::init(sqlite3* db) {
    m_db = db;
    if (sqlite3_exec(m_db, kProfileSchemaSql, nullptr, nullptr, nullptr) != SQLITE_OK)
        return fail("create the heap profile's tables");
    auto prep = [&](const char* sql, sqlite3_stmt** st) {
        return sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, nullptr) ==
               SQLITE_OK;
    };
    if (!m_blocks.init(m_db, "prof_sample_blocks", "prof_sample_block_data")) {
        m_error = m_blocks.error();
        return false;
    }
    if (!prep("INSERT OR IGNORE INTO prof_stacks(stack, depth, pc) VALUES (?,?,?)", &m_insStack) ||
        !prep("INSERT INTO prof_modules(t_ns, path, start, end, bias) VALUES (?,?,?,?,?)",
              &m_insModule))
        return fail("prepare (heap profile)");
    return true;
}

// A sample joins the open block: a record with the columns of the table `prof_samples` (kind,
// addr; bytes in a, the stack in b, the rate in c, managed in flags).
bool ProfileStore::sample(int64_t t, int kind, const Event& e, uint64_t stack, uint64_t bytes,
                          uint64_t rate) {
    detail::BlockRecord r{t, Event{}};
    r.e.timeNs = static_cast<uint64_t>(t);
    r.e.kind = static_cast<EventKind>(kind);
    r.e.addr = e.addr;
    r.e.a = bytes;
    r.e.b = stack;
    r.e.c = rate;
    r.e.flags = e.flags & 1;
    m_block.push_back(r);
    return m_block.size() < detail::kBlockRecords || flush();
}

bool ProfileStore::flush() {
    if (m_block.empty()) return true;
    const bool ok = m_blocks.write(m_nextId, m_block.data(), m_block.size());
    m_nextId += static_cast<int64_t>(m_block.size());
    m_block.clear();
    return ok || fail("write prof_sample_blocks");
}

void ProfileStore::committed() {
    m_committedId = m_nextId;
}

void ProfileStore::rollback() {
    m_block.clear();
    m_nextId = m_committedId;
}

bool ProfileStore::stackChunk(uint64_t key, const Event& e) {
    if (m_stacksDone.count(key)) return true;  // sent twice (two threads, or a rundown): keep one
    std::vector<uint64_t>& frames = m_building[key];
    if (e.spanClass == 0) frames.clear();
    const uint64_t in[5] = {e.addr, e.a, e.b, e.c, e.d};
    const unsigned k = payload::profStackFrames(e);
    for (unsigned i = 0; i < k && i < 5; i++) frames.push_back(in[i]);
    if (!payload::profStackLast(e)) return true;
    for (size_t d = 0; d < frames.size(); d++) {
        sqlite3_bind_int64(m_insStack, 1, static_cast<int64_t>(key));
        sqlite3_bind_int64(m_insStack, 2, static_cast<int64_t>(d));
        sqlite3_bind_int64(m_insStack, 3, static_cast<int64_t>(frames[d]));
        const int rc = sqlite3_step(m_insStack);
        sqlite3_reset(m_insStack);
        if (rc != SQLITE_DONE) return fail("write prof_stacks");
    }
    m_building.erase(key);
    m_stacksDone.insert(key);
    return true;
}

bool ProfileStore::moduleName(uint32_t segment, const Event& e) {
    auto it = m_modules.find(uint64_t{segment} << 32 | e.npages);
    if (it == m_modules.end()) return true;
    PendingModule& m = it->second;
    const size_t k = e.flags <= 40 ? e.flags : 40;
    m.path.append(reinterpret_cast<const char*>(&e.addr), k);
    if (m.path.size() < m.len) return true;
    const std::string key = m.path + "@" + std::to_string(m.lo);
    bool ok = true;
    if (m_modulesDone.insert(key).second) {
        sqlite3_bind_int64(m_insModule, 1, m.t);
        sqlite3_bind_text(m_insModule, 2, m.path.data(), static_cast<int>(m.path.size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(m_insModule, 3, static_cast<int64_t>(m.lo));
        sqlite3_bind_int64(m_insModule, 4, static_cast<int64_t>(m.hi));
        sqlite3_bind_int64(m_insModule, 5, static_cast<int64_t>(m.bias));
        ok = sqlite3_step(m_insModule) == SQLITE_DONE || fail("write prof_modules");
        sqlite3_reset(m_insModule);
    }
    m_modules.erase(it);
    return ok;
}

void ProfileStore::beginResync(uint64_t walkNs, int64_t walkT) {
    m_unseen.clear();
    for (const auto& [addr, live] : m_live) m_unseen.insert(addr);
    m_resyncing = true;
    m_resyncNs = walkNs;
    m_resyncT = walkT;
}

bool ProfileStore::finishResync() {
    if (!m_resyncing) return true;
    m_resyncing = false;
    for (uint64_t addr : m_unseen) {
        auto it = m_live.find(addr);
        if (it == m_live.end()) continue;
        const Live live = it->second;
        m_live.erase(it);
        Event e{};
        e.addr = addr;
        if (!sample(m_resyncT, 2, e, live.stack, live.bytes, 0)) return false;
    }
    m_unseen.clear();
    return true;
}

bool ProfileStore::apply(int64_t t, uint32_t segment, const Event& e, bool* ok) {
    const uint64_t seg = uint64_t{segment} << 32;
    const auto kind = static_cast<uint16_t>(e.kind);
    if (m_resyncing) {
        if (e.timeNs > m_resyncNs && !finishResync()) {
            *ok = false;
            return kind == static_cast<uint16_t>(EventKind::ProfAlloc) ||
                   kind == static_cast<uint16_t>(EventKind::ProfFree);
        }
        if (kind == static_cast<uint16_t>(EventKind::ProfAlloc) ||
            kind == static_cast<uint16_t>(EventKind::ProfFree))
            m_unseen.erase(e.addr);
    }
    switch (static_cast<uint16_t>(e.kind)) {
        case static_cast<uint16_t>(EventKind::ProfAlloc): {
            const uint64_t stack = seg | (e.b & 0xffffffff);
            auto [it, fresh] = m_live.try_emplace(e.addr, Live{stack, e.a});
            if (!fresh && it->second.stack == stack && it->second.bytes == e.a) {
                *ok = true;  // the same object twice (sampled as the sink went in, and in the
                             // rundown)
                return true;
            }
            it->second = Live{stack, e.a};
            *ok = sample(t, 1, e, stack, e.a, e.c);
            return true;
        }
        case static_cast<uint16_t>(EventKind::ProfFree): {
            auto it = m_live.find(e.addr);
            if (it == m_live.end()) {
                *ok = true;  // sampled before this session could see it
                return true;
            }
            const Live live = it->second;
            m_live.erase(it);
            *ok = sample(t, 2, e, live.stack, live.bytes, 0);
            return true;
        }
        case static_cast<uint16_t>(EventKind::ProfStack):
            *ok = stackChunk(seg | e.npages, e);
            return true;
        case stream::kModule:
            m_modules[seg | (e.c & 0xffffffff)] = PendingModule{t, e.addr, e.a, e.b, e.d, {}};
            *ok = true;
            return true;
        case stream::kModuleName:
            *ok = moduleName(segment, e);
            return true;
        default:
            return false;
    }
}

}  // namespace spanscope::session
