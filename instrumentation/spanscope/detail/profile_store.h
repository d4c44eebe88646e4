// The heap profile in a session (recorder side): the profiler's records (ProfAlloc, ProfFree,
// ProfStack) and the probe's loaded objects (kModule, kModuleName) become the samples (one
// allocation or free each, its stack and bytes resolved, in blocks like the records: the
// virtual table `prof_samples` shows them as rows) and relational rows (prof_stacks,
// prof_modules), and at the end of the recording the stacks' return
// addresses are symbolized into prof_frames with elfutils' libdw (profile_symbolize.cpp), so that
// the session file alone can be browsed elsewhere. Tables: docs/session-format.md.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "spanscope/detail/block_writer.h"
#include "spanscope/events.h"

namespace spanscope::session {

// The tables, created with every session (empty when nothing was sampled).
extern const char* const kProfileSchemaSql;

class ProfileStore {
public:
    ~ProfileStore();
    bool init(sqlite3* db);
    // True if e is one of the profile's records (it is then consumed); ok is false on a write
    // error.
    bool apply(int64_t t, uint32_t segment, const Event& e, bool* ok);
    // A resync rundown (after dropped records) re-sends every live sampled object, read at
    // walkNs (stream time): objects this store holds live that were neither re-sent nor freed
    // meanwhile lost their ProfFree to a drop; they are freed at the walk. finishResync() runs
    // at the first record after walkNs (apply calls it) or at the end.
    void beginResync(uint64_t walkNs, int64_t walkT);
    bool finishResync();
    // Writes the samples held since the last block as one block: before each commit, so that a
    // reader following a live recording sees every committed sample.
    bool flush();
    // The writer committed (the samples flushed so far are in the file) or rolled back (the
    // samples since the last commit are gone: their ids are given again).
    void committed();
    void rollback();
    // Symbolizes every return address not yet in prof_frames. Returns the number of addresses.
    size_t symbolize(std::string* err);
    const std::string& error() const { return m_error; }

private:
    struct PendingModule {
        int64_t t;
        uint64_t lo, hi, bias, len;
        std::string path;
    };
    struct Live {
        uint64_t stack, bytes;
    };
    bool sample(int64_t t, int kind, const Event& e, uint64_t stack, uint64_t bytes, uint64_t rate);
    bool stackChunk(uint64_t key, const Event& e);
    bool moduleName(uint32_t segment, const Event& e);
    bool fail(const char* what);

    sqlite3* m_db = nullptr;
    sqlite3_stmt *m_insStack = nullptr, *m_insModule = nullptr;
    detail::BlockWriter m_blocks;
    std::vector<detail::BlockRecord> m_block;  // the open block's samples
    int64_t m_nextId = 1, m_committedId = 1;   // sample ids: 1, 2, ... in recording order
    std::unordered_map<uint64_t, std::vector<uint64_t>> m_building;  // stack key -> frames so far
    std::unordered_set<uint64_t> m_stacksDone;
    std::unordered_map<uint64_t, PendingModule> m_modules;  // segment << 32 | number
    std::unordered_set<std::string> m_modulesDone;          // path @ start
    std::unordered_map<uint64_t, Live> m_live;              // sampled objects live, by address
    std::string m_error;
    std::unordered_set<uint64_t> m_unseen;  // during a resync: live objects not re-sent yet
    bool m_resyncing = false;
    uint64_t m_resyncNs = 0;
    int64_t m_resyncT = 0;
};

}  // namespace spanscope::session
