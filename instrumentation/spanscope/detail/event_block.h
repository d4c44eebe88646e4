// Event blocks: how a session file stores its records (from schema version 3, table event_blocks)
// and its heap profile's samples (from version 4, prof_sample_blocks).
// A block holds up to kBlockRecords consecutive records (in recording order, so ids are
// first_id, first_id + 1, ...) as columns of varints, delta-encoded where neighbours are close
// (time, thread, sequence, address), compressed with zstd. Its row also carries the block's time
// range and a mask of the kinds it holds, so readers skip blocks without decompressing them.
// Like Go's execution tracer, which writes compact batches and decodes them only when read.
// Used by the recorder (session_writer.cpp), the reader (session_reader.cpp) and the SQLite
// virtual table `events` (events_vtab.cpp). docs/session-format.md section 2 describes the bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "spanscope/events.h"

namespace spanscope::session::detail {

inline constexpr size_t kBlockRecords = 8192;  // at most this many records per block
inline constexpr uint8_t kBlockEncoding = 1;   // the blob's first byte

// One record as stored (time in ns since the stream began).
struct BlockRecord {
    int64_t t;
    Event e;  // e.timeNs is not stored: it equals t for readers
};

// The kinds mask of event_blocks.kinds: bit k for allocator kinds 0..31, bit 32 + (k - 256) for
// probe kinds 256..286, bit 63 for any other kind.
inline uint64_t kindBit(uint16_t kind) {
    if (kind < 32) return uint64_t{1} << kind;
    if (kind >= 256 && kind < 256 + 31) return uint64_t{1} << (32 + (kind - 256));
    return uint64_t{1} << 63;
}
inline uint64_t kindsMask(const std::vector<uint16_t>& kinds) {
    uint64_t m = 0;
    for (uint16_t k : kinds) m |= kindBit(k);
    return kinds.empty() ? ~uint64_t{0} : m;
}

// Encodes n records into out (replacing its contents). Reuses its compression context: one
// encoder per writer.
class BlockEncoder {
public:
    BlockEncoder();
    ~BlockEncoder();
    BlockEncoder(const BlockEncoder&) = delete;
    BlockEncoder& operator=(const BlockEncoder&) = delete;
    bool encode(const BlockRecord* recs, size_t n, std::vector<uint8_t>* out);

private:
    void* m_cctx;
    std::vector<uint8_t> m_raw;
};

// Decodes a block blob of count records into out (replacing its contents); false with a reason if
// the blob is damaged. Every record's timeNs is set to its t.
class BlockDecoder {
public:
    BlockDecoder();
    ~BlockDecoder();
    BlockDecoder(const BlockDecoder&) = delete;
    BlockDecoder& operator=(const BlockDecoder&) = delete;
    bool decode(const void* blob, size_t bytes, size_t count, std::vector<Event>* out,
                std::string* why);

private:
    void* m_dctx;
    std::vector<uint8_t> m_raw;
};

// Keyframes (from schema version 4): a keyframe's span records compressed with zstd. A blob that
// does not start with zstd's frame magic holds the span records raw (schema 3 and before: a span's
// base is page-aligned, so a raw blob's first byte is 0, never the magic's 0x28).
bool compressKeyframe(const void* raw, size_t bytes, std::vector<uint8_t>* out);
// A keyframe blob's span record bytes into out: copied if raw, else decompressed; false with a
// reason if the frame is damaged, or would exceed the bytes its span count says (countedBytes) or
// 64 times its own size (span records compress about 5x): checked before anything is allocated,
// so a hostile frame header costs nothing.
bool keyframeBytes(const void* blob, size_t bytes, size_t countedBytes, std::vector<uint8_t>* out,
                   std::string* why);

}  // namespace spanscope::session::detail
