// BlockWriter: one block of records as a directory row and a compressed data row (see
// spanscope/detail/block_writer.h).
#include "spanscope/detail/block_writer.h"

#include <algorithm>
#include <climits>

namespace spanscope::session::detail {

BlockWriter::~BlockWriter() {
    sqlite3_finalize(m_dir);
    sqlite3_finalize(m_data);
}

bool BlockWriter::init(sqlite3* db, const std::string& dirTable, const std::string& dataTable) {
    m_db = db;
    const std::string dir =
        "INSERT INTO " + dirTable + "(id, count, t_min, t_max, kinds) VALUES (?,?,?,?,?)";
    const std::string data = "INSERT INTO " + dataTable + "(id, data) VALUES (?,?)";
    if (sqlite3_prepare_v3(db, dir.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &m_dir, nullptr) !=
            SQLITE_OK ||
        sqlite3_prepare_v3(db, data.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &m_data, nullptr) !=
            SQLITE_OK) {
        m_error = "prepare the inserts into " + dirTable + ": " + sqlite3_errmsg(db);
        return false;
    }
    return true;
}

bool BlockWriter::write(int64_t first, const BlockRecord* recs, size_t n) {
    if (n == 0) return true;
    int64_t tMin = INT64_MAX, tMax = INT64_MIN;
    uint64_t kinds = 0;
    for (size_t i = 0; i < n; i++) {
        tMin = std::min(tMin, recs[i].t);
        tMax = std::max(tMax, recs[i].t);
        kinds |= kindBit(static_cast<uint16_t>(recs[i].e.kind));
    }
    if (!m_encoder.encode(recs, n, &m_blob)) {
        m_error = "compress a block: zstd failed";
        return false;
    }
    const int64_t v[] = {first, static_cast<int64_t>(n), tMin, tMax, static_cast<int64_t>(kinds)};
    for (int i = 0; i < 5; i++) sqlite3_bind_int64(m_dir, i + 1, v[i]);
    int rc = sqlite3_step(m_dir);
    sqlite3_reset(m_dir);
    if (rc == SQLITE_DONE) {
        sqlite3_bind_int64(m_data, 1, first);
        sqlite3_bind_blob(m_data, 2, m_blob.data(), static_cast<int>(m_blob.size()), SQLITE_STATIC);
        rc = sqlite3_step(m_data);
        sqlite3_reset(m_data);
    }
    if (rc != SQLITE_DONE) {
        m_error = std::string("write a block: ") + sqlite3_errmsg(m_db);
        return false;
    }
    return true;
}

}  // namespace spanscope::session::detail
