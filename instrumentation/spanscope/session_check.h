// Session validation: what `spanscope-cli check FILE` prints, and what SessionReader checks when it
// opens a session (the quick part) and whenever it loads a keyframe (plausibleSpan). A damaged
// part is named in a warning and the rest of the session stays browsable; only a file that is not
// a session at all (or from a newer schema, or without its session row) is an error.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "spanscope/session_types.h"

struct sqlite3;

namespace spanscope::session {

struct SessionProblem {
    bool fatal = false;  // the session cannot be opened at all
    std::string part;    // "session", "keyframes", "heap_totals", "events", ...
    std::string what;    // one line
};

// Addresses a heap can use (the allocator's address space is 48 bits), and the largest span a
// session is believed to hold (16 TiB: more than any machine this runs on can map).
inline constexpr uint64_t kMaxAddress = uint64_t{1} << 48;
inline constexpr uint64_t kMaxSpanBytes = uint64_t{1} << 44;

// A span record that a heap could hold: page-aligned, inside the address space, one of the span
// states, a size class the session has. Anything else is damage (a keyframe, a replayed record).
bool plausibleSpan(const SpanRecord& r, uint64_t pageSize, size_t numClasses);

// The quick checks, on an open connection: schema version, required tables, the session row's
// types and ranges. Run by SessionReader::open.
std::vector<SessionProblem> checkStructure(sqlite3* db);

// Everything: the quick checks, then every keyframe (sizes against the session's own header
// before anything is allocated, each span record), the derived tables' value ranges, and every
// record through the reader's API (kinds, times, page counts). For `spanscope-cli check`.
std::vector<SessionProblem> checkSession(const std::string& path);

// Opens a session for reading without creating anything beside it: read-write only where a
// killed recorder's WAL may need recovering (the file and its directory writable), else
// read-only, else immutable (read-only media). Returns SQLITE_OK or the last error.
int openSessionDb(const std::string& path, sqlite3** db);

}  // namespace spanscope::session
