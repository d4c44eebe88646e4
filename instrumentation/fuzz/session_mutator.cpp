// Structure-aware session mutations (session_mutator.h). Each picks a part of the schema and
// writes values that the recorder never would: huge, negative, NULL, text, invalid UTF-8, random
// blobs, truncated or lengthened keyframes, missing tables, foreign schema versions.
#include "session_mutator.h"

#include <sqlite3.h>

#include <cstring>
#include <vector>

namespace spanscope::fuzz {

namespace {
// A value a column should never hold, as SQL.
std::string hostileValue(std::mt19937_64& rng) {
    static const char* const kValues[] = {"NULL",
                                          "-1",
                                          "-9223372036854775808",
                                          "9223372036854775807",
                                          "4184997889",
                                          "4294967295",
                                          "65535",
                                          "1e300",
                                          "'text'",
                                          "X'00ff'",
                                          "CAST(X'c3' AS TEXT)",
                                          "0",
                                          "999",
                                          "9999",
                                          "281474976710656",
                                          "-0.5"};
    const size_t n = sizeof kValues / sizeof *kValues;
    if (rng() % 4 == 0) return std::to_string(static_cast<int64_t>(rng()));
    return kValues[rng() % n];
}

std::string randomBlob(std::mt19937_64& rng, size_t n) {
    static const char* hex = "0123456789abcdef";
    std::string s = "X'";
    for (size_t i = 0; i < n; i++) {
        const unsigned b = static_cast<unsigned>(rng() & 0xff);
        s += hex[b >> 4];
        s += hex[b & 15];
    }
    return s + "'";
}

bool exec(sqlite3* db, const std::string& sql) {
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
}

std::string pick(std::mt19937_64& rng, std::initializer_list<const char*> xs) {
    std::vector<const char*> v(xs);
    return v[rng() % v.size()];
}

// One keyframe: a field of one span record set to a hostile value (in place, same size), the blob
// truncated, lengthened or replaced, or its span count changed.
std::string mutateKeyframe(sqlite3* db, std::mt19937_64& rng) {
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db, "SELECT id, data FROM keyframes ORDER BY random() LIMIT 1", -1, &q,
                       nullptr);
    if (!q || sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        return "no keyframe to mutate";
    }
    const int64_t id = sqlite3_column_int64(q, 0);
    const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(q, 1));
    std::vector<unsigned char> blob(p, p + sqlite3_column_bytes(q, 1));
    sqlite3_finalize(q);
    const std::string where = " WHERE id = " + std::to_string(id);
    switch (rng() % 6) {
        case 0: {  // a field of one record: base (0), npages (8), counts, class, state
            if (blob.size() < 24) break;
            static const size_t kOffsets[] = {0, 8, 12, 14, 16, 17, 20};
            const size_t rec = rng() % (blob.size() / 24), off = kOffsets[rng() % 7];
            const size_t width = off == 0 ? 8 : off == 8 || off == 20 ? 4 : off < 16 ? 2 : 1;
            uint64_t v = rng();
            if (rng() % 2) v = off == 8 ? 4184997889u : ~uint64_t{0};
            std::memcpy(&blob[rec * 24 + off], &v, width);
            sqlite3_stmt* u = nullptr;
            sqlite3_prepare_v2(db, ("UPDATE keyframes SET data = ?" + where).c_str(), -1, &u,
                               nullptr);
            sqlite3_bind_blob(u, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
            sqlite3_step(u);
            sqlite3_finalize(u);
            return "keyframe " + std::to_string(id) + ": record " + std::to_string(rec) +
                   " offset " + std::to_string(off) + " = " + std::to_string(v);
        }
        case 1:
            exec(db, "UPDATE keyframes SET data = substr(data, 1, " + std::to_string(rng() % 100) +
                         ")" + where);
            return "keyframe " + std::to_string(id) + " truncated";
        case 2:
            exec(db, "UPDATE keyframes SET data = " + randomBlob(rng, 1 + rng() % 2000) + where);
            return "keyframe " + std::to_string(id) + " random blob";
        case 3:
            exec(db, "UPDATE keyframes SET spans = " + hostileValue(rng) + where);
            return "keyframe " + std::to_string(id) + " span count";
        case 4:
            exec(db, "UPDATE keyframes SET data = " +
                         pick(rng, {"NULL", "'text'", "zeroblob(4800)"}) + where);
            return "keyframe " + std::to_string(id) + " data replaced";
        default:
            exec(db, "UPDATE keyframes SET t_ns = " + hostileValue(rng) +
                         ", last_event_id = " + hostileValue(rng) + where);
            return "keyframe " + std::to_string(id) + " time/last_event_id";
    }
    return "keyframe unchanged";
}
}  // namespace

std::string mutateSession(sqlite3* db, std::mt19937_64& rng) {
    switch (rng() % 9) {
        case 0:
        case 1:
        case 2:
            return mutateKeyframe(db, rng);
        case 3: {
            const std::string col =
                pick(rng, {"format_version", "page_size", "arena_bytes", "end_ns", "events",
                           "dropped", "program", "flags", "start_unix_ns", "exit_code"});
            const std::string v =
                col == "program" ? pick(rng, {"CAST(X'ff fe 80' AS TEXT)", "NULL", "X'00'", "42"})
                                 : hostileValue(rng);
            exec(db, "UPDATE session SET " + col + " = " + v);
            return "session." + col + " = " + v;
        }
        case 4: {
            const std::string t =
                pick(rng, {"events", "event_blocks", "event_block_data", "prof_sample_blocks",
                           "prof_sample_block_data", "prof_stacks", "keyframes", "heap_totals",
                           "class_counters", "gc_cycles", "gc_phases", "size_classes", "argv",
                           "session", "gaps"});
            exec(db, "DROP VIEW IF EXISTS span_events");
            exec(db, "DROP TABLE " + t);
            return "table " + t + " dropped";
        }
        case 5: {
            // Schema 3: the records are zstd blocks (and from 4 the heap profile's samples); damage
            // a block's bytes or its directory row.
            const bool samples =
                rng() % 3 == 0 && exec(db, "SELECT 1 FROM prof_sample_blocks LIMIT 1");
            const std::string dir = samples ? "prof_sample_blocks" : "event_blocks";
            const std::string data = samples ? "prof_sample_block_data" : "event_block_data";
            if (exec(db, "SELECT 1 FROM " + dir + " LIMIT 1")) {
                const std::string where =
                    " WHERE id = (SELECT id FROM " + dir + " ORDER BY random() LIMIT 1)";
                switch (rng() % 4) {
                    case 0: {
                        const std::string at = std::to_string(1 + rng() % 200);
                        const std::string b = randomBlob(rng, 1 + rng() % 16);
                        exec(db, "UPDATE " + data + " SET data = substr(data, 1, " + at + ") || " +
                                     b + " || substr(data, " + at + " + length(" + b + ") + 1)" +
                                     where);
                        return data + " bytes overwritten at " + at;
                    }
                    case 1:
                        exec(db, "UPDATE " + data + " SET data = substr(data, 1, " +
                                     std::to_string(rng() % 64) + ")" + where);
                        return data + " truncated";
                    case 2:
                        exec(db, "UPDATE " + data + " SET data = " +
                                     pick(rng, {"NULL", "'text'", "zeroblob(100000)", "X'01'",
                                                "X'0128b52ffd'"}) +
                                     where);
                        return data + " replaced";
                    default: {
                        const std::string col =
                            pick(rng, {"count", "t_min", "t_max", "kinds", "id"});
                        const std::string v = hostileValue(rng);
                        exec(db, "UPDATE " + dir + " SET " + col + " = " + v + where);
                        return dir + "." + col + " = " + v;
                    }
                }
            }
            const std::string col =
                pick(rng, {"kind", "npages", "t_ns", "addr", "a", "b", "span_class", "flags"});
            const std::string v = hostileValue(rng);
            exec(db, "UPDATE events SET " + col + " = " + v +
                         " WHERE id IN (SELECT id FROM events ORDER BY random() LIMIT " +
                         std::to_string(1 + rng() % 50) + ")");
            return "events." + col + " = " + v;
        }
        case 6: {
            const std::string t =
                pick(rng, {"heap_totals", "class_counters", "gc_cycles", "gc_phases"});
            const std::string col =
                t == "heap_totals" ? pick(rng, {"heap_sys", "heap_released", "heap_alloc", "t_ns"})
                : t == "class_counters" ? pick(rng, {"class", "mallocs", "spans", "t_ns"})
                : t == "gc_cycles"      ? pick(rng, {"start_ns", "end_ns", "cycle", "heap_goal"})
                                        : pick(rng, {"t_ns", "stw_ns", "cycle"});
            const std::string v = hostileValue(rng);
            exec(db, "UPDATE " + t + " SET " + col + " = " + v);
            return t + "." + col + " = " + v;
        }
        case 7: {
            const std::string col = pick(rng, {"size", "npages", "nelems"});
            const std::string v = hostileValue(rng);
            exec(db, "UPDATE size_classes SET " + col + " = " + v + " WHERE class % 3 = 0");
            return "size_classes." + col + " = " + v;
        }
        default: {
            const std::string v = pick(rng, {"0", "3", "999", "-1"});
            exec(db, "PRAGMA user_version = " + v);
            return "user_version = " + v;
        }
    }
}

}  // namespace spanscope::fuzz
