// StreamDecoder: the incremental decoder of the probe's stream (docs/session-format.md, part 1).
// The recorder feeds it; the fuzz target and the tests drive it directly.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "spanscope/events.h"
#include "spanscope/stream.h"

namespace spanscope {

// Incremental: feed() bytes as they arrive, then call next() until it returns NeedMore.
// Never trusts a length before checking it; every error is a one-line message and sticky.
struct StreamInfo {
    uint32_t version = 0, pageSize = 0, pid = 0, flags = 0;
    uint64_t arenaBytes = 0, startNs = 0, startUnixNs = 0;
    std::vector<stream::ClassEntry> classes;
    std::string program;
    std::vector<std::string> argv;
};

class StreamDecoder {
public:
    enum class Status { NeedMore, Header, Events, Trailer, Error };
    void feed(const void* data, size_t n);
    Status next();
    const StreamInfo& info() const { return m_info; }
    // After Status::Events: the frame's records (valid until the next call to next()).
    std::span<const Event> events() const { return {m_events.data(), m_nEvents}; }
    const stream::Trailer& trailer() const { return m_trailer; }  // after Status::Trailer
    const std::string& error() const { return m_error; }
    bool headerSeen() const { return m_state != State::Prologue; }
    bool ended() const { return m_state == State::Ended; }
    // At end of input: empty if the stream ended with its trailer, else why it is incomplete.
    std::string checkComplete() const;
    bool corrupt() const { return m_state == State::Failed || !m_pendingError.empty(); }
    uint64_t offset() const { return m_consumed; }  // stream bytes decoded so far
    // A program that execs continues the stream with a new segment (a new header, same pid).
    uint32_t segments() const { return m_segments; }
    uint32_t cutSegments() const { return m_cutSegments; }  // segments that ended mid-frame

private:
    enum class State { Prologue, Frames, Ended, Failed };
    Status fail(std::string msg);
    Status resync(std::string why);
    const char* findMagic(size_t from) const;
    size_t available() const { return m_buf.size() - m_pos; }
    std::vector<char> m_buf;
    size_t m_pos = 0;
    uint64_t m_consumed = 0;
    State m_state = State::Prologue;
    StreamInfo m_info;
    std::vector<Event> m_events;  // only grows: resizing would zero what memcpy overwrites
    size_t m_nEvents = 0;
    stream::Trailer m_trailer{};
    std::string m_error;
    std::string m_pendingError;
    uint32_t m_segments = 0, m_cutSegments = 0;
};

}  // namespace spanscope
