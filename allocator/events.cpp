// The event hook: sink registration and the out-of-line emitter. See spanscope/events.h.
#include "spanscope/events.h"

#include "spanscope/detail/platform.h"

namespace spanscope {

namespace detail {
std::atomic<EventSink> g_eventSink{nullptr};
std::atomic<bool> g_objectEvents{false};
std::atomic<uint32_t> g_sinkEpoch{1};
namespace {
std::atomic<void*> g_sinkCtx{nullptr};
thread_local uint32_t t_seq __attribute__((tls_model("initial-exec")));
thread_local int t_tid __attribute__((tls_model("initial-exec")));
}  // namespace

void emitEvent(EventKind kind, uint8_t spanClass, uint8_t flags, uint32_t npages, uint64_t addr,
               uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    EventSink sink = g_eventSink.load(std::memory_order_acquire);
    if (!sink) return;
    if (!t_tid) t_tid = currentTid();
    // Unstamped (timeNs 0): the sink reads the clock (spanscope/events.h).
    const Event e{
        0, t_seq++, static_cast<uint32_t>(t_tid), kind, spanClass, flags, npages, addr, a, b, c, d};
    sink(e, g_sinkCtx.load(std::memory_order_relaxed));
}
}  // namespace detail

void setEventSink(EventSink sink, void* ctx, bool objectLevel) {
    if (!sink) detail::g_objectEvents.store(false, std::memory_order_relaxed);
    detail::g_sinkEpoch.fetch_add(1, std::memory_order_relaxed);
    detail::g_sinkCtx.store(ctx, std::memory_order_relaxed);
    detail::g_eventSink.store(sink, std::memory_order_release);
    if (sink) detail::g_objectEvents.store(objectLevel, std::memory_order_release);
}

}  // namespace spanscope
