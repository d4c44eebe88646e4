// Symbolizing a session's heap profile (issue 14's budget: 100k distinct stacks in under 10 s):
// copies the session, forgets its symbols (prof_frames) and times ProfileStore::symbolize, which
// the recorder runs when a recording ends. Prints stacks, distinct addresses and seconds.
//   prof_symbolize_bench SESSION
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "spanscope/detail/profile_store.h"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: prof_symbolize_bench SESSION\n");
        return 2;
    }
    const std::string copy = std::string(argv[1]) + ".symbench";
    std::error_code ec;
    std::filesystem::copy_file(argv[1], copy, std::filesystem::copy_options::overwrite_existing,
                               ec);
    if (ec) {
        std::fprintf(stderr, "prof_symbolize_bench: %s: %s\n", argv[1], ec.message().c_str());
        return 1;
    }
    sqlite3* db = nullptr;
    if (sqlite3_open(copy.c_str(), &db) != SQLITE_OK ||
        sqlite3_exec(db, "DELETE FROM prof_frames", nullptr, nullptr, nullptr) != SQLITE_OK) {
        std::fprintf(stderr, "prof_symbolize_bench: %s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    long long stacks = 0;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(DISTINCT stack) FROM prof_stacks", -1, &st, nullptr);
    if (sqlite3_step(st) == SQLITE_ROW) stacks = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    spanscope::session::ProfileStore store;
    if (!store.init(db)) {
        std::fprintf(stderr, "prof_symbolize_bench: %s\n", store.error().c_str());
        return 1;
    }
    const auto t0 = std::chrono::steady_clock::now();
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    std::string why;
    const size_t pcs = store.symbolize(&why);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("stacks=%lld addresses=%zu seconds=%.3f%s%s\n", stacks, pcs, s,
                why.empty() ? "" : " warning=", why.c_str());
    sqlite3_close(db);
    std::filesystem::remove(copy, ec);
    return 0;
}
