// The probe's rundown: at the start of a session, one SpanState record (and SpanBits records for
// its allocation bitmap) per span, between RundownBegin and RundownEnd, so that a session started
// late (a live attach) begins with the whole heap; and again after records were dropped (a resync,
// at most one per 250 ms), so that a replay that lost track of spans finds them again. Drain
// thread only. See spanscope/detail/probe.h.
#include "spanscope/detail/platform.h"
#include "spanscope/detail/probe.h"
#include "spanscope/detail/probe_profile.h"

namespace spanscope::probe::internal {
using namespace spanscope::stream;

namespace {
struct RundownCtx {
    uint64_t now;
    uint64_t spans;
};

void rundownSpan(const SpanInfo& s, void* arg) {
    auto* ctx = static_cast<RundownCtx*>(arg);
    Event e = record(kSpanState, ctx->now);
    e.spanClass = s.spanClass;
    e.flags = s.where;
    e.npages = s.npages;
    e.addr = s.base;
    e.a = payload::packSpanCounts(s.nelems, s.allocCount, s.freeindex);
    e.b = s.elemsize;
    e.c = static_cast<uint64_t>(s.ownerTid);
    e.d = payload::packSweepgenWords(s.sweepgen, s.nwords);
    g_writer.add(e);
    if (s.allocBits)
        for (uint32_t w = 0; w < s.nwords; w += 4) {
            Event bits = record(kSpanBits, ctx->now);
            bits.addr = s.base;
            bits.npages = w;
            uint64_t* dst[4] = {&bits.a, &bits.b, &bits.c, &bits.d};
            for (uint32_t k = 0; k < 4; k++) *dst[k] = w + k < s.nwords ? s.allocBits[w + k] : 0;
            g_writer.add(bits);
        }
    ctx->spans++;
}
}  // namespace

// walkSpans holds the heap's locks: slow paths wait while we copy. So the frames are held in
// memory (Writer::hold) and written after the walk, never while a lock is held: a reader that does
// not read cannot stop the program. The rings cannot be drained meanwhile: g_drainStalled tells
// allocating threads not to wait for room (one may hold the lock walkSpans waits for).
void rundown(bool resync) {
    RundownCtx ctx{detail::nanotime(), 0};
    g_drainStalled.store(true, std::memory_order_release);
    g_writer.hold(true);
    Event begin = record(kRundownBegin, ctx.now);
    begin.b = resync ? 1 : 0;
    g_writer.add(begin);
    uint32_t sweepgen = walkSpans(rundownSpan, &ctx);
    // The heap profile so far; RundownEnd's c = the time its live objects were read.
    const uint64_t profileAt = profile::rundownProfile(record(kRundownBegin, ctx.now), toWriter);
    Event end = record(kRundownEnd, ctx.now);
    end.c = profileAt;
    end.a = ctx.spans;
    end.b = sweepgen;
    g_writer.add(end);
    g_writer.flush();
    g_drainStalled.store(false, std::memory_order_release);
    g_writer.hold(false);
}

}  // namespace spanscope::probe::internal
