// Test helper: builds spanscope streams byte by byte (header, event frames, trailer), so tests can
// feed the decoder and the recorder exact, truncated or damaged input.
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "spanscope/detail/sizeclasses.h"
#include "spanscope/stream.h"

namespace spanscope::test {

inline Event makeEvent(uint64_t t, EventKind kind, uint64_t addr = 0, uint8_t spc = 0,
                       uint32_t npages = 0, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0,
                       uint64_t d = 0, uint8_t flags = 0) {
    Event e{};
    e.timeNs = t;
    e.tid = 42;
    e.kind = kind;
    e.addr = addr;
    e.spanClass = spc;
    e.npages = npages;
    e.a = a, e.b = b, e.c = c, e.d = d;
    e.flags = flags;
    return e;
}

class StreamBuilder {
public:
    explicit StreamBuilder(uint64_t startNs = 1000000, uint32_t pid = 4242,
                           const char* program = "/bin/test-program", uint32_t flags = 0) {
        stream::HeaderFixed fx{};
        fx.flags = flags;
        fx.pageSize = kPageSize;
        fx.numClasses = kNumSizeClasses;
        fx.arenaBytes = 64 << 20;
        fx.pid = pid;
        fx.startNs = startNs;
        fx.startUnixNs = 1700000000ull * 1000000000ull;
        const char argv[] = "test-program\0--flag\0";
        size_t n = stream::encodeHeader(nullptr, 0, fx, program, std::strlen(program), argv,
                                        sizeof argv - 1, 2);
        std::string h(n, '\0');
        stream::encodeHeader(h.data(), n, fx, program, std::strlen(program), argv, sizeof argv - 1,
                             2);
        bytes += h;
    }
    StreamBuilder& frame(const std::vector<Event>& events) {
        const auto len = static_cast<uint32_t>(events.size() * sizeof(Event));
        auto h = stream::makeFrameHeader(stream::FrameType::Events, events.data(), len);
        bytes.append(reinterpret_cast<const char*>(&h), sizeof h);
        bytes.append(reinterpret_cast<const char*>(events.data()), len);
        return *this;
    }
    StreamBuilder& trailer(stream::EndReason r = stream::EndReason::Exit) {
        stream::Trailer t{static_cast<uint32_t>(r), 0, 0, 0, 0};
        auto h = stream::makeFrameHeader(stream::FrameType::Trailer, &t, sizeof t);
        bytes.append(reinterpret_cast<const char*>(&h), sizeof h);
        bytes.append(reinterpret_cast<const char*>(&t), sizeof t);
        return *this;
    }
    std::string bytes;
};

}  // namespace spanscope::test
