// The allocator's event hook: fixed-size records emitted on slow paths only, to one sink.
// With no sink installed each emission point costs one predictable branch; configuring with
// -DSPANSCOPE_EVENTS=OFF removes them. The allocator emits through detail/emit.h's typed records
// (one function per kind, named fields); instrumentation/ installs the sink and streams them.
#pragma once
#include <atomic>
#include <cstdint>

#include "spanscope/event_kinds.h"

namespace spanscope {

// The kinds and their payloads: event_kinds.h (one list, from which everything else derives).
enum class EventKind : uint16_t {
    None = 0,
#define SPANSCOPE_KIND_ENUM(name, number, ...) name = number,
    SPANSCOPE_ALLOCATOR_KINDS(SPANSCOPE_KIND_ENUM)
#undef SPANSCOPE_KIND_ENUM
};
inline constexpr uint8_t kRefillSwept = 1, kRefillUncached = 2, kRefillOldFull = 4;
inline constexpr uint64_t kRefillCountMask = 0x1fff;  // SpanRefill.d: the old span's allocCount

// GC phases carried in GCPhase.flags (Go's _GCoff/_GCmark/_GCmarktermination plus the STW edges).
enum class GCPhaseKind : uint8_t { Off = 0, Mark = 1, MarkTermination = 2, SweepTermination = 3 };

struct Event {
    uint64_t timeNs;  // CLOCK_MONOTONIC
    uint32_t seq;     // per-thread sequence number
    uint32_t tid;     // kernel thread id
    EventKind kind;
    uint8_t spanClass;
    uint8_t flags;
    uint32_t npages;
    uint64_t addr;
    uint64_t a, b, c, d;
};
static_assert(sizeof(Event) == 64, "Event layout is part of the stream format");

// ---- Packed payload fields, named: the only place their bit layout is spelled out -------------
// Readers (instrumentation, ui) unpack through these, writers pack through them.
namespace payload {
// SpanRefill.d (flags & kRefillUncached): the span handed back, a page-aligned base whose low 13
// bits carry its allocCount.
constexpr uint64_t packRefillOld(uint64_t base, uint64_t allocCount) {
    return base | (allocCount & kRefillCountMask);
}
constexpr uint64_t refillOldBase(const Event& e) {
    return e.d & ~kRefillCountMask;
}
constexpr uint16_t refillOldAllocCount(const Event& e) {
    return static_cast<uint16_t>(e.d & kRefillCountMask);
}
// GCPhase.addr: two µs counts at mark termination (assist << 32 | mark workers) and the idle mark
// workers' µs << 32 | the memory limit in MiB at off (detail/emit.h's gcMarkTermination, gcOff).
constexpr uint64_t packHiLo(uint64_t hi, uint64_t lo) {
    return hi << 32 | (lo & 0xffffffff);
}
constexpr uint64_t gcPhaseHi(const Event& e) {
    return e.addr >> 32;
}
constexpr uint64_t gcPhaseLo(const Event& e) {
    return e.addr & 0xffffffff;
}
// ProfStack.flags: the return addresses in this record (1..5) | kProfStackLast on the last chunk.
inline constexpr uint8_t kProfStackLast = 0x80;
constexpr uint8_t packProfStackFlags(unsigned frames, bool last) {
    return static_cast<uint8_t>(frames | (last ? kProfStackLast : 0));
}
constexpr unsigned profStackFrames(const Event& e) {
    return e.flags & 0x7fu;
}
constexpr bool profStackLast(const Event& e) {
    return (e.flags & kProfStackLast) != 0;
}
}  // namespace payload

// The sink runs on the allocating thread with the allocator's recursion guard held: it must not
// allocate through the allocator it observes (instrumentation copies the record into a buffer).
// The record comes unstamped (timeNs 0): the sink reads the clock itself (detail::nanotime), so
// that a sink which orders threads' records by time can first say that a record is on its way.
// (The probe marks its ring before stamping: a thread preempted between its clock read and its
// ring's publish would otherwise deliver a record older than a watermark already sent.)
using EventSink = void (*)(const Event&, void* ctx);

// Install or remove (nullptr) the sink. Object-level events are emitted only when objectLevel is
// set.
void setEventSink(EventSink sink, void* ctx, bool objectLevel = false);

namespace detail {
extern std::atomic<EventSink> g_eventSink;
extern std::atomic<bool> g_objectEvents;  // set with the sink when objectLevel is asked for
extern std::atomic<uint32_t>
    g_sinkEpoch;  // bumped by setEventSink: a new stream, stacks not yet sent
void emitEvent(EventKind kind, uint8_t spanClass, uint8_t flags, uint32_t npages, uint64_t addr,
               uint64_t a, uint64_t b, uint64_t c, uint64_t d);
}  // namespace detail

// Records are emitted through detail/emit.h's typed functions: SPANSCOPE_RECORD(spanFree(...)).
#if SPANSCOPE_EVENTS
// The one branch an emission point costs: is a sink installed? Predicted not taken.
#define SPANSCOPE_SINK_INSTALLED() \
    __builtin_expect(::spanscope::detail::g_eventSink.load(std::memory_order_relaxed) != nullptr, 0)
// Object-level records: one more predictable branch, on the managed heap's allocation, mark and
// sweep paths only (like Go's allocfreetrace check in mallocgc).
#define SPANSCOPE_OBJECT_EVENTS() \
    __builtin_expect(::spanscope::detail::g_objectEvents.load(std::memory_order_relaxed), 0)
#else
#define SPANSCOPE_SINK_INSTALLED() false
#define SPANSCOPE_OBJECT_EVENTS() false
#endif

}  // namespace spanscope
