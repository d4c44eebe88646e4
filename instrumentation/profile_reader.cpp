// Reads a session's heap profile (spanscope/profile.h): prof_samples folded per stack over a
// window, the stacks with the allocator's own frames dropped, their symbolized frames, and Go's
// scaleHeapSample.
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "spanscope/events_table.h"
#include "spanscope/profile.h"

namespace spanscope::session {

namespace {

bool hasTable(sqlite3* db, const char* name) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &st,
                       nullptr);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    const bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

// The allocator's entry points and internals: dropped from the inner end of every stack.
bool isAllocatorFrame(const ProfileLocation& loc, const std::vector<ProfileModule>& modules) {
    if (loc.module > 0 && static_cast<size_t>(loc.module) <= modules.size()) {
        const std::string& p = modules[loc.module - 1].path;
        if (p.find("libspanscope") != std::string::npos) return true;
    }
    if (loc.frames.empty()) return false;
    const std::string& f = loc.frames.back().function;
    static const char* const kEntry[] = {
        "malloc",   "calloc", "realloc", "free",          "reallocarray", "posix_memalign",
        "memalign", "valloc", "pvalloc", "aligned_alloc", "operator new", "operator new[]"};
    for (const char* e : kEntry)
        if (f == e || (f.rfind(e, 0) == 0 && f.size() > strlen(e) && f[strlen(e)] == '('))
            return true;
    return f.rfind("spanscope::", 0) == 0 || f.find("mallocgc") != std::string::npos;
}

}  // namespace

void scaleHeapSample(uint64_t count, uint64_t bytes, int64_t rate, int64_t* outCount,
                     int64_t* outBytes) {
    if (count == 0 || bytes == 0) {
        *outCount = *outBytes = 0;
        return;
    }
    if (rate <= 1) {
        *outCount = static_cast<int64_t>(count);
        *outBytes = static_cast<int64_t>(bytes);
        return;
    }
    const double avg = static_cast<double>(bytes) / static_cast<double>(count);
    const double scale = 1 / (1 - std::exp(-avg / static_cast<double>(rate)));
    *outCount = static_cast<int64_t>(static_cast<double>(count) * scale);
    *outBytes = static_cast<int64_t>(static_cast<double>(bytes) * scale);
}

const ProfileFrame* HeapProfile::leafFrame(const ProfileStack& s) const {
    if (s.pcs.empty()) return nullptr;
    const ProfileLocation* loc = location(s.pcs.front());
    if (!loc || loc->frames.empty()) return nullptr;
    return &loc->frames.front();
}

bool parseSessionTime(const std::string& s, int64_t* ns) {
    if (s == "end") {
        *ns = -1;
        return true;
    }
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || !std::isfinite(v) || v < 0) return false;
    const std::string unit(end);
    double scale;
    if (unit.empty() || unit == "s")
        scale = 1e9;
    else if (unit == "ms")
        scale = 1e6;
    else if (unit == "us")
        scale = 1e3;
    else if (unit == "ns")
        scale = 1;
    else
        return false;
    *ns = static_cast<int64_t>(v * scale);
    return true;
}

const ProfileLocation* HeapProfile::location(uint64_t pc) const {
    if (!locations) return nullptr;
    auto it = locations->find(pc);
    return it == locations->end() ? nullptr : &it->second;
}

// ---- HeapProfileData ---------------------------------------------------------------------------

HeapProfileData::HeapProfileData() : m_locations(std::make_shared<LocationTable>()) {}

HeapProfileData::~HeapProfileData() {
    if (m_db) sqlite3_close(m_db);
}

void HeapProfileData::reset() {
    m_endNs = 0;
    m_lastId = 0;
    m_sampleRows = 0;
    m_frameRows = m_moduleRows = 0;
    m_symbolized = false;
    m_allocs.clear();
    m_live.clear();
    m_stacks.clear();
    m_stackIndex.clear();
    m_locations = std::make_shared<LocationTable>();
    m_modules.clear();
    m_moduleIndex.clear();
    m_stacksVersion++;
}

bool HeapProfileData::load(const std::string& path, std::string* err) {
    if (m_db) sqlite3_close(m_db);
    m_db = nullptr;
    m_path = path;
    reset();
    if (sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        *err = path + ": cannot open (" + sqlite3_errmsg(m_db) + ")";
        return false;
    }
    if (sqlite3_exec(m_db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) !=
            SQLITE_OK ||
        !hasTable(m_db, "session")) {
        *err = path + ": not a spanscope session (" + sqlite3_errmsg(m_db) + ")";
        return false;
    }
    // The samples: in blocks read through the virtual table `prof_samples` from schema version
    // 4, a real table of that name in version 3 (which SQLite finds first).
    if (registerSessionTables(m_db) != SQLITE_OK) {
        *err = path + ": " + sqlite3_errmsg(m_db);
        return false;
    }
    if (!(hasTable(m_db, "prof_samples") || hasTable(m_db, "prof_sample_blocks")) ||
        !hasTable(m_db, "prof_stacks") || !hasTable(m_db, "prof_frames")) {
        *err = path + ": this session has no heap profile (recorded by a spanscope without one)";
        return false;
    }
    m_probe = versionProbe();
    return readAll(err);
}

uint64_t HeapProfileData::versionProbe() {
    sqlite3_stmt* st = nullptr;
    uint64_t v = 0;
    sqlite3_prepare_v2(m_db, "PRAGMA data_version", -1, &st, nullptr);
    if (st && sqlite3_step(st) == SQLITE_ROW) v = uint64_t(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    return v;
}

namespace {
int64_t scalar(sqlite3* db, const char* sql) {
    sqlite3_stmt* st = nullptr;
    int64_t v = 0;
    sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
    if (st && sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}
}  // namespace

bool HeapProfileData::refresh(std::string* err) {
    if (!m_db) {
        *err = m_path + ": not loaded";
        return false;
    }
    const uint64_t probe = versionProbe();
    if (probe == m_probe) return true;  // nothing committed since
    m_probe = probe;
    // Symbols or modules changed (the recording ended and was symbolized, or a library was
    // loaded): every stack's frames, and which of them are the allocator's, may differ.
    if (uint64_t(scalar(m_db, "SELECT count(*) FROM prof_frames")) != m_frameRows ||
        uint64_t(scalar(m_db, "SELECT count(*) FROM prof_modules")) != m_moduleRows) {
        reset();
        return readAll(err);
    }
    m_endNs = scalar(m_db, "SELECT end_ns FROM session");
    bool newStacks = false;
    if (!readSamples(err, &newStacks, true)) return false;
    if (newStacks) m_stacksVersion++;
    return true;
}

bool HeapProfileData::readStackPcs(uint64_t id, std::vector<uint64_t>* pcs) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(m_db, "SELECT pc FROM prof_stacks WHERE stack = ? ORDER BY depth", -1, &st,
                       nullptr);
    if (!st) return false;
    sqlite3_bind_int64(st, 1, int64_t(id));
    while (sqlite3_step(st) == SQLITE_ROW) pcs->push_back(uint64_t(sqlite3_column_int64(st, 0)));
    sqlite3_finalize(st);
    return true;
}

void HeapProfileData::trimAllocatorFrames(ProfileStack* s) const {
    size_t drop = 0;
    static const ProfileLocation kUnknown;
    while (drop + 1 < s->pcs.size()) {
        auto it = m_locations->find(s->pcs[drop]);
        if (!isAllocatorFrame(it == m_locations->end() ? kUnknown : it->second, m_modules)) break;
        drop++;
    }
    s->pcs.erase(s->pcs.begin(), s->pcs.begin() + static_cast<long>(drop));
}

bool HeapProfileData::readAll(std::string* err) {
    m_endNs = scalar(m_db, "SELECT end_ns FROM session");
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(
        m_db, "SELECT id, path, coalesce(build_id, ''), start, end FROM prof_modules ORDER BY id",
        -1, &st, nullptr);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        m_modules.push_back(ProfileModule{reinterpret_cast<const char*>(sqlite3_column_text(st, 1)),
                                          reinterpret_cast<const char*>(sqlite3_column_text(st, 2)),
                                          static_cast<uint64_t>(sqlite3_column_int64(st, 3)),
                                          static_cast<uint64_t>(sqlite3_column_int64(st, 4))});
        m_moduleIndex[sqlite3_column_int64(st, 0)] = int64_t(m_modules.size());
    }
    sqlite3_finalize(st);
    m_moduleRows = m_modules.size();

    auto locations = std::make_shared<LocationTable>();
    sqlite3_prepare_v2(m_db,
                       "SELECT pc, module, function, file, line FROM prof_frames ORDER BY pc, idx",
                       -1, &st, nullptr);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const uint64_t pc = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
        ProfileLocation& loc = (*locations)[pc];
        loc.pc = pc;
        if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
            auto it = m_moduleIndex.find(sqlite3_column_int64(st, 1));
            loc.module = it == m_moduleIndex.end() ? 0 : it->second;
        }
        const char* fn = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
        const char* file = reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
        loc.frames.push_back(
            ProfileFrame{fn ? fn : "", file ? file : "", sqlite3_column_int(st, 4)});
        m_frameRows++;
    }
    sqlite3_finalize(st);
    m_symbolized = m_frameRows > 0;
    m_locations = std::move(locations);

    // Every stack, in id order (its index), then the samples.
    sqlite3_prepare_v2(m_db, "SELECT stack, pc FROM prof_stacks ORDER BY stack, depth", -1, &st,
                       nullptr);
    if (!st) {
        *err = m_path + ": " + sqlite3_errmsg(m_db);
        return false;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const uint64_t id = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
        if (m_stacks.empty() || m_stacks.back().id != id) {
            m_stackIndex[id] = uint32_t(m_stacks.size());
            ProfileStack s;
            s.id = id;
            s.index = uint32_t(m_stacks.size());
            m_stacks.push_back(std::move(s));
        }
        m_stacks.back().pcs.push_back(static_cast<uint64_t>(sqlite3_column_int64(st, 1)));
    }
    sqlite3_finalize(st);
    bool newStacks = false;
    if (!readSamples(err, &newStacks, false)) return false;
    // Frames of every address: trimmed of the allocator's own, then named by address where the
    // session has no symbols (a copy: windows already handed out keep the table they had).
    auto named = std::make_shared<LocationTable>(*m_locations);
    m_locations = named;
    for (ProfileStack& s : m_stacks) {
        trimAllocatorFrames(&s);
        for (uint64_t pc : s.pcs) named->try_emplace(pc, ProfileLocation{pc, 0, {}});
    }
    for (auto& [pc, loc] : *named) {
        if (loc.frames.empty()) loc.frames.push_back(ProfileFrame{});
        for (ProfileFrame& f : loc.frames)
            if (f.function.empty()) {
                char buf[32];
                std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(pc));
                f.function = buf;
            }
    }
    m_stacksVersion++;
    return true;
}

// The samples after m_lastId, folded into m_allocs: a free closes the allocation live at its
// address (an allocation at an address still live closes the one before: its free was lost).
// A stack not seen yet is read (a live recording's new stacks) and named by address.
bool HeapProfileData::readSamples(std::string* err, bool* newStacks, bool finishStacks) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(m_db,
                       "SELECT id, kind, t_ns, addr, bytes, stack, rate FROM prof_samples WHERE id "
                       "> ? ORDER BY id",
                       -1, &st, nullptr);
    if (!st) {
        *err = m_path + ": " + sqlite3_errmsg(m_db);
        return false;
    }
    sqlite3_bind_int64(st, 1, m_lastId);
    std::shared_ptr<LocationTable>
        grown;  // a copy of m_locations, if new stacks bring new addresses
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        m_lastId = sqlite3_column_int64(st, 0);
        m_sampleRows++;
        const int kind = sqlite3_column_int(st, 1);
        const int64_t t = sqlite3_column_int64(st, 2);
        const uint64_t addr = static_cast<uint64_t>(sqlite3_column_int64(st, 3));
        if (kind != 1) {
            auto it = m_live.find(addr);
            if (it == m_live.end()) continue;
            m_allocs[it->second].freeT = t;
            m_live.erase(it);
            continue;
        }
        const uint64_t id = static_cast<uint64_t>(sqlite3_column_int64(st, 5));
        auto si = m_stackIndex.find(id);
        if (si == m_stackIndex.end()) {
            ProfileStack s;
            s.id = id;
            s.index = uint32_t(m_stacks.size());
            readStackPcs(id, &s.pcs);
            if (finishStacks) {  // (readAll trims and names every stack at its end)
                trimAllocatorFrames(&s);
                for (uint64_t pc : s.pcs)
                    if (!m_locations->count(pc)) {
                        if (!grown) grown = std::make_shared<LocationTable>(*m_locations);
                        char buf[32];
                        std::snprintf(buf, sizeof buf, "0x%llx",
                                      static_cast<unsigned long long>(pc));
                        grown->try_emplace(pc, ProfileLocation{pc, 0, {ProfileFrame{buf, "", 0}}});
                    }
            }
            si = m_stackIndex.emplace(id, s.index).first;
            m_stacks.push_back(std::move(s));
            *newStacks = true;
        }
        Alloc a;
        a.t = t;
        a.addr = addr;
        a.bytes = static_cast<uint64_t>(sqlite3_column_int64(st, 4));
        a.rate = sqlite3_column_int64(st, 6);
        a.stack = si->second;
        auto [it, fresh] = m_live.try_emplace(addr, m_allocs.size());
        if (!fresh) {
            m_allocs[it->second].freeT = t;
            it->second = m_allocs.size();
        }
        m_allocs.push_back(a);
    }
    if (rc != SQLITE_DONE) *err = m_path + ": heap profile samples: " + sqlite3_errmsg(m_db);
    sqlite3_finalize(st);
    if (grown) m_locations = std::move(grown);
    return rc == SQLITE_DONE;
}

HeapProfile HeapProfileData::window(int64_t fromNs, int64_t atNs, bool ranged, uint64_t addrLo,
                                    uint64_t addrHi) const {
    HeapProfile p;
    p.endNs = m_endNs;
    if (atNs < 0) atNs = INT64_MAX;
    p.fromNs = ranged ? fromNs : 0;
    p.toNs = atNs == INT64_MAX ? p.endNs : atNs;
    p.locations = m_locations;
    p.modules = m_modules;
    p.symbolized = m_symbolized;
    p.samples = m_sampleRows;
    // One pass in recording order: an allocation counts if made in the window, and is in use if
    // its free (if any) came after the window's end.
    struct Counts {
        uint64_t allocObjects = 0, allocBytes = 0, inuseObjects = 0, inuseBytes = 0;
        int64_t rate = 0;
    };
    std::vector<Counts> counts(m_stacks.size());
    for (const Alloc& a : m_allocs) {
        if (a.t > atNs || (ranged && a.t < fromNs) || a.addr < addrLo || a.addr >= addrHi) continue;
        Counts& c = counts[a.stack];
        c.rate = p.rate = a.rate;
        c.allocObjects++;
        c.allocBytes += a.bytes;
        if (a.freeT == INT64_MAX || a.freeT > atNs) {  // never freed, or freed after the window
            c.inuseObjects++;
            c.inuseBytes += a.bytes;
            p.live.push_back(ProfileSample{a.addr, a.bytes, m_stacks[a.stack].id, a.t});
        }
    }
    for (size_t i = 0; i < counts.size(); i++) {
        const Counts& c = counts[i];
        if (c.allocObjects == 0) continue;
        ProfileStack s = m_stacks[i];
        s.allocObjects = c.allocObjects;
        s.allocBytes = c.allocBytes;
        s.inuseObjects = c.inuseObjects;
        s.inuseBytes = c.inuseBytes;
        s.rate = c.rate;
        p.stacks.push_back(std::move(s));
    }
    std::sort(p.live.begin(), p.live.end(),
              [](const ProfileSample& a, const ProfileSample& b) { return a.addr < b.addr; });
    return p;
}

bool loadHeapProfile(const std::string& path, int64_t fromNs, int64_t atNs, bool ranged,
                     HeapProfile* out, std::string* err, uint64_t addrLo, uint64_t addrHi) {
    HeapProfileData d;
    if (!d.load(path, err)) return false;
    *out = d.window(fromNs, atNs, ranged, addrLo, addrHi);
    return true;
}

}  // namespace spanscope::session
