// The one table of record kinds: the allocator's (allocator/spanscope/event_kinds.h) and the
// probe's (stream.h's SPANSCOPE_PROBE_KINDS) joined, in order of number. Every list of kinds is
// derived from it: the session's event_kinds rows, kind names, the span_events view's filter, the
// presenter's stepping, the narration's default sentence; tests check docs/session-format.md's
// table of kinds against it, both ways. No SQLite, no Qt: the probe may include it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "spanscope/stream.h"

namespace spanscope::kinds {

struct KindInfo {
    uint16_t kind;
    const char* name;    // "SpanAlloc": the event_kinds row, the docs table
    uint32_t flags;      // KindFlag bits: how the recorder, model and presenter treat it
    const char* fields;  // the payload's fields and their units (docs/session-format.md's table)
    const char* says;    // one sentence: what a record of this kind says (narration's default)
};

inline constexpr KindInfo kTable[] = {
#define SPANSCOPE_KIND_ROW(name, number, flags, fields, says) {number, #name, flags, fields, says},
    SPANSCOPE_ALLOCATOR_KINDS(SPANSCOPE_KIND_ROW) SPANSCOPE_PROBE_KINDS(SPANSCOPE_KIND_ROW)
#undef SPANSCOPE_KIND_ROW
};

constexpr bool tableSorted() {
    for (size_t i = 1; i < sizeof kTable / sizeof *kTable; i++)
        if (kTable[i].kind <= kTable[i - 1].kind) return false;
    return true;
}
static_assert(tableSorted(), "kinds are listed once each, in order of number");

// The row of a kind, or nullptr for a kind this build does not know.
constexpr const KindInfo* find(uint16_t kind) {
    for (const KindInfo& k : kTable)
        if (k.kind == kind) return &k;
    return nullptr;
}
constexpr bool has(uint16_t kind, uint32_t flag) {
    const KindInfo* k = find(kind);
    return k && (k->flags & flag);
}

// Every kind with any of these flags, in order of number.
inline std::vector<uint16_t> withFlag(uint32_t flag) {
    std::vector<uint16_t> out;
    for (const KindInfo& k : kTable)
        if (k.flags & flag) out.push_back(k.kind);
    return out;
}
// The same as an SQL list: "1,2,3" (for `kind IN (...)`).
inline std::string sqlList(uint32_t flag) {
    std::string out;
    for (uint16_t k : withFlag(flag)) out += (out.empty() ? "" : ",") + std::to_string(k);
    return out;
}

}  // namespace spanscope::kinds
