// spanscope-cli sql FILE "SELECT ...": runs read-only SQL on a session with the virtual table
// `events` registered (one row per record, decoded from the event blocks), printing each result
// row as the sqlite3 shell's list mode does (columns separated by '|'). docs/session-format.md,
// section 3, lists example queries.
#include <sqlite3.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "cli.h"

namespace spanscope::cli {

namespace {
void printValue(sqlite3_stmt* st, int col) {
    switch (sqlite3_column_type(st, col)) {
        case SQLITE_NULL:
            break;
        case SQLITE_BLOB:
            std::printf("<blob %d bytes>", sqlite3_column_bytes(st, col));
            break;
        default:
            std::fputs(reinterpret_cast<const char*>(sqlite3_column_text(st, col)), stdout);
    }
}

// Runs every statement of sql; false (with the message printed) at the first error.
bool runStatements(sqlite3* db, const char* sql, bool header) {
    const char* tail = sql;
    while (tail && *tail) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK) {
            std::fprintf(stderr, "spanscope-cli sql: %s\n", sqlite3_errmsg(db));
            return false;
        }
        if (!st) continue;  // a comment or blank
        if (!sqlite3_stmt_readonly(st)) {
            std::fprintf(stderr, "spanscope-cli sql: only reading statements are allowed\n");
            sqlite3_finalize(st);
            return false;
        }
        const int n = sqlite3_column_count(st);
        bool first = true;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (first && header)
                for (int c = 0; c < n; c++)
                    std::printf("%s%s", c ? "|" : "", sqlite3_column_name(st, c));
            if (first && header) std::putchar('\n');
            first = false;
            for (int c = 0; c < n; c++) {
                if (c) std::putchar('|');
                printValue(st, c);
            }
            std::putchar('\n');
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            std::fprintf(stderr, "spanscope-cli sql: %s\n", sqlite3_errmsg(db));
            return false;
        }
    }
    return true;
}
}  // namespace

int sqlCommand(int argc, char** argv) {
    bool header = false;
    const char* file = nullptr;
    const char* sql = nullptr;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
            std::puts(
                "usage: spanscope-cli sql [--header] FILE \"SELECT ...\"\n"
                "Runs read-only SQL on a session and prints the rows (columns separated by '|').\n"
                "The table `events` shows the recorded records one row each "
                "(docs/session-format.md).");
            return 0;
        }
        if (!std::strcmp(argv[i], "--header"))
            header = true;
        else if (!file)
            file = argv[i];
        else if (!sql)
            sql = argv[i];
        else
            return usageError("sql", "too many arguments (quote the SQL)");
    }
    if (!file || !sql) return usageError("sql", "needs FILE and a quoted SQL statement");
    // Opening checks that the file is a session (and not a newer one); the connection the SQL
    // runs on is a separate, read-only one.
    std::string err;
    if (!session::SessionReader::open(file, &err)) {
        std::fprintf(stderr, "spanscope-cli sql: %s\n", err.c_str());
        return 1;
    }
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::fprintf(stderr, "spanscope-cli sql: %s: %s\n", file, sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 2000);
    const bool ok =
        session::registerSessionTables(db) == SQLITE_OK && runStatements(db, sql, header);
    sqlite3_close(db);
    return ok ? 0 : 1;
}

int upgradeCommand(int argc, char** argv) {
    if (argc == 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
        std::puts(
            "usage: spanscope-cli upgrade FILE\n"
            "Converts a session of schema version 1 to 3 (one row per record, or per heap\n"
            "profile sample) to the current version (records and samples in compressed\n"
            "blocks). The file is replaced only when the conversion succeeded.");
        return 0;
    }
    if (argc != 2) return usageError("upgrade", "needs exactly one FILE");
    std::string message;
    const session::UpgradeResult r = session::upgradeSession(argv[1], &message);
    std::fprintf(r == session::UpgradeResult::Failed ? stderr : stdout, "%s%s\n",
                 r == session::UpgradeResult::Failed ? "spanscope-cli upgrade: " : "",
                 message.c_str());
    return r == session::UpgradeResult::Failed ? 1 : 0;
}

}  // namespace spanscope::cli
