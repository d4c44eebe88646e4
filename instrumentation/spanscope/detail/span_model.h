// SpanModel: the span table rebuilt from events (span lifecycle and rundown records). The recorder
// runs it to write keyframes; the reader runs it to replay from a keyframe to a moment.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "spanscope/session_types.h"
#include "spanscope/stream.h"

namespace spanscope::session {

class SpanModel {
public:
    // Applies one record; returns true if it is a span-state record (counts toward keyframes).
    bool apply(const Event& e);
    static bool affectsSpans(uint16_t kind);
    std::vector<SpanRecord> snapshot() const;  // sorted by base
    void load(const SpanRecord* spans, size_t n);
    void clear() { m_spans.clear(); }
    size_t size() const { return m_spans.size(); }

private:
    std::unordered_map<uint64_t, SpanRecord> m_spans;
    uint64_t m_rundownTime = 0;  // span events older than the last rundown are already in it
};

}  // namespace spanscope::session
