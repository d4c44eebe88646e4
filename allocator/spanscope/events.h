// The allocator's event hook: fixed-size records emitted on slow paths only, to one sink.
// With no sink installed each emission point costs one predictable branch; configuring with
// -DSPANSCOPE_EVENTS=OFF removes them. instrumentation/ installs the sink and streams the records.
#pragma once
#include <atomic>
#include <cstdint>

namespace spanscope {

enum class EventKind : uint16_t {
    None = 0,
    SpanAlloc = 1,    // span taken from the page heap: addr, npages, spanClass, a = nelems
    SpanCache = 2,    // span cached into an mcache: a = allocCount, b = nelems
    SpanUncache = 3,  // span returned to mcentral: a = allocCount, b = nelems, flags = 1 if full
    SpanSweep = 4,    // span swept: a = objects freed, b = objects live, c = nelems
    SpanFree = 5,     // span returned to the page heap
    LargeAlloc = 6,   // large object: addr, npages, a = requested bytes; flags = 1: grown in
                      // place (realloc)
    LargeFree = 7,    // large object freed
    ArenaMap = 8,     // 64 MiB arena reserved: addr, a = bytes
    HeapGrow = 9,     // heap grown: addr, npages (mapped, counted released)
    Scavenge = 10,    // pages released to the OS: addr, npages
    ScavReuse = 11,   // released pages taken again: addr, npages
    GCPhase = 12,  // a = cycle, b = heapLive (heap0/heap1/heap2 at the phase edges), c = heapGoal,
                   // d = trigger, flags = phase, npages = stw us; at MarkTermination
                   // addr = assist CPU us << 32 | mark worker CPU us
    MarkAssistBegin = 13,  // no longer emitted (sessions before MarkAssistEnd carried the time)
    MarkAssistEnd = 14,    // an assist that did work: a = work done, b = the debt it paid (work
                           // units), c = its duration in ns (it began at timeNs - c). Assists
                           // that find no work are not recorded (their CPU is in GCPhase's addr)
    SweepProgress = 15,    // a = pages swept (cumulative), b = pages in use, c = sweeps that freed
                         // nothing since the last SweepProgress (they have no SpanSweep record), d
                         // = sweepgen; flags = 1: every span of this generation/cycle is swept
    ThreadStart = 16,
    ThreadExit = 17,
    ClassCounters =
        18,  // spanClass = size class: a = mallocs, b = frees, c = requested bytes, d = slot bytes
    HeapTotals = 19,  // a = HeapAlloc, b = HeapInuse, c = HeapIdle, d = HeapReleased
    ObjAlloc = 20,    // opt-in object level (managed heap): addr = slot, a = requested bytes,
                      // flags = 1 for a new tiny block
    ObjFree = 21,     // object level, at sweep: addr = span base, npages = bitmap word index,
                      // a = mask of the slots freed in that word (one record per word with frees)
    ObjMark = 22,     // object level: addr = slot; flags = 0 grey (marked, queued for scanning),
                      // 1 black (scanned, or marked and pointer-free)
    SweepCycle =
        23,  // malloc mode: a new sweep generation began: a = sweepgen, b = heapLive, c = trigger
    SpanRefill = 24,  // an mcache refill, one record for what were up to three (uncache, sweep,
                      // cache): addr/npages = the span now cached, a = its allocCount, b = nelems,
                      // c = objects the sweep on the way freed; d = the span handed back: its base
                      // | its allocCount (a base is page-aligned: the low 13 bits carry the count);
                      // flags: 1 = the new span was swept on the way, 2 = a span was handed back,
                      // 4 = that span was full
    // The heap profiler (allocator/mprof.cpp, Go's MemProfileRate sampling), both heaps:
    ProfAlloc = 25,  // a sampled allocation: addr = object (slot), a = slot bytes, b = bucket id,
                     // c = MemProfileRate when sampled, flags = 1 on the managed heap
    ProfFree = 26,   // a sampled object freed (malloc mode at free, managed heap at sweep):
                     // addr, a = slot bytes, b = bucket id, flags = 1 on the managed heap
    ProfStack = 27,  // a bucket's stack, before its first ProfAlloc in a stream: npages = bucket
                     // id, spanClass = chunk index, flags = frames in this record (1..5) | 0x80 on
                     // the last chunk; addr, a, b, c, d = return addresses, innermost first
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

// The sink runs on the allocating thread with the allocator's recursion guard held: it must not
// allocate through the allocator it observes (instrumentation copies the record into a buffer).
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

#if SPANSCOPE_EVENTS
#define SPANSCOPE_EMIT(kind, spc, flags, npages, addr, a, b, c, d)                               \
    do {                                                                                         \
        if (__builtin_expect(                                                                    \
                ::spanscope::detail::g_eventSink.load(std::memory_order_relaxed) != nullptr, 0)) \
            ::spanscope::detail::emitEvent(kind, spc, flags, npages, addr, a, b, c, d);          \
    } while (0)
// Object-level records: one more predictable branch, on the managed heap's allocation, mark and
// sweep paths only (like Go's allocfreetrace check in mallocgc).
#define SPANSCOPE_OBJECT_EVENTS() \
    __builtin_expect(::spanscope::detail::g_objectEvents.load(std::memory_order_relaxed), 0)
#else
#define SPANSCOPE_EMIT(kind, spc, flags, npages, addr, a, b, c, d) \
    do {                                                           \
    } while (0)
#define SPANSCOPE_OBJECT_EVENTS() false
#endif

}  // namespace spanscope
