// Structure-aware mutations of a session file, for the session fuzzer (tests/ui/session_fuzz.cpp)
// and its regression tests: each mutation damages one part the way a bad disk, a foreign tool or
// a hostile file would (a keyframe blob's bytes or sizes, a table's values or types, a missing
// table, the schema version), and says what it did.
#pragma once
#include <cstdint>
#include <random>
#include <string>

struct sqlite3;

namespace spanscope::fuzz {

// Applies one random mutation to the open session db; returns a one-line description of it.
std::string mutateSession(sqlite3* db, std::mt19937_64& rng);

}  // namespace spanscope::fuzz
