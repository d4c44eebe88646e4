// Reading the heap profile of a session (prof_* tables, docs/session-format.md): the sampled
// allocations aggregated per stack at a moment or over a time range, with their frames, and Go's
// scaling of sampled counts to estimates (scaleHeapSample). Used by 'spanscope-cli top' and
// 'spanscope-cli pprof' and by the viewer's flame graph.
//
// HeapProfileData holds a session's whole profile in memory (read once, then only what a live
// recording appended): each sampled allocation paired with its free, the stacks and their frames.
// A window (HeapProfile: a moment, or a time range) is then one pass over the samples, with no
// SQLite and no hashing; the viewer keeps one per open session, so that moving the cursor only
// re-aggregates. loadHeapProfile is the one-shot form the CLI uses.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct sqlite3;

namespace spanscope::session {

struct ProfileFrame {
    std::string function;  // demangled; "??" if unknown
    std::string file;      // empty if unknown
    int line = 0;
};

struct ProfileLocation {
    uint64_t pc = 0;
    int64_t module = 0;  // index into HeapProfile::modules + 1, or 0
    std::vector<ProfileFrame>
        frames;  // innermost inlined frame first; the last is the real function
};

struct ProfileModule {
    std::string path, buildId;
    uint64_t start = 0, end = 0;
};

struct ProfileStack {
    uint64_t id = 0;
    uint32_t index =
        0;  // its position in HeapProfileData::stacks() (the session's stacks, in order)
    std::vector<uint64_t> pcs;  // innermost first, the allocator's own frames dropped
    // Sampled counts (not scaled): allocations in the window, and those still live at its end.
    uint64_t allocObjects = 0, allocBytes = 0, inuseObjects = 0, inuseBytes = 0;
    int64_t rate = 0;  // MemProfileRate of its samples (the last one's)
};

// One sampled object live at the end of a window (HeapProfile::live): the viewer finds the spans
// that hold a stack's sampled objects from these.
struct ProfileSample {
    uint64_t addr = 0, bytes = 0;
    uint64_t stack = 0;  // ProfileStack::id
    int64_t tNs = 0;     // when it was allocated
};

// Go's scaleHeapSample: the estimated real (count, bytes) behind sampled ones.
void scaleHeapSample(uint64_t count, uint64_t bytes, int64_t rate, int64_t* outCount,
                     int64_t* outBytes);

using LocationTable = std::unordered_map<uint64_t, ProfileLocation>;

struct HeapProfile {
    int64_t fromNs = 0, toNs = 0;      // the window (session time, ns from its start)
    int64_t rate = 0;                  // the sampling rate (the most recent sample's)
    int64_t endNs = 0;                 // the session's end
    std::vector<ProfileStack> stacks;  // stacks with anything in the window
    // pc -> frames; shared by every window of one HeapProfileData (never null once loaded).
    std::shared_ptr<const LocationTable> locations = std::make_shared<LocationTable>();
    std::vector<ProfileModule> modules;
    std::vector<ProfileSample>
        live;                 // the counted samples still live at toNs, ascending by address
    bool symbolized = false;  // prof_frames has rows
    uint64_t samples = 0;     // prof_samples rows in the whole session

    // The innermost non-allocator frame of a stack ("site"), as "function (file:line)".
    const ProfileFrame* leafFrame(const ProfileStack& s) const;
    const ProfileLocation* location(uint64_t pc) const;  // nullptr if unknown
};

// A session's whole heap profile in memory. load() reads it; refresh() reads only the samples and
// stacks a live recording appended since (and everything again if frames or modules changed: a
// recording that ended was symbolized); window() folds it for a moment or a range.
class HeapProfileData {
public:
    HeapProfileData();
    ~HeapProfileData();
    HeapProfileData(const HeapProfileData&) = delete;
    HeapProfileData& operator=(const HeapProfileData&) = delete;

    // False with a reason for a file that is not a session, or a session without a heap profile.
    bool load(const std::string& path, std::string* err);
    // Reads what was committed since load() or the last refresh(). False with a reason on error.
    bool refresh(std::string* err);

    // Like loadHeapProfile's window (see there). Stacks come in index order.
    HeapProfile window(int64_t fromNs, int64_t atNs, bool ranged, uint64_t addrLo = 0,
                       uint64_t addrHi = UINT64_MAX) const;

    // Every stack of the session (counts zero), the allocator's frames dropped; its index is its
    // position. Their frames are in locations().
    const std::vector<ProfileStack>& stacks() const { return m_stacks; }
    const std::shared_ptr<const LocationTable>& locations() const { return m_locations; }
    // Changes whenever stacks() or locations() change (new stacks, symbols, modules), so that a
    // viewer knows when trees built over them must be rebuilt.
    uint64_t stacksVersion() const { return m_stacksVersion; }
    uint64_t samples() const { return m_sampleRows; }  // prof_samples rows read

private:
    struct Alloc {
        int64_t t = 0, freeT = INT64_MAX;  // freeT: when its free was recorded (INT64_MAX: never)
        uint64_t addr = 0, bytes = 0;
        int64_t rate = 0;
        uint32_t stack = 0;  // index into m_stacks
    };
    void reset();
    bool readAll(std::string* err);
    bool readSamples(std::string* err, bool* newStacks, bool finishStacks);
    bool readStackPcs(uint64_t id, std::vector<uint64_t>* pcs);
    void trimAllocatorFrames(ProfileStack* s) const;
    uint64_t versionProbe();

    std::string m_path;
    sqlite3* m_db = nullptr;
    uint64_t m_probe = 0;  // PRAGMA data_version when last read
    int64_t m_endNs = 0;
    int64_t m_lastId = 0;  // the last prof_samples row read
    uint64_t m_sampleRows = 0;
    uint64_t m_frameRows = 0, m_moduleRows = 0;
    bool m_symbolized = false;
    std::vector<Alloc> m_allocs;                  // in recording order
    std::unordered_map<uint64_t, size_t> m_live;  // addr -> m_allocs index, not freed yet
    std::vector<ProfileStack> m_stacks;
    std::unordered_map<uint64_t, uint32_t> m_stackIndex;  // id -> index
    std::shared_ptr<const LocationTable> m_locations;
    std::vector<ProfileModule> m_modules;
    std::unordered_map<int64_t, int64_t> m_moduleIndex;  // prof_modules.id -> modules index + 1
    uint64_t m_stacksVersion = 0;
};

// Window: with ranged false, everything allocated up to atNs (alloc_*) and what is live at atNs
// (inuse_*): Go's heap profile at a moment. With ranged true, what was allocated in [fromNs, atNs]
// and, of that, what is live at atNs. atNs < 0 means the session's end. False with a reason in
// err for a file that is not a session, or a session without a heap profile.
// With an address range [addrLo, addrHi), only the samples of objects inside it count (and only
// their stacks' frames are read): the viewer asks this of one span.
bool loadHeapProfile(const std::string& path, int64_t fromNs, int64_t atNs, bool ranged,
                     HeapProfile* out, std::string* err, uint64_t addrLo = 0,
                     uint64_t addrHi = UINT64_MAX);

// Parses "1.5s", "200ms", "3000000" (ns), "end": session time. False if malformed.
bool parseSessionTime(const std::string& s, int64_t* ns);

}  // namespace spanscope::session
