// BlockWriter: writes records as event blocks (spanscope/detail/event_block.h) into a directory
// table and its data table: the recorder's records into event_blocks and event_block_data, the
// heap profile's samples into prof_sample_blocks and prof_sample_block_data, and the same for
// `spanscope-cli upgrade`. Each block is one directory row (first id, count, time range, kinds
// mask) and one row of compressed columns. docs/session-format.md section 2.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "spanscope/detail/event_block.h"

namespace spanscope::session::detail {

class BlockWriter {
public:
    BlockWriter() = default;
    ~BlockWriter();
    BlockWriter(const BlockWriter&) = delete;
    BlockWriter& operator=(const BlockWriter&) = delete;
    // Prepares the two inserts; false with SQLite's message in error() if a table is missing.
    bool init(sqlite3* db, const std::string& dirTable, const std::string& dataTable);
    // Writes recs[0..n) as one block whose records are ids first, first + 1, ...
    bool write(int64_t first, const BlockRecord* recs, size_t n);
    const std::string& error() const { return m_error; }

private:
    sqlite3* m_db = nullptr;
    sqlite3_stmt *m_dir = nullptr, *m_data = nullptr;
    BlockEncoder m_encoder;
    std::vector<uint8_t> m_blob;
    std::string m_error;
};

}  // namespace spanscope::session::detail
