// The virtual tables `events` and `prof_samples` (events_vtab.cpp): registers them on a SQLite
// connection so that `SELECT ... FROM events` reads a session's event blocks one row per record,
// and `SELECT ... FROM prof_samples` its heap profile's sample blocks one row per sample. The
// sqlite3 shell gets the same tables from the loadable extension (`.load
// build/instrumentation/libspanscope_sqlite`).
#pragma once

struct sqlite3;

namespace spanscope::session {
namespace detail {
int registerSessionModules(sqlite3* db);
}
// SQLITE_OK, or SQLite's error code.
inline int registerSessionTables(sqlite3* db) {
    return detail::registerSessionModules(db);
}
}  // namespace spanscope::session
