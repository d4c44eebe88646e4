// SpanModel: span lifecycle events -> span table. See spanscope/detail/span_model.h.
#include "spanscope/detail/span_model.h"

#include <algorithm>
#include <cstdio>

#include "spanscope/kinds.h"

namespace spanscope::session {

const char* spanStateName(uint8_t state) {
    static const char* const kNames[] = {
        "new", "cached", "partial-swept", "partial-unswept", "full-swept", "full-unswept", "large"};
    return state < 7 ? kNames[state] : "unknown";
}

const char* kindName(uint16_t kind) {
    if (kind == 0) return "None";
    if (const kinds::KindInfo* k = kinds::find(kind)) return k->name;
    static thread_local char buf[16];
    std::snprintf(buf, sizeof buf, "kind%u", kind);
    return buf;
}

bool SpanModel::affectsSpans(uint16_t kind) {
    return kinds::has(kind, kKindSpanModel);
}

static uint16_t clamp16(uint64_t v) {
    return static_cast<uint16_t>(v > 0xffff ? 0xffff : v);
}

bool SpanModel::apply(const Event& e) {
    const auto kind = static_cast<uint16_t>(e.kind);
    if (!affectsSpans(kind)) return false;
    if (kind == stream::kRundownBegin) {
        m_spans.clear();
        m_rundownTime = e.timeNs;
        return true;
    }
    if (kind != stream::kSpanState && e.timeNs < m_rundownTime)
        return false;  // already in the rundown
    switch (kind) {
        case stream::kSpanState: {
            SpanRecord r{e.addr,
                         e.npages,
                         payload::spanStateNelems(e),
                         payload::spanStateAllocCount(e),
                         e.spanClass,
                         e.flags,
                         0,
                         static_cast<uint32_t>(e.c)};
            m_spans[e.addr] = r;
            break;
        }
        case static_cast<uint16_t>(EventKind::SpanAlloc):
            m_spans[e.addr] = SpanRecord{e.addr, e.npages, clamp16(e.a), 0, e.spanClass, 0, 0, 0};
            break;
        case static_cast<uint16_t>(EventKind::LargeAlloc):
            m_spans[e.addr] = SpanRecord{
                e.addr, e.npages, 1, 1, e.spanClass, static_cast<uint8_t>(SpanState::Large), 0, 0};
            break;
        case static_cast<uint16_t>(EventKind::SpanFree):
        case static_cast<uint16_t>(EventKind::LargeFree):
            m_spans.erase(e.addr);
            break;
        case static_cast<uint16_t>(EventKind::SweepProgress):
            // A generation's sweep is complete: no span is unswept any more (sweeps that freed
            // nothing have no SpanSweep record of their own).
            if (e.flags & 1)
                for (auto& [base, r] : m_spans) {
                    if (r.state == static_cast<uint8_t>(SpanState::PartialUnswept))
                        r.state = static_cast<uint8_t>(SpanState::PartialSwept);
                    else if (r.state == static_cast<uint8_t>(SpanState::FullUnswept))
                        r.state = static_cast<uint8_t>(SpanState::FullSwept);
                }
            break;
        case static_cast<uint16_t>(EventKind::SpanRefill): {
            // The span handed back (if any), then the span cached; see EventKind::SpanRefill.
            if (e.flags & kRefillUncached) {
                auto old = m_spans.find(payload::refillOldBase(e));
                if (old != m_spans.end()) {  // else freed already (its SpanFree came first)
                    old->second.state = static_cast<uint8_t>(
                        e.flags & kRefillOldFull ? SpanState::FullSwept : SpanState::PartialSwept);
                    old->second.allocCount = payload::refillOldAllocCount(e);
                    old->second.ownerTid = 0;
                }
            }
            SpanRecord& r =
                m_spans
                    .try_emplace(e.addr, SpanRecord{e.addr, e.npages, 0, 0, e.spanClass, 0, 0, 0})
                    .first->second;
            r.state = static_cast<uint8_t>(SpanState::Cached);
            r.allocCount = clamp16(e.a);
            r.nelems = clamp16(e.b);
            r.ownerTid = e.tid;
            break;
        }
        default: {
            auto it = m_spans.find(e.addr);
            if (it == m_spans.end()) {  // first seen mid-life (recording began after it was made)
                it = m_spans
                         .emplace(e.addr, SpanRecord{e.addr, e.npages, 0, 0, e.spanClass, 0, 0, 0})
                         .first;
            }
            SpanRecord& r = it->second;
            if (kind == static_cast<uint16_t>(EventKind::SpanCache)) {
                r.state = static_cast<uint8_t>(SpanState::Cached);
                r.allocCount = clamp16(e.a);
                r.nelems = clamp16(e.b);
                r.ownerTid = e.tid;
            } else if (kind == static_cast<uint16_t>(EventKind::SpanUncache)) {
                r.state =
                    static_cast<uint8_t>(e.flags ? SpanState::FullSwept : SpanState::PartialSwept);
                r.allocCount = clamp16(e.a);
                r.nelems = clamp16(e.b);
                r.ownerTid = 0;
            } else if (kind == static_cast<uint16_t>(EventKind::SpanSweep)) {
                r.allocCount = clamp16(e.b);
                if (e.c) r.nelems = clamp16(e.c);
                if (r.state == static_cast<uint8_t>(SpanState::PartialUnswept))
                    r.state = static_cast<uint8_t>(SpanState::PartialSwept);
                if (r.state == static_cast<uint8_t>(SpanState::FullUnswept) ||
                    r.state == static_cast<uint8_t>(SpanState::FullSwept))
                    r.state = static_cast<uint8_t>(r.allocCount < r.nelems ? SpanState::PartialSwept
                                                                           : SpanState::FullSwept);
            }
            break;
        }
    }
    return true;
}

std::vector<SpanRecord> SpanModel::snapshot() const {
    std::vector<SpanRecord> out;
    out.reserve(m_spans.size());
    for (const auto& [base, r] : m_spans) out.push_back(r);
    std::sort(out.begin(), out.end(),
              [](const SpanRecord& x, const SpanRecord& y) { return x.base < y.base; });
    return out;
}

void SpanModel::load(const SpanRecord* spans, size_t n) {
    m_spans.clear();
    m_spans.reserve(n);
    for (size_t i = 0; i < n; i++) m_spans[spans[i].base] = spans[i];
}

}  // namespace spanscope::session
