// Reading the heap profile of a session (prof_* tables, docs/session-format.md): the sampled
// allocations aggregated per stack at a moment or over a time range, with their frames, and Go's
// scaling of sampled counts to estimates (scaleHeapSample). Used by 'spanscope-cli top' and
// 'spanscope-cli pprof' and by the viewer's flame graph.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace spanscope::session {

struct ProfileFrame {
    std::string function;  // demangled; "??" if unknown
    std::string file;      // empty if unknown
    int line = 0;
};

struct ProfileLocation {
    uint64_t pc = 0;
    int64_t module = 0;              // index into HeapProfile::modules + 1, or 0
    std::vector<ProfileFrame> frames;  // innermost inlined frame first; the last is the real function
};

struct ProfileModule {
    std::string path, buildId;
    uint64_t start = 0, end = 0;
};

struct ProfileStack {
    uint64_t id = 0;
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
void scaleHeapSample(uint64_t count, uint64_t bytes, int64_t rate, int64_t* outCount, int64_t* outBytes);

struct HeapProfile {
    int64_t fromNs = 0, toNs = 0;  // the window (session time, ns from its start)
    int64_t rate = 0;              // the sampling rate (the most recent sample's)
    int64_t endNs = 0;             // the session's end
    std::vector<ProfileStack> stacks;                        // stacks with anything in the window
    std::unordered_map<uint64_t, ProfileLocation> locations;  // pc -> frames
    std::vector<ProfileModule> modules;
    std::vector<ProfileSample> live;  // the counted samples still live at toNs, ascending by address
    bool symbolized = false;  // prof_frames has rows
    uint64_t samples = 0;     // prof_samples rows in the whole session

    // The innermost non-allocator frame of a stack ("site"), as "function (file:line)".
    const ProfileFrame* leafFrame(const ProfileStack& s) const;
};

// Window: with ranged false, everything allocated up to atNs (alloc_*) and what is live at atNs
// (inuse_*): Go's heap profile at a moment. With ranged true, what was allocated in [fromNs, atNs]
// and, of that, what is live at atNs. atNs < 0 means the session's end. False with a reason in
// err for a file that is not a session, or a session without a heap profile.
// With an address range [addrLo, addrHi), only the samples of objects inside it count (and only
// their stacks' frames are read): the viewer asks this of one span.
bool loadHeapProfile(const std::string& path, int64_t fromNs, int64_t atNs, bool ranged, HeapProfile* out,
                     std::string* err, uint64_t addrLo = 0, uint64_t addrHi = UINT64_MAX);

// Parses "1.5s", "200ms", "3000000" (ns), "end": session time. False if malformed.
bool parseSessionTime(const std::string& s, int64_t* ns);

}  // namespace spanscope::session
