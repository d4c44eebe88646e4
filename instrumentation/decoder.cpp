// StreamDecoder: the stream's parser, incremental and defensive (lengths are checked before use,
// every frame's CRC is verified). Fuzzed by fuzz/stream_decoder_fuzz.cpp. See spanscope/stream.h.
#include "spanscope/decoder.h"

#include <cstring>

namespace spanscope {

using namespace spanscope::stream;

void StreamDecoder::feed(const void* data, size_t n) {
    if (m_state == State::Failed || !n) return;
    if (m_pos > 0 && m_pos >= m_buf.size() / 2) {  // compact what was consumed
        m_buf.erase(m_buf.begin(), m_buf.begin() + static_cast<ptrdiff_t>(m_pos));
        m_pos = 0;
    }
    const char* p = static_cast<const char*>(data);
    m_buf.insert(m_buf.end(), p, p + n);
}

StreamDecoder::Status StreamDecoder::fail(std::string msg) {
    m_state = State::Failed;
    m_error = std::move(msg) + " at byte " + std::to_string(m_consumed);
    return Status::Error;
}

StreamDecoder::Status StreamDecoder::next() {
    switch (m_state) {
        case State::Failed:
            return Status::Error;
        case State::Ended:
            if (available()) return fail("data after the end-of-stream trailer");
            return Status::NeedMore;
        case State::Prologue: {
            const size_t have = available();
            if (!have) return Status::NeedMore;
            const char* p = m_buf.data() + m_pos;
            // Reject a foreign file as soon as its first bytes disagree with the magic.
            if (std::memcmp(p, kMagic, have < 8 ? have : 8) != 0)
                return fail("not a spanscope stream (bad magic)");
            if (have < kPrologueBytes) return Status::NeedMore;
            uint32_t version, bodyLen;
            std::memcpy(&version, p + 8, 4);
            std::memcpy(&bodyLen, p + 12, 4);
            if (version == 0 || version > kVersion)
                return fail("unsupported stream version " + std::to_string(version) +
                            " (this build reads up to " + std::to_string(kVersion) + ")");
            if (bodyLen < sizeof(HeaderFixed) || bodyLen > kMaxHeaderBody)
                return fail("corrupt stream header (length " + std::to_string(bodyLen) + ")");
            if (have < kPrologueBytes + bodyLen + 4) return Status::NeedMore;
            const char* body = p + kPrologueBytes;
            uint32_t crc;
            std::memcpy(&crc, body + bodyLen, 4);
            if (crc32(body, bodyLen) != crc) return fail("corrupt stream header (CRC mismatch)");
            HeaderFixed fx;
            std::memcpy(&fx, body, sizeof fx);
            size_t off = sizeof fx;
            auto bad = [this](const char* what) {
                return fail(std::string("corrupt stream header (") + what + ")");
            };
            if (fx.numClasses > 1024 || off + size_t{fx.numClasses} * sizeof(ClassEntry) > bodyLen)
                return bad("class table");
            StreamInfo info;
            info.version = version;
            info.pageSize = fx.pageSize;
            info.pid = fx.pid;
            info.flags = fx.flags;
            info.arenaBytes = fx.arenaBytes;
            info.startNs = fx.startNs;
            info.startUnixNs = fx.startUnixNs;
            info.classes.resize(fx.numClasses);
            if (fx.numClasses)
                std::memcpy(info.classes.data(), body + off, fx.numClasses * sizeof(ClassEntry));
            off += fx.numClasses * sizeof(ClassEntry);
            uint32_t plen;
            if (off + 4 > bodyLen) return bad("program");
            std::memcpy(&plen, body + off, 4);
            off += 4;
            if (plen > bodyLen - off) return bad("program");
            info.program.assign(body + off, plen);
            off += plen;
            uint32_t argc, argvBytes;
            if (off + 8 > bodyLen) return bad("argv");
            std::memcpy(&argc, body + off, 4);
            std::memcpy(&argvBytes, body + off + 4, 4);
            off += 8;
            if (argvBytes != bodyLen - off) return bad("argv");
            const char* a = body + off;
            const char* end = a + argvBytes;
            while (a < end) {
                const char* z =
                    static_cast<const char*>(std::memchr(a, 0, static_cast<size_t>(end - a)));
                if (!z) return bad("argv not terminated");
                info.argv.emplace_back(a, z);
                a = z + 1;
            }
            if (info.argv.size() != argc) return bad("argc");
            m_info = std::move(info);
            const size_t total = kPrologueBytes + bodyLen + 4;
            m_pos += total;
            m_consumed += total;
            m_state = State::Frames;
            m_segments++;
            return Status::Header;
        }
        case State::Frames: {
            if (available() < sizeof(FrameHeader)) return Status::NeedMore;
            if (!std::memcmp(m_buf.data() + m_pos, kMagic,
                             8)) {  // the program exec'd: a new segment
                m_state = State::Prologue;
                return next();
            }
            FrameHeader h;
            std::memcpy(&h, m_buf.data() + m_pos, sizeof h);
            if (h.magic != kFrameMagic) return resync("corrupt stream (bad frame marker)");
            if (h.type == static_cast<uint32_t>(FrameType::Events)) {
                if (h.length == 0 || h.length > kMaxFramePayload || h.length % sizeof(Event))
                    return resync("corrupt stream (bad frame length " + std::to_string(h.length) +
                                  ")");
            } else if (h.type == static_cast<uint32_t>(FrameType::Trailer)) {
                if (h.length != sizeof(Trailer))
                    return resync("corrupt stream (bad trailer length)");
            } else {
                return resync("corrupt stream (unknown frame type " + std::to_string(h.type) + ")");
            }
            if (available() < sizeof h + h.length) {
                // A segment cut by exec may claim more bytes than it has: look for the next
                // segment.
                const char* found = findMagic(m_pos + 1);
                if (found) return resync("truncated segment");
                return Status::NeedMore;
            }
            const char* payload = m_buf.data() + m_pos + sizeof h;
            if (crc32(payload, h.length) != h.crc)
                return resync("corrupt stream (frame CRC mismatch)");
            m_pendingError.clear();
            m_pos += sizeof h + h.length;
            m_consumed += sizeof h + h.length;
            if (h.type == static_cast<uint32_t>(FrameType::Trailer)) {
                std::memcpy(&m_trailer, payload, sizeof m_trailer);
                m_state = State::Ended;
                return Status::Trailer;
            }
            m_nEvents = h.length / sizeof(Event);
            if (m_events.size() < m_nEvents) m_events.resize(m_nEvents);
            std::memcpy(m_events.data(), payload, h.length);
            return Status::Events;
        }
    }
    return Status::Error;
}

const char* StreamDecoder::findMagic(size_t from) const {
    if (from >= m_buf.size()) return nullptr;
    const char* p = m_buf.data() + from;
    const char* end = m_buf.data() + m_buf.size();
    while (end - p >= 8) {
        p = static_cast<const char*>(std::memchr(p, kMagic[0], static_cast<size_t>(end - p)));
        if (!p || end - p < 8) return nullptr;
        if (!std::memcmp(p, kMagic, 8)) return p;
        p++;
    }
    return nullptr;
}

// A bad frame: either damage (an error) or the tail of a segment cut short by exec, followed by
// the new image's stream. Skip to the next stream magic if there is one within reach.
StreamDecoder::Status StreamDecoder::resync(std::string why) {
    if (const char* found = findMagic(m_pos + 1)) {
        const size_t skip = static_cast<size_t>(found - (m_buf.data() + m_pos));
        m_pos += skip;
        m_consumed += skip;
        m_cutSegments++;
        m_pendingError.clear();
        m_state = State::Prologue;
        return next();
    }
    if (available() > kMaxFramePayload + 2 * sizeof(FrameHeader)) return fail(std::move(why));
    m_pendingError = std::move(why);
    return Status::NeedMore;
}

std::string StreamDecoder::checkComplete() const {
    switch (m_state) {
        case State::Ended:
            return {};
        case State::Failed:
            return m_error;
        case State::Prologue:
            if (!m_consumed && m_buf.size() == m_pos) return "empty stream (no header)";
            return "truncated stream (incomplete header)";
        case State::Frames:
            if (!m_pendingError.empty())
                return m_pendingError + " at byte " + std::to_string(m_consumed);
            if (available())
                return "truncated stream (incomplete frame at byte " + std::to_string(m_consumed) +
                       ")";
            return "truncated stream (no end-of-stream trailer)";
    }
    return "truncated stream";
}

}  // namespace spanscope
