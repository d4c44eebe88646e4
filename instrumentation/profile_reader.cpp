// Reads a session's heap profile (spanscope/profile.h): prof_samples folded per stack over a
// window, the stacks with the allocator's own frames dropped, their symbolized frames, and Go's
// scaleHeapSample.
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "spanscope/profile.h"

namespace spanscope::session {

namespace {

struct Db {
    sqlite3* db = nullptr;
    ~Db() {
        if (db) sqlite3_close(db);
    }
};

bool hasTable(sqlite3* db, const char* name) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &st, nullptr);
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
    static const char* const kEntry[] = {"malloc",         "calloc",   "realloc", "free",      "reallocarray",
                                         "posix_memalign", "memalign", "valloc",  "pvalloc",   "aligned_alloc",
                                         "operator new",   "operator new[]"};
    for (const char* e : kEntry)
        if (f == e || (f.rfind(e, 0) == 0 && f.size() > strlen(e) && f[strlen(e)] == '(')) return true;
    return f.rfind("spanscope::", 0) == 0 || f.find("mallocgc") != std::string::npos;
}

}  // namespace

void scaleHeapSample(uint64_t count, uint64_t bytes, int64_t rate, int64_t* outCount, int64_t* outBytes) {
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
    auto it = locations.find(s.pcs.front());
    if (it == locations.end() || it->second.frames.empty()) return nullptr;
    return &it->second.frames.front();
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
    if (unit.empty() || unit == "s") scale = 1e9;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "us") scale = 1e3;
    else if (unit == "ns") scale = 1;
    else return false;
    *ns = static_cast<int64_t>(v * scale);
    return true;
}

bool loadHeapProfile(const std::string& path, int64_t fromNs, int64_t atNs, bool ranged, HeapProfile* out,
                     std::string* err, uint64_t addrLo, uint64_t addrHi) {
    const bool someAddresses = addrLo != 0 || addrHi != UINT64_MAX;
    Db d;
    if (sqlite3_open_v2(path.c_str(), &d.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        *err = path + ": cannot open (" + sqlite3_errmsg(d.db) + ")";
        return false;
    }
    if (sqlite3_exec(d.db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) != SQLITE_OK ||
        !hasTable(d.db, "session")) {
        *err = path + ": not a spanscope session (" + sqlite3_errmsg(d.db) + ")";
        return false;
    }
    if (!hasTable(d.db, "prof_samples") || !hasTable(d.db, "prof_stacks") || !hasTable(d.db, "prof_frames")) {
        *err = path + ": this session has no heap profile (recorded by a spanscope without one)";
        return false;
    }
    HeapProfile p;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(d.db, "SELECT end_ns FROM session", -1, &st, nullptr);
    if (st && sqlite3_step(st) == SQLITE_ROW) p.endNs = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (atNs < 0) atNs = INT64_MAX;
    p.fromNs = ranged ? fromNs : 0;
    p.toNs = atNs == INT64_MAX ? p.endNs : atNs;

    sqlite3_prepare_v2(d.db, "SELECT path, coalesce(build_id, ''), start, end FROM prof_modules ORDER BY id", -1, &st, nullptr);
    std::unordered_map<int64_t, int64_t> moduleIndex;
    for (int64_t row = 1; st && sqlite3_step(st) == SQLITE_ROW; row++)
        p.modules.push_back(ProfileModule{reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                                          reinterpret_cast<const char*>(sqlite3_column_text(st, 1)),
                                          static_cast<uint64_t>(sqlite3_column_int64(st, 2)),
                                          static_cast<uint64_t>(sqlite3_column_int64(st, 3))});
    sqlite3_finalize(st);
    sqlite3_prepare_v2(d.db, "SELECT id FROM prof_modules ORDER BY id", -1, &st, nullptr);
    for (int64_t row = 1; st && sqlite3_step(st) == SQLITE_ROW; row++) moduleIndex[sqlite3_column_int64(st, 0)] = row;
    sqlite3_finalize(st);

    // Fold the samples: one pass in recording order. A free cancels its allocation's in-use
    // counts (in a range, only allocations made in the range count at all).
    std::unordered_map<uint64_t, ProfileStack> stacks;
    struct Live {
        uint64_t stack, bytes;
        int64_t t;
        bool counted;
    };
    std::unordered_map<uint64_t, Live> live;
    sqlite3_prepare_v2(d.db,
                       "SELECT kind, t_ns, addr, bytes, stack, rate FROM prof_samples WHERE t_ns <= ? AND addr >= ? "
                       "AND addr < ? ORDER BY id",
                       -1, &st, nullptr);
    if (!st) {
        *err = path + ": " + sqlite3_errmsg(d.db);
        return false;
    }
    sqlite3_bind_int64(st, 1, atNs);
    sqlite3_bind_int64(st, 2, static_cast<int64_t>(std::min<uint64_t>(addrLo, INT64_MAX)));
    sqlite3_bind_int64(st, 3, static_cast<int64_t>(std::min<uint64_t>(addrHi, INT64_MAX)));
    while (sqlite3_step(st) == SQLITE_ROW) {
        const int kind = sqlite3_column_int(st, 0);
        const int64_t t = sqlite3_column_int64(st, 1);
        const uint64_t addr = static_cast<uint64_t>(sqlite3_column_int64(st, 2));
        const uint64_t bytes = static_cast<uint64_t>(sqlite3_column_int64(st, 3));
        const uint64_t id = static_cast<uint64_t>(sqlite3_column_int64(st, 4));
        if (kind == 1) {
            const bool counted = !ranged || t >= fromNs;
            live[addr] = Live{id, bytes, t, counted};
            if (!counted) continue;
            ProfileStack& s = stacks[id];
            s.id = id;
            s.rate = p.rate = sqlite3_column_int64(st, 5);
            s.allocObjects++;
            s.allocBytes += bytes;
            s.inuseObjects++;
            s.inuseBytes += bytes;
        } else {
            auto it = live.find(addr);
            if (it == live.end()) continue;
            if (it->second.counted) {
                ProfileStack& s = stacks[it->second.stack];
                s.inuseObjects--;
                s.inuseBytes -= it->second.bytes;
            }
            live.erase(it);
        }
    }
    sqlite3_finalize(st);
    for (const auto& [addr, l] : live)
        if (l.counted) p.live.push_back(ProfileSample{addr, l.bytes, l.stack, l.t});
    std::sort(p.live.begin(), p.live.end(), [](const ProfileSample& a, const ProfileSample& b) { return a.addr < b.addr; });
    sqlite3_prepare_v2(d.db, "SELECT count(*) FROM prof_samples", -1, &st, nullptr);
    if (st && sqlite3_step(st) == SQLITE_ROW) p.samples = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);

    // Frames of every pc (or, for an address range, of its stacks' pcs), then the stacks' pcs.
    std::string stackIds = "[";  // a JSON array for json_each
    if (someAddresses)
        for (const auto& [id, s] : stacks) stackIds += (stackIds.size() > 1 ? "," : "") + std::to_string(id);
    stackIds += "]";
    if (someAddresses) {
        sqlite3_prepare_v2(d.db,
                           "SELECT f.pc, f.module, f.function, f.file, f.line FROM prof_frames f WHERE f.pc IN "
                           "(SELECT s.pc FROM prof_stacks s WHERE s.stack IN (SELECT value FROM json_each(?))) "
                           "ORDER BY f.pc, f.idx",
                           -1, &st, nullptr);
        if (st) sqlite3_bind_text(st, 1, stackIds.c_str(), -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_prepare_v2(d.db, "SELECT pc, module, function, file, line FROM prof_frames ORDER BY pc, idx", -1, &st,
                           nullptr);
    }
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const uint64_t pc = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
        ProfileLocation& loc = p.locations[pc];
        loc.pc = pc;
        if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
            auto it = moduleIndex.find(sqlite3_column_int64(st, 1));
            loc.module = it == moduleIndex.end() ? 0 : it->second;
        }
        const char* fn = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
        const char* file = reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
        loc.frames.push_back(ProfileFrame{fn ? fn : "", file ? file : "", sqlite3_column_int(st, 4)});
        p.symbolized = true;
    }
    sqlite3_finalize(st);
    if (someAddresses) {
        sqlite3_prepare_v2(d.db,
                           "SELECT stack, pc FROM prof_stacks WHERE stack IN (SELECT value FROM json_each(?)) "
                           "ORDER BY stack, depth",
                           -1, &st, nullptr);
        if (st) sqlite3_bind_text(st, 1, stackIds.c_str(), -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_prepare_v2(d.db, "SELECT stack, pc FROM prof_stacks ORDER BY stack, depth", -1, &st, nullptr);
    }
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        auto it = stacks.find(static_cast<uint64_t>(sqlite3_column_int64(st, 0)));
        if (it != stacks.end()) it->second.pcs.push_back(static_cast<uint64_t>(sqlite3_column_int64(st, 1)));
    }
    sqlite3_finalize(st);
    for (auto& [id, s] : stacks) {
        for (uint64_t pc : s.pcs) p.locations.try_emplace(pc, ProfileLocation{pc, 0, {}});
        size_t drop = 0;
        while (drop + 1 < s.pcs.size() && isAllocatorFrame(p.locations[s.pcs[drop]], p.modules)) drop++;
        s.pcs.erase(s.pcs.begin(), s.pcs.begin() + static_cast<long>(drop));
        p.stacks.push_back(std::move(s));
    }
    for (auto& [pc, loc] : p.locations) {
        if (loc.frames.empty()) loc.frames.push_back(ProfileFrame{});
        for (ProfileFrame& f : loc.frames)
            if (f.function.empty()) {
                char buf[32];
                std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(pc));
                f.function = buf;
            }
    }
    *out = std::move(p);
    return true;
}

}  // namespace spanscope::session
