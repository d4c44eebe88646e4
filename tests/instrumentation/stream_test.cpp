// Tests of the stream format and StreamDecoder: round trip, every truncation, corruption, foreign
// input, newer versions, and exec segments.
#include <gtest/gtest.h>

#include <vector>

#include "spanscope/session.h"
#include "stream_builder.h"

using namespace spanscope;
using spanscope::test::makeEvent;
using spanscope::test::StreamBuilder;
using Status = StreamDecoder::Status;

namespace {
struct Decoded {
    int headers = 0;
    std::vector<Event> events;
    bool trailer = false;
    std::string error;
};

Decoded decodeAll(const std::string& bytes, size_t chunk) {
    StreamDecoder d;
    Decoded out;
    for (size_t off = 0; off < bytes.size(); off += chunk) {
        d.feed(bytes.data() + off, std::min(chunk, bytes.size() - off));
        for (Status s; (s = d.next()) != Status::NeedMore;) {
            if (s == Status::Header) out.headers++;
            if (s == Status::Events)
                out.events.insert(out.events.end(), d.events().begin(), d.events().end());
            if (s == Status::Trailer) out.trailer = true;
            if (s == Status::Error) {
                out.error = d.error();
                return out;
            }
        }
    }
    out.error = d.checkComplete();
    return out;
}

std::vector<Event> someEvents(int n, uint64_t t0 = 2000000) {
    std::vector<Event> v;
    for (int i = 0; i < n; i++)
        v.push_back(
            makeEvent(t0 + i, EventKind::SpanAlloc, 0x10000000 + uint64_t(i) * 8192, 10, 1, 64));
    return v;
}
}  // namespace

TEST(StreamFormat, Crc32MatchesZlib) {
    EXPECT_EQ(stream::crc32("123456789", 9), 0xCBF43926u);
    EXPECT_EQ(stream::crc32("", 0), 0u);
}

// crc32 folds 16-byte lanes with PCLMULQDQ where the CPU has it and finishes with the table: every
// length and alignment, and a running crc carried in, must give the bit-at-a-time CRC.
TEST(StreamFormat, Crc32FoldingAgreesWithBitwiseCrcAtEveryLength) {
    auto bitwise = [](const unsigned char* p, size_t n, uint32_t c) {
        c = ~c;
        while (n--) {
            c ^= *p++;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        return ~c;
    };
    std::vector<unsigned char> buf(4096 + 16);
    uint32_t x = 12345;
    for (auto& b : buf) b = static_cast<unsigned char>((x = x * 1103515245u + 12345u) >> 16);
    int mismatches = 0;
    for (size_t off = 0; off < 16; off += 3)
        for (size_t n = 0; n <= 1100; n++) {
            const uint32_t seed = n * 2654435761u;
            if (stream::crc32(buf.data() + off, n, seed) != bitwise(buf.data() + off, n, seed))
                mismatches++;
        }
    EXPECT_EQ(mismatches, 0);
    // A frame's worth (4,096 records of 64 bytes) in one call and in two.
    const uint32_t whole = stream::crc32(buf.data(), 4096);
    EXPECT_EQ(whole, bitwise(buf.data(), 4096, 0));
    EXPECT_EQ(stream::crc32(buf.data() + 1000, 3096, stream::crc32(buf.data(), 1000)), whole);
}

TEST(StreamFormat, RoundTripWholeAndByteByByte) {
    StreamBuilder b;
    b.frame(someEvents(3)).frame(someEvents(100, 3000000)).trailer();
    for (size_t chunk : {b.bytes.size(), size_t{1}, size_t{7}, size_t{64}}) {
        Decoded d = decodeAll(b.bytes, chunk);
        EXPECT_EQ(d.error, "") << "chunk " << chunk;
        EXPECT_EQ(d.headers, 1);
        ASSERT_EQ(d.events.size(), 103u);
        EXPECT_EQ(d.events[1].addr, 0x10000000u + 8192);
        EXPECT_EQ(d.events[3].timeNs, 3000000u);
        EXPECT_TRUE(d.trailer);
    }
}

TEST(StreamFormat, HeaderFieldsSurvive) {
    StreamBuilder b(5555, 77, "/usr/bin/thing");
    StreamDecoder d;
    d.feed(b.bytes.data(), b.bytes.size());
    ASSERT_EQ(d.next(), Status::Header);
    const StreamInfo& in = d.info();
    EXPECT_EQ(in.version, stream::kVersion);
    EXPECT_EQ(in.pid, 77u);
    EXPECT_EQ(in.startNs, 5555u);
    EXPECT_EQ(in.pageSize, 8192u);
    EXPECT_EQ(in.program, "/usr/bin/thing");
    ASSERT_EQ(in.argv.size(), 2u);
    EXPECT_EQ(in.argv[1], "--flag");
    ASSERT_EQ(in.classes.size(), 68u);
    EXPECT_EQ(in.classes[1].size, 8u);
    EXPECT_EQ(in.classes[67].size, 32768u);
    EXPECT_EQ(in.classes[67].npages, 4u);
    EXPECT_EQ(in.classes[1].nelems, 1024u);
}

TEST(StreamFormat, EveryTruncationIsReportedNeverCrashes) {
    StreamBuilder b;
    b.frame(someEvents(5)).frame(someEvents(2)).trailer();
    for (size_t cut = 0; cut < b.bytes.size(); cut++) {
        Decoded d = decodeAll(b.bytes.substr(0, cut), 5);
        EXPECT_NE(d.error, "") << "cut at " << cut;
        EXPECT_FALSE(d.trailer);
    }
    EXPECT_EQ(decodeAll(b.bytes, 5).error, "");
}

TEST(StreamFormat, TruncationMessages) {
    StreamBuilder b;
    b.frame(someEvents(5));
    EXPECT_EQ(decodeAll(b.bytes, 4096).error, "truncated stream (no end-of-stream trailer)");
    EXPECT_NE(
        decodeAll(b.bytes.substr(0, b.bytes.size() - 10), 4096).error.find("incomplete frame"),
        std::string::npos);
    EXPECT_EQ(decodeAll(b.bytes.substr(0, 20), 4096).error, "truncated stream (incomplete header)");
    EXPECT_EQ(decodeAll("", 1).error, "empty stream (no header)");
}

TEST(StreamFormat, CorruptionIsDetected) {
    StreamBuilder b;
    b.frame(someEvents(5)).trailer();
    const size_t headerEnd = StreamBuilder().bytes.size();
    // Every single-byte flip is caught: by the header CRC, a frame check or the frame CRC.
    for (size_t i = 0; i < b.bytes.size(); i++) {
        std::string bad = b.bytes;
        bad[i] ^= 0x40;
        Decoded d = decodeAll(bad, 4096);
        EXPECT_NE(d.error, "") << "flip at " << i << (i < headerEnd ? " (header)" : "");
    }
}

TEST(StreamFormat, ForeignAndNewerInputIsRefused) {
    EXPECT_NE(
        decodeAll("hello, world, this is a text file\n", 4096).error.find("not a spanscope stream"),
        std::string::npos);
    EXPECT_NE(decodeAll("SQLite format 3", 1).error.find("not a spanscope stream"),
              std::string::npos);
    StreamBuilder b;
    std::string newer = b.bytes;
    uint32_t v = stream::kVersion + 1;
    std::memcpy(newer.data() + 8, &v, 4);
    EXPECT_NE(decodeAll(newer, 4096).error.find("unsupported stream version"), std::string::npos);
    std::string garbageAfterTrailer = StreamBuilder().trailer().bytes + "x";
    EXPECT_NE(decodeAll(garbageAfterTrailer, 4096).error.find("after the end-of-stream trailer"),
              std::string::npos);
}

TEST(StreamFormat, ExecStartsANewSegmentEvenMidFrame) {
    StreamBuilder first(1000, 10, "/bin/sh");
    first.frame(someEvents(4));
    std::string cut =
        first.bytes.substr(0, first.bytes.size() - 100);  // exec killed the drain thread mid-frame
    StreamBuilder second(9000, 10, "/usr/bin/python3");
    second.frame(someEvents(3)).trailer();
    Decoded d = decodeAll(cut + second.bytes, 4096);
    EXPECT_EQ(d.error, "");
    EXPECT_EQ(d.headers, 2);
    EXPECT_EQ(d.events.size(), 3u);
    EXPECT_TRUE(d.trailer);
    // The same, byte by byte, and with a clean cut at a frame boundary.
    EXPECT_EQ(decodeAll(cut + second.bytes, 1).headers, 2);
    Decoded clean = decodeAll(first.bytes + second.bytes, 4096);
    EXPECT_EQ(clean.error, "");
    EXPECT_EQ(clean.events.size(), 7u);
}
