// Recorder: stream bytes -> decoded frames -> SQLite rows, keyframes and timely commits.
// See spanscope/session.h for the lifecycle, docs/session-format.md for what goes where.
#include "spanscope/recorder.h"

#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "spanscope/detail/session_writer.h"
#include "spanscope/detail/span_model.h"

namespace spanscope::session {

namespace {
int64_t monoNs() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}
}  // namespace

Recorder::Recorder() = default;
Recorder::~Recorder() {
    if (m_writer && !m_finished) finish(EndInfo{"recorder-stopped"});
}

bool Recorder::open(const RecorderOptions& opts, std::string* err) {
    m_opts = opts;
    m_writer = std::make_unique<SessionWriter>();
    m_model = std::make_unique<SpanModel>();
    if (!m_writer->create(opts.path, opts.overwrite, err)) {
        m_error = m_writer->error();
        m_writer.reset();
        return false;
    }
    if (!m_writer->createProfile()) {
        m_error = m_writer->error();
        if (err) *err = m_error;
        m_writer.reset();
        return false;
    }
    m_lastCommitMono = monoNs();
    return true;
}

bool Recorder::feed(const void* data, size_t n) {
    if (!m_writer || m_finished || m_writeFailed) return false;
    if (m_streamFailed) return false;
    m_decoder.feed(data, n);
    m_stats.bytes += n;
    for (;;) {
        StreamDecoder::Status s = m_decoder.next();
        if (s == StreamDecoder::Status::NeedMore) break;
        if (!m_inTx) {
            if (!m_writer->begin()) return writeFailed();
            m_inTx = true;
        }
        if (s == StreamDecoder::Status::Error) {
            m_streamFailed = true;
            m_error = m_decoder.error();
            commit();
            return false;
        }
        if (s == StreamDecoder::Status::Header) {
            // Later segments: the program exec'd (same pid, same clock): keep the time base,
            // name the session after the newest image.
            const bool first = m_decoder.segments() == 1;
            if (first) m_baseNs = m_decoder.info().startNs;
            if (!(first ? m_writer->writeHeader(m_decoder.info())
                        : m_writer->updateProgram(m_decoder.info())))
                return writeFailed();
            m_dirty = true;
            if (!commit()) return false;  // the session row is visible at once
            continue;
        }
        if (s == StreamDecoder::Status::Trailer) {
            if (!releasePending(UINT64_MAX)) return false;
            m_dirty = true;
            continue;
        }
        m_stats.frames++;
        if (!handleEvents(m_decoder.events())) return false;
    }
    if (m_inTx && monoNs() - m_lastCommitMono >= int64_t{m_opts.commitIntervalMs} * 1000000)
        return commit();
    return true;
}

// Records arrive grouped by thread, a drain pass at a time, and a thread's records can reach the
// stream a pass late. The probe's Watermark records say up to when everything has arrived: the
// recorder holds records back until then and writes them in time order (stable, so a rundown's
// records, which share one timestamp, keep their order). A stream without watermarks is written a
// frame at a time, each frame sorted.
bool Recorder::handleEvents(std::span<const Event> events) {
    uint64_t watermark = 0;
    for (const Event& e : events)
        if (static_cast<uint16_t>(e.kind) == stream::kWatermark && e.a > watermark) watermark = e.a;
    if (watermark) m_watermarks = true;
    if (!m_watermarks) {
        m_pending.insert(m_pending.end(), events.begin(), events.end());
        return releasePending(UINT64_MAX);
    }
    for (const Event& e : events)
        if (static_cast<uint16_t>(e.kind) != stream::kWatermark) {
            m_stats.late += e.timeNs < m_releasedUpTo;
            m_pending.push_back(e);
        }
    if (watermark > m_releasedUpTo) m_releasedUpTo = watermark;
    return watermark ? releasePending(watermark) : true;
}

// Writes the held records older than upTo, in time order.
bool Recorder::releasePending(uint64_t upTo) {
    auto byTime = [](const Event& x, const Event& y) { return x.timeNs < y.timeNs; };
    if (!std::is_sorted(m_pending.begin(), m_pending.end(), byTime))
        std::stable_sort(m_pending.begin(), m_pending.end(), byTime);
    auto end = upTo == UINT64_MAX
                   ? m_pending.end()
                   : std::partition_point(m_pending.begin(), m_pending.end(),
                                          [upTo](const Event& e) { return e.timeNs < upTo; });
    const bool ok = applyEvents(m_pending.data(), static_cast<size_t>(end - m_pending.begin()));
    m_pending.erase(m_pending.begin(), end);
    return ok && maybeKeyframe(false);
}

bool Recorder::applyEvents(const Event* events, size_t n) {
    const uint64_t start = m_baseNs;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const Event& e = events[i];
        const int64_t t = static_cast<int64_t>(e.timeNs - start);
        if (t > m_lastT) m_lastT = t;
        switch (static_cast<uint16_t>(e.kind)) {
            case static_cast<uint16_t>(EventKind::ClassCounters):
                ok = m_writer->insertClassCounters(t, e);
                break;
            case stream::kHeapSizes:  // a heap sample's three records, each written alone
            case stream::kHeapCounts:
            case static_cast<uint16_t>(EventKind::HeapTotals):
                ok = m_writer->insertHeapSample(t, e);
                break;
            case static_cast<uint16_t>(EventKind::SweepCycle):
                ok = m_writer->sweepCycle(t, e) && m_writer->insertEvent(t, e);
                break;
            case static_cast<uint16_t>(EventKind::GCPhase):
                ok = m_writer->gcPhase(t, e) && m_writer->insertEvent(t, e);
                break;
            case stream::kDropped:
                ok = trackGap(t, e) && m_writer->insertEvent(t, e);
                m_droppedSeen = e.a;
                break;
            default:
                if (m_writer->profile()->apply(t, m_decoder.segments(), e,
                                               &ok)) {  // the heap profile's records
                    if (!ok) m_error = m_writer->profile()->error();
                    break;
                }
                ok = m_writer->insertEvent(t, e);
                if (m_model->apply(e)) m_spanEventsSinceKeyframe++;
                if (static_cast<uint16_t>(e.kind) == stream::kRundownBegin) {
                    m_rundownBeginT = t;
                    m_resyncRundown = e.b == 1;
                }
                if (static_cast<uint16_t>(e.kind) == stream::kRundownEnd && m_resyncRundown &&
                    e.c > start)
                    m_writer->profile()->beginResync(e.c, static_cast<int64_t>(e.c - start));
                if (static_cast<uint16_t>(e.kind) == stream::kRundownEnd)
                    ok = ok && trackGap(t, e) && maybeKeyframe(true);
                break;
        }
        if (!ok) return writeFailed();
        m_stats.events++;
    }
    if (n) m_dirty = true;
    return true;
}

// Gaps: a Dropped record opens one (from the oldest record dropped, its d) unless one is open; a
// rundown that began after the gap's last Dropped record closes it (its SpanState records rebuilt
// the span table). A gap still open when the session ends is written by finish().
bool Recorder::trackGap(int64_t t, const Event& e) {
    if (static_cast<uint16_t>(e.kind) == stream::kDropped) {
        if (!m_gapOpen) {
            m_gapOpen = true;
            const int64_t first = e.d >= m_baseNs ? static_cast<int64_t>(e.d - m_baseNs) : t;
            m_gapFrom = std::min(first, t);
            m_gapDroppedBefore = m_droppedSeen;
            m_gapLastDrop = t;
            m_stats.gaps++;
            return m_writer->openGap(m_gapFrom);
        }
        m_gapLastDrop = t;
        return true;
    }
    if (!m_gapOpen || m_rundownBeginT <= m_gapLastDrop) return true;
    m_gapOpen = false;
    return m_writer->closeGap(t, static_cast<int64_t>(m_droppedSeen - m_gapDroppedBefore), true);
}

bool Recorder::maybeKeyframe(bool force) {
    const uint64_t records = static_cast<uint64_t>(m_writer->lastEventId() - m_lastKeyframeId);
    if (!force && !m_spanEventsSinceKeyframe && records == 0) return true;
    // A keyframe costs 24 bytes per span: with a big heap, wait for at least 8 span records per
    // span so that keyframes stay under 3 bytes per span record (churn-1t, 3,400 spans: 1.2), and
    // for 32 records per span when the records are of other kinds (under 0.75 bytes per record).
    // The replay a seek pays is bounded by the same figures.
    const uint64_t size = m_model->size();
    const uint64_t every = std::max<uint64_t>(m_opts.keyframeEveryEvents, 8 * size);
    const uint64_t everyRecords = std::max<uint64_t>(m_opts.keyframeEveryRecords, 32 * size);
    const bool due =
        force || m_spanEventsSinceKeyframe >= every || records >= everyRecords ||
        (m_spanEventsSinceKeyframe && m_lastT - m_lastKeyframeT >= m_opts.keyframeEveryNs);
    if (!due) return true;
    if (!m_writer->insertKeyframe(m_lastT, m_model->snapshot())) return writeFailed();
    m_stats.keyframes++;
    m_spanEventsSinceKeyframe = 0;
    m_lastKeyframeT = m_lastT;
    m_lastKeyframeId = m_writer->lastEventId();
    return true;
}

// A write failed (the disk is full, the file is gone): drop the open batch, keep everything
// committed, and try to say so in the session row (which may fail too: then it reads "recording").
bool Recorder::writeFailed() {
    if (m_writeFailed) return false;
    m_writeFailed = true;
    m_error = m_writer->error();
    const bool full = m_writer->diskFull();
    if (full) m_error = "the disk is full (" + m_error + ")";
    m_writer->rollback();
    m_inTx = false;
    if (m_decoder.headerSeen() && m_writer->begin()) {
        std::string status = m_decoder.checkComplete().empty() ? "complete" : "truncated";
        if (m_writer->end(EndInfo{full ? "disk-full" : "write-error"}, status, m_error))
            m_writer->commit();
        else
            m_writer->rollback();
    }
    return false;
}

bool Recorder::commit() {
    if (!m_writer || m_writeFailed) return false;
    if (!m_inTx) {
        m_lastCommitMono = monoNs();
        return true;
    }
    bool ok = maybeTrim();
    if (ok && m_dirty && m_decoder.headerSeen())
        ok = m_writer->progress(m_lastT, static_cast<int64_t>(m_stats.events),
                                static_cast<int64_t>(m_droppedSeen));
    ok = ok && m_writer->commit();
    m_inTx = false;
    m_dirty = false;
    m_lastCommitMono = monoNs();
    if (!ok) return writeFailed();
    m_stats.commits++;
    return true;
}

bool Recorder::pump(int fd, const std::atomic<bool>* stop) {
    std::vector<char> buf(256 << 10);
    for (;;) {
        if (stop && stop->load()) return commit();
        pollfd p{fd, POLLIN, 0};
        int timeout = m_opts.commitIntervalMs / 2 > 0 ? m_opts.commitIntervalMs / 2 : 1;
        int rc = poll(&p, 1, timeout);
        if (rc < 0 && errno != EINTR) {
            m_error = std::string("poll: ") + std::strerror(errno);
            return false;
        }
        if (rc <= 0) {
            if (m_inTx &&
                monoNs() - m_lastCommitMono >= int64_t{m_opts.commitIntervalMs} * 1000000 &&
                !commit())
                return false;
            continue;
        }
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) {
            if (errno == ECONNRESET)
                return commit();  // the peer went away: treated as end of stream
            m_error = std::string("read: ") + std::strerror(errno);
            return false;
        }
        if (n == 0) return commit();
        if (!feed(buf.data(), static_cast<size_t>(n))) return false;
    }
}

bool Recorder::finish(const EndInfo& end) {
    if (!m_writer || m_finished) return false;
    m_finished = true;
    if (m_writeFailed) return false;  // already marked (if the disk let us)
    bool ok = true;
    if (!m_inTx) ok = m_writer->begin();
    m_inTx = true;
    if (ok && m_decoder.headerSeen()) {
        ok = releasePending(UINT64_MAX);  // what the last watermark had not covered
        if (ok && m_spanEventsSinceKeyframe) ok = maybeKeyframe(true);
        if (ok) ok = m_writer->profile()->finishResync();
        if (ok && m_gapOpen)
            ok = m_writer->closeGap(
                m_lastT, static_cast<int64_t>(m_droppedSeen - m_gapDroppedBefore), false);
        m_gapOpen = false;
        std::string problem = m_decoder.checkComplete();
        std::string status = problem.empty()       ? "complete"
                             : m_decoder.corrupt() ? "corrupt"
                                                   : "truncated";
        m_dirty = true;
        if (ok) {
            std::string why;  // symbols are a convenience: a failure leaves addresses, not an error
            m_writer->profile()->symbolize(&why);
        }
        ok = ok && m_writer->end(end, status, problem);
    }
    ok = commit() && ok;
    if (!ok && m_error.empty()) m_error = m_writer->error();
    if (ok) m_writer->leaveWal();
    return ok;
}

// Bounded recording, checked at most once a second at a commit: --keep drops what is older than
// keepNs before the newest record; --max-size, when the used pages pass 90% of maxBytes, drops the
// oldest quarter of the kept time. Both cut at a keyframe (SessionWriter::dropBefore), so the rest
// still seeks. Freed pages are reused by the next blocks: the file stops growing.
bool Recorder::maybeTrim() {
    if (!m_opts.maxBytes && !m_opts.keepNs) return true;
    const int64_t now = monoNs();
    if (now - m_lastTrimMono < int64_t{m_opts.trimIntervalMs} * 1000000) return true;
    m_lastTrimMono = now;
    if (m_opts.keepNs && m_lastT > m_opts.keepNs && !m_writer->dropBefore(m_lastT - m_opts.keepNs))
        return writeFailed();
    if (!m_opts.maxBytes) return true;
    uint64_t used = 0;
    if (!m_writer->usedBytes(&used)) return writeFailed();
    if (used < m_opts.maxBytes / 10 * 9) return true;
    int64_t first = 0, last = 0;
    if (!m_writer->keyframeSpan(&first, &last)) return writeFailed();
    if (first < 0 || last <= first) return true;  // one keyframe: nothing can go yet
    if (!m_writer->dropBefore(first + std::max<int64_t>(1, (m_lastT - first) / 4)))
        return writeFailed();
    return true;
}

bool parseSize(const std::string& s, uint64_t* bytes) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (errno || end == s.c_str() || !(v > 0)) return false;
    std::string unit(end);
    double mul = 1;
    if (unit == "K" || unit == "k" || unit == "KB" || unit == "KiB")
        mul = 1024;
    else if (unit == "M" || unit == "MB" || unit == "MiB")
        mul = 1024.0 * 1024;
    else if (unit == "G" || unit == "GB" || unit == "GiB")
        mul = 1024.0 * 1024 * 1024;
    else if (!unit.empty() && unit != "B")
        return false;
    if (v * mul < 1 || v * mul > 1e18) return false;
    *bytes = static_cast<uint64_t>(v * mul);
    return true;
}

bool parseDuration(const std::string& s, int64_t* ns) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (errno || end == s.c_str() || !(v > 0)) return false;
    std::string unit(end);
    double mul;
    if (unit == "ms")
        mul = 1e6;
    else if (unit == "s" || unit.empty())
        mul = 1e9;
    else if (unit == "m" || unit == "min")
        mul = 60e9;
    else if (unit == "h")
        mul = 3600e9;
    else
        return false;
    if (v * mul < 1e6 || v * mul > 9e18) return false;
    *ns = static_cast<int64_t>(v * mul);
    return true;
}

}  // namespace spanscope::session
