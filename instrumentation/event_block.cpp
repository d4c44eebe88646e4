// Event blocks: the columnar, delta-encoded, zstd-compressed records of a session file (see
// spanscope/detail/event_block.h and docs/session-format.md section 2, "event_blocks").
#include "spanscope/detail/event_block.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

namespace spanscope::session::detail {

namespace {
// zstd level 1: the recorder's budget is ~100 ns per record in all; higher levels save little on
// these columns and cost several times the CPU.
constexpr int kZstdLevel = 1;

// Varints written through a pointer into a buffer sized for the worst case (no per-byte capacity
// check: the recorder writes about ten of them a record).
inline uint8_t* putVarint(uint8_t* p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = static_cast<uint8_t>(v | 0x80);
        v >>= 7;
    }
    *p++ = static_cast<uint8_t>(v);
    return p;
}
// The most one record takes before compression: time, tid, seq, addr and a..d 10 bytes each,
// kind 3, npages 5, spanClass and flags 1.
constexpr size_t kMaxRawRecordBytes = 8 * 10 + 3 + 5 + 2;
inline uint64_t zigzag(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t unzigzag(uint64_t v) {
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

struct Cursor {
    const uint8_t* p;
    const uint8_t* end;
    bool bad = false;
    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p >= end) break;
            const uint8_t b = *p++;
            v |= uint64_t{b & 0x7fu} << shift;
            if (!(b & 0x80)) return v;
        }
        bad = true;
        return 0;
    }
    uint8_t byte() {
        if (p >= end) {
            bad = true;
            return 0;
        }
        return *p++;
    }
};
}  // namespace

BlockEncoder::BlockEncoder() : m_cctx(ZSTD_createCCtx()) {
    ZSTD_CCtx_setParameter(static_cast<ZSTD_CCtx*>(m_cctx), ZSTD_c_compressionLevel, kZstdLevel);
}
BlockEncoder::~BlockEncoder() {
    ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(m_cctx));
}

bool BlockEncoder::encode(const BlockRecord* recs, size_t n, std::vector<uint8_t>* out) {
    if (m_raw.size() < n * kMaxRawRecordBytes) m_raw.resize(n * kMaxRawRecordBytes);
    uint8_t* const begin = m_raw.data();
    uint8_t* p = begin;
    int64_t prev = 0;
    for (size_t i = 0; i < n; i++) p = putVarint(p, zigzag(recs[i].t - prev)), prev = recs[i].t;
    prev = 0;
    for (size_t i = 0; i < n; i++) {
        const int64_t tid = recs[i].e.tid;
        p = putVarint(p, zigzag(tid - prev));
        prev = tid;
    }
    prev = 0;
    for (size_t i = 0; i < n; i++) {
        const int64_t seq = recs[i].e.seq;
        p = putVarint(p, zigzag(seq - prev));
        prev = seq;
    }
    for (size_t i = 0; i < n; i++) p = putVarint(p, static_cast<uint16_t>(recs[i].e.kind));
    for (size_t i = 0; i < n; i++) *p++ = recs[i].e.spanClass;
    for (size_t i = 0; i < n; i++) *p++ = recs[i].e.flags;
    for (size_t i = 0; i < n; i++) p = putVarint(p, recs[i].e.npages);
    uint64_t prevAddr = 0;
    for (size_t i = 0; i < n; i++) {
        p = putVarint(p, zigzag(static_cast<int64_t>(recs[i].e.addr - prevAddr)));
        prevAddr = recs[i].e.addr;
    }
    for (size_t i = 0; i < n; i++) p = putVarint(p, recs[i].e.a);
    for (size_t i = 0; i < n; i++) p = putVarint(p, recs[i].e.b);
    for (size_t i = 0; i < n; i++) p = putVarint(p, recs[i].e.c);
    for (size_t i = 0; i < n; i++) p = putVarint(p, recs[i].e.d);
    const size_t rawBytes = static_cast<size_t>(p - begin);

    out->resize(1 + ZSTD_compressBound(rawBytes));
    (*out)[0] = kBlockEncoding;
    const size_t z = ZSTD_compress2(static_cast<ZSTD_CCtx*>(m_cctx), out->data() + 1,
                                    out->size() - 1, begin, rawBytes);
    if (ZSTD_isError(z)) return false;
    out->resize(1 + z);
    return true;
}

BlockDecoder::BlockDecoder() : m_dctx(ZSTD_createDCtx()) {}
BlockDecoder::~BlockDecoder() {
    ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(m_dctx));
}

bool BlockDecoder::decode(const void* blob, size_t bytes, size_t count, std::vector<Event>* out,
                          std::string* why) {
    auto fail = [&](const char* msg) {
        if (why) *why = msg;
        out->clear();
        return false;
    };
    const auto* b = static_cast<const uint8_t*>(blob);
    if (bytes < 2 || b[0] != kBlockEncoding) return fail("event block: unknown encoding");
    if (count > kBlockRecords) return fail("event block: too many records");
    const unsigned long long rawSize = ZSTD_getFrameContentSize(b + 1, bytes - 1);
    // Every record takes at least 12 bytes and at most 12 * 10 (varints) before compression.
    if (rawSize == ZSTD_CONTENTSIZE_ERROR || rawSize == ZSTD_CONTENTSIZE_UNKNOWN ||
        rawSize < count * 12 || rawSize > count * 120)
        return fail("event block: damaged (bad frame size)");
    m_raw.resize(rawSize);
    const size_t got = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(m_dctx), m_raw.data(),
                                           m_raw.size(), b + 1, bytes - 1);
    if (ZSTD_isError(got) || got != rawSize) return fail("event block: damaged (zstd)");
    out->assign(count, Event{});
    Event* ev = out->data();
    Cursor c{m_raw.data(), m_raw.data() + m_raw.size()};
    int64_t prev = 0;
    for (size_t i = 0; i < count; i++) {
        prev += unzigzag(c.varint());
        ev[i].timeNs = static_cast<uint64_t>(prev);
    }
    prev = 0;
    for (size_t i = 0; i < count; i++) {
        prev += unzigzag(c.varint());
        ev[i].tid = static_cast<uint32_t>(prev);
    }
    prev = 0;
    for (size_t i = 0; i < count; i++) {
        prev += unzigzag(c.varint());
        ev[i].seq = static_cast<uint32_t>(prev);
    }
    for (size_t i = 0; i < count; i++) ev[i].kind = static_cast<EventKind>(c.varint());
    for (size_t i = 0; i < count; i++) ev[i].spanClass = c.byte();
    for (size_t i = 0; i < count; i++) ev[i].flags = c.byte();
    for (size_t i = 0; i < count; i++) ev[i].npages = static_cast<uint32_t>(c.varint());
    uint64_t addr = 0;
    for (size_t i = 0; i < count; i++) {
        addr += static_cast<uint64_t>(unzigzag(c.varint()));
        ev[i].addr = addr;
    }
    for (size_t i = 0; i < count; i++) ev[i].a = c.varint();
    for (size_t i = 0; i < count; i++) ev[i].b = c.varint();
    for (size_t i = 0; i < count; i++) ev[i].c = c.varint();
    for (size_t i = 0; i < count; i++) ev[i].d = c.varint();
    if (c.bad || c.p != c.end) return fail("event block: damaged (columns)");
    return true;
}

namespace {
constexpr uint8_t kZstdMagic[4] = {0x28, 0xb5, 0x2f, 0xfd};
}

bool compressKeyframe(const void* raw, size_t bytes, std::vector<uint8_t>* out) {
    out->resize(ZSTD_compressBound(bytes));
    const size_t z = ZSTD_compress(out->data(), out->size(), raw, bytes, kZstdLevel);
    if (ZSTD_isError(z)) return false;
    out->resize(z);
    return true;
}

bool keyframeBytes(const void* blob, size_t bytes, size_t countedBytes, std::vector<uint8_t>* out,
                   std::string* why) {
    const size_t maxBytes = std::min(countedBytes, size_t(64) * bytes + (size_t(1) << 20));
    const auto* b = static_cast<const uint8_t*>(blob);
    out->clear();
    if (!b || bytes == 0) return true;
    if (bytes < 4 || std::memcmp(b, kZstdMagic, 4) != 0) {
        out->assign(b, b + bytes);
        return true;
    }
    const unsigned long long size = ZSTD_getFrameContentSize(b, bytes);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > maxBytes) {
        if (why) *why = "keyframe: damaged (bad frame size)";
        return false;
    }
    out->resize(size);
    const size_t got = ZSTD_decompress(out->data(), out->size(), b, bytes);
    if (ZSTD_isError(got) || got != size) {
        out->clear();
        if (why) *why = "keyframe: damaged (zstd)";
        return false;
    }
    return true;
}

}  // namespace spanscope::session::detail
