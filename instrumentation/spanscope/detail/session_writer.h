// SessionWriter: the SQLite side of the recorder. One connection, prepared statements, explicit
// transactions (the Recorder decides when to commit). See spanscope/detail/schema.h.
#pragma once
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "spanscope/decoder.h"
#include "spanscope/detail/block_writer.h"
#include "spanscope/detail/profile_store.h"
#include "spanscope/recorder.h"
#include "spanscope/session_types.h"

namespace spanscope::session {

class SessionWriter {
public:
    ~SessionWriter();
    bool create(const std::string& path, bool overwrite, std::string* err);
    bool begin();
    bool commit();
    void rollback();
    bool diskFull() const {
        return m_diskFull;
    }  // the last failure was SQLITE_FULL, ENOSPC or EFBIG
    bool writeHeader(const StreamInfo& info);
    bool updateProgram(const StreamInfo& info);  // a later segment (the program exec'd)
    bool insertArgv(const StreamInfo& info);
    bool insertEvent(int64_t t, const Event& e);  // buffered into a block: see flushEvents()
    bool flushEvents();  // writes the open block; commit() and insertKeyframe() call it
    bool insertClassCounters(int64_t t, const Event& e);
    // One of a heap sample's three records (HeapTotals, HeapSizes, HeapCounts: each sets its own
    // columns of the sample's heap_totals row, whichever comes first creates it).
    bool insertHeapSample(int64_t t, const Event& e);
    bool sweepCycle(int64_t t, const Event& e);
    bool gcPhase(int64_t t, const Event& e);
    bool insertKeyframe(int64_t t, const std::vector<SpanRecord>& spans);
    // The gaps table: a gap is written when it opens (to_ns = from_ns, resynced 0: it runs to the
    // end of the session as far as a reader can tell) and updated when it closes.
    bool openGap(int64_t fromNs);
    bool closeGap(int64_t toNs, int64_t dropped, bool resynced);
    bool progress(int64_t endNs, int64_t events, int64_t dropped);
    // Bounded recording: bytes in use (the file's pages less its free list), the time span of
    // the keyframes, and dropping everything before the latest keyframe at or before t (whole
    // blocks, older keyframes and heap samples; the last heap sample and each class's last counters
    // before t are kept, so the heap is known where the kept part begins). False on error.
    bool usedBytes(uint64_t* bytes);
    bool keyframeSpan(int64_t* first, int64_t* last);
    bool dropBefore(int64_t t);
    bool end(const EndInfo& end, const std::string& streamStatus, const std::string& streamError);
    // A finished session goes back to a rollback journal, so that a read-only reader (read-only
    // directory or media) opens it without a -shm file. Harmless if a reader still has it open
    // (the switch then fails and the session stays in WAL mode).
    void leaveWal();
    int64_t lastEventId() const { return m_nextEventId - 1; }
    const std::string& error() const { return m_error; }
    // The heap profile's tables (profile_store.cpp), on this connection; null until created.
    ProfileStore* profile() const { return m_profile.get(); }
    bool createProfile();

private:
    std::unique_ptr<ProfileStore> m_profile;
    bool exec(const char* sql);
    sqlite3_stmt* prepare(const char* sql);
    bool step(sqlite3_stmt* st);
    bool fail(const char* what);
    sqlite3* m_db = nullptr;
    sqlite3_stmt *m_insClass = nullptr, *m_insHeap = nullptr, *m_insHeapSizes = nullptr,
                 *m_insHeapCounts = nullptr, *m_insCycle = nullptr, *m_endCycle = nullptr,
                 *m_insPhase = nullptr, *m_cycleStw = nullptr, *m_insKeyframe = nullptr,
                 *m_progress = nullptr;
    std::vector<detail::BlockRecord> m_block;  // the open block's records
    detail::BlockWriter m_blocks;
    std::vector<uint8_t> m_keyframeBlob;
    int64_t m_nextEventId = 1, m_committedEventId = 1;  // ids: 1, 2, ... in recording order
    int64_t m_sweepCycles = 0;
    int64_t m_openGap = 0;  // rowid of the open gap
    std::string m_error;
    bool m_diskFull = false;
};

}  // namespace spanscope::session
