// Recorder: decodes the probe's stream and records it into a SQLite session file, with keyframes
// and timely commits (recorder.cpp; the SQL side is detail/session_writer.h).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "spanscope/decoder.h"
#include "spanscope/session_types.h"

namespace spanscope::session {

struct RecorderOptions {
    std::string path;
    bool overwrite = false;                // replace an existing file (else it is an error)
    int commitIntervalMs = 100;            // a live reader sees data at most this old
    uint32_t keyframeEveryEvents = 65536;  // a keyframe after this many span events (at least
                                           // 8 per span in the table) ...
    int64_t keyframeEveryNs = 500000000;   // ... or this long, whichever comes first ...
    // ... or after this many records of any kind (at least 32 per span in the table), so that a
    // seek's scan stays bounded when the records are not span events (a GC-heavy program's
    // MarkAssist pairs): the one rule that bounds the records between two keyframes.
    uint32_t keyframeEveryRecords = 1u << 20;
    // Bounded recording: keep only the most recent part, dropping whole blocks and the keyframes
    // before them (so what remains still seeks). 0: unbounded.
    uint64_t maxBytes = 0;      // the file's used pages stay under about this many bytes
    int64_t keepNs = 0;         // records older than this (relative to the newest) are dropped
    int trimIntervalMs = 1000;  // how often (at a commit) the bounds are checked
};

// "20M", "2G", "512K", "1000" (bytes) -> bytes; "30s", "10m", "2h", "500ms" -> ns. False if bad.
bool parseSize(const std::string& s, uint64_t* bytes);
bool parseDuration(const std::string& s, int64_t* ns);

struct EndInfo {
    std::string reason;  // exit, signal, detached, recorder-stopped, stream-error
    int exitCode = -1;
    int signal = 0;
};

struct RecorderStats {
    uint64_t events = 0, frames = 0, bytes = 0, commits = 0, keyframes = 0;
    // Records that arrived older than a watermark already applied (written after newer ones; the
    // probe holds its watermark for a thread between clock read and publish for up to a second).
    uint64_t late = 0;
    // Records the probe dropped rather than make the program wait (its running count), and the
    // gaps they made in the session (docs/session-format.md, the gaps table).
    uint64_t dropped = 0, gaps = 0;
};

class SessionWriter;
class SpanModel;

// Decodes a stream and records it. Lifecycle (checked by the methods):
//
//    open() --> [Recording] --feed()/pump()--> [Recording] --finish()--> [Finished]
//                    |  corrupt stream: error(), feed() returns false; finish() still records
//                    |  how it ended, and everything committed stays.
class Recorder {
public:
    Recorder();
    ~Recorder();
    bool open(const RecorderOptions& opts, std::string* err);
    // Decodes and buffers; commits when commitIntervalMs has passed. False on a stream or disk
    // error.
    bool feed(const void* data, size_t n);
    // Reads fd until end of file, *stop, or an error; polls so that commits stay on time.
    bool pump(int fd, const std::atomic<bool>* stop = nullptr);
    bool commit();
    // Final commit and the end of the session. The stream status comes from the decoder.
    bool finish(const EndInfo& end);
    const std::string& error() const { return m_error; }
    bool headerSeen() const { return m_decoder.headerSeen(); }
    // The session could not be written (disk full, I/O error): what was committed before stays.
    bool writeFailedOnDisk() const { return m_writeFailed; }
    const StreamDecoder& decoder() const { return m_decoder; }
    RecorderStats stats() const {
        RecorderStats s = m_stats;
        s.dropped = m_droppedSeen;
        return s;
    }

private:
    bool handleEvents(std::span<const Event> events);
    bool releasePending(uint64_t upTo);
    bool applyEvents(const Event* events, size_t n);
    bool maybeKeyframe(bool force);
    bool trackGap(int64_t t, const Event& e);
    bool writeFailed();
    bool maybeTrim();
    StreamDecoder m_decoder;
    std::unique_ptr<SessionWriter> m_writer;
    std::unique_ptr<SpanModel> m_model;
    RecorderOptions m_opts;
    std::string m_error;
    RecorderStats m_stats;
    int64_t m_lastCommitMono = 0;
    int64_t m_lastTrimMono = 0;
    uint64_t m_spanEventsSinceKeyframe = 0;
    int64_t m_lastKeyframeT = 0;
    int64_t m_lastKeyframeId = 0;  // the last record id the latest keyframe covers
    int64_t m_lastT = 0;
    uint64_t m_droppedSeen = 0;
    // The open gap (records dropped, no resync rundown since): see the gaps table.
    bool m_gapOpen = false, m_resyncRundown = false;
    int64_t m_gapFrom = 0, m_gapLastDrop = 0, m_rundownBeginT = -1;
    uint64_t m_gapDroppedBefore = 0;
    uint64_t m_baseNs = 0;
    bool m_inTx = false, m_finished = false, m_streamFailed = false, m_dirty = false,
         m_writeFailed = false;
    std::vector<Event> m_pending;  // held until a watermark covers them
    bool m_watermarks = false;     // the stream sends watermarks
    uint64_t m_releasedUpTo = 0;   // the highest watermark applied
};

}  // namespace spanscope::session
