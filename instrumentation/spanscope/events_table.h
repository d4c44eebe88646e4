// The virtual table `events` (events_vtab.cpp): registers it on a SQLite connection so that
// `SELECT ... FROM events` reads a session's event blocks one row per record. The sqlite3 shell
// gets the same table from the loadable extension (`.load
// build/instrumentation/libspanscope_sqlite`).
#pragma once

struct sqlite3;

namespace spanscope::session {
namespace detail {
int registerEventsModule(sqlite3* db);
}
// SQLITE_OK, or SQLite's error code.
inline int registerEventsTable(sqlite3* db) {
    return detail::registerEventsModule(db);
}
}  // namespace spanscope::session
