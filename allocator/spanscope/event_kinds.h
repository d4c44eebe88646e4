// The allocator's event kinds, declared once: number, name, how the layers above treat the kind
// (KindFlag), the payload's fields with their units, and the sentence a record says. events.h
// makes the EventKind enum from this list; instrumentation/spanscope/kinds.h adds the probe's
// kinds and derives everything else (the event_kinds rows, names, SQL filters, the presenter's
// stepping, the narration's default sentence); a test checks docs/session-format.md's table.
// Adding a kind: a row here (or in stream.h's probe list), its typed function in detail/emit.h
// (and a case in tests/allocator/emit_test.cpp), the site that calls it and its docs row.
#pragma once
#include <cstdint>

namespace spanscope {

// How the instrumentation and the GUI treat a kind (bits of a kind's flags).
enum KindFlag : uint32_t {
    kKindSpanView = 1u << 0,   // a span lifecycle record: listed by the span_events SQL view
    kKindSpanModel = 1u << 1,  // changes the replayed span table (session::SpanModel, keyframes)
    kKindStep = 1u << 2,       // the presenter's Next/Previous record stops at it
    kKindPhase = 1u << 3,      // the presenter's Next/Previous GC phase stops at it
    kKindCounter = 1u << 4,    // the sampler's counters: kept in class_counters/heap_totals rows
    kKindProfile = 1u << 5,    // the heap profile's: kept in the prof_ tables
    kKindObject = 1u << 6,     // object level: emitted only when objectLevel was asked for
    kKindLegacy = 1u << 7,     // no longer emitted: found only in sessions recorded before
    kKindTransient = 1u << 8,  // a stream control record, never stored in a session
};

// X(Name, number, flags, "fields (units)", "what a record says")
// Fields name the Event members (events.h): spanClass = size class << 1 | noscan unless said.
#define SPANSCOPE_ALLOCATOR_KINDS(X)                                                              \
    X(SpanAlloc, 1, kKindSpanView | kKindSpanModel | kKindStep,                                   \
      "addr = span base, npages = its pages, spanClass, a = nelems (objects per span)",           \
      "A span was taken from the page heap")                                                      \
    X(SpanCache, 2, kKindSpanView | kKindSpanModel | kKindStep | kKindLegacy,                     \
      "addr = span base, npages, spanClass, a = allocCount (objects in use), b = nelems (no "     \
      "longer emitted: sessions recorded before SpanRefill)",                                     \
      "A span was cached into a thread's mcache")                                                 \
    X(SpanUncache, 3, kKindSpanView | kKindSpanModel | kKindStep,                                 \
      "addr = span base, npages, spanClass, a = allocCount, b = nelems; flags 1 = it is full",    \
      "A span was handed back from an mcache to mcentral")                                        \
    X(SpanSweep, 4, kKindSpanView | kKindSpanModel | kKindStep,                                   \
      "addr = span base, npages, spanClass, a = objects freed, b = objects live, c = nelems",     \
      "A span was swept and freed objects")                                                       \
    X(SpanFree, 5, kKindSpanView | kKindSpanModel | kKindStep,                                    \
      "addr = span base, npages, spanClass", "A span went back to the page heap")                 \
    X(LargeAlloc, 6, kKindSpanView | kKindSpanModel | kKindStep,                                  \
      "addr = the object (its span's base), npages, a = requested bytes; flags 1 = grown in "     \
      "place (realloc)",                                                                          \
      "A large object got a span of its own")                                                     \
    X(LargeFree, 7, kKindSpanView | kKindSpanModel | kKindStep, "addr = the object, npages",      \
      "A large object was freed")                                                                 \
    X(ArenaMap, 8, kKindStep, "addr = arena base, a = bytes reserved",                            \
      "The heap reserved a new arena")                                                            \
    X(HeapGrow, 9, kKindStep, "addr, npages (mapped, counted released)", "The page heap grew")    \
    X(Scavenge, 10, kKindStep, "addr, npages released to the operating system",                   \
      "The scavenger released pages to the operating system")                                     \
    X(ScavReuse, 11, kKindStep, "addr, npages of released memory taken again",                    \
      "The page heap took back released pages")                                                   \
    X(GCPhase, 12, kKindStep | kKindPhase,                                                        \
      "a = cycle, b = heapLive (bytes), c = heapGoal (bytes), d = trigger (bytes), flags = "      \
      "phase (0 off, 1 mark, 2 mark termination, 3 sweep termination), npages = "                 \
      "stop-the-world µs; addr: the memory limit (bytes) at sweep termination and mark, assist " \
      "CPU µs << 32 | mark worker CPU µs at mark termination, idle mark CPU µs << 32 | the "   \
      "limit (MiB) at off",                                                                       \
      "A GC phase began")                                                                         \
    X(MarkAssistBegin, 13, kKindStep | kKindLegacy,                                               \
      "none (sessions recorded before MarkAssistEnd carried the duration)",                       \
      "A thread began a mark assist")                                                             \
    X(MarkAssistEnd, 14, kKindStep,                                                               \
      "a = work done, b = the debt it paid (both work units), c = its duration (ns; 0 in older "  \
      "sessions)",                                                                                \
      "A thread finished a mark assist")                                                          \
    X(SweepProgress, 15, kKindSpanModel | kKindStep,                                              \
      "a = pages swept (cumulative), b = pages in use, c = sweeps that freed nothing since the "  \
      "previous SweepProgress, d = sweepgen; flags 1 = every span of this generation or cycle "   \
      "is swept",                                                                                 \
      "Sweeping went on without freeing anything")                                                \
    X(ThreadStart, 16, kKindStep, "tid", "A thread started")                                      \
    X(ThreadExit, 17, kKindStep, "tid", "A thread exited")                                        \
    X(ClassCounters, 18, kKindCounter,                                                            \
      "spanClass = size class, a = mallocs, b = frees (cumulative), c = requested bytes "         \
      "(cumulative), d = mallocs × size (slot bytes), npages = spans in use",                     \
      "The sampler counted a size class")                                                         \
    X(HeapTotals, 19, kKindCounter,                                                               \
      "a = HeapAlloc, b = HeapInuse, c = HeapIdle, d = HeapReleased (bytes)",                     \
      "The sampler totalled the heap")                                                            \
    X(ObjAlloc, 20, kKindStep | kKindObject,                                                      \
      "addr = the slot, a = requested bytes; flags 1 = a new tiny block",                         \
      "An object was allocated")                                                                  \
    X(ObjFree, 21, kKindStep | kKindObject,                                                       \
      "addr = span base, npages = allocBits word index, a = mask of the slots freed in that "     \
      "word",                                                                                     \
      "The sweeper freed unmarked objects")                                                       \
    X(ObjMark, 22, kKindStep | kKindObject,                                                       \
      "addr = the slot; flags 0 = grey (marked, queued), 1 = black (scanned)",                    \
      "The GC marked an object")                                                                  \
    X(SweepCycle, 23, kKindStep | kKindPhase,                                                     \
      "a = sweepgen, b = heapLive (bytes), c = trigger (bytes), d = the generation's number "     \
      "(NumSweepCycles from then on; 0 in old streams)",                                          \
      "A sweep generation began (malloc mode)")                                                   \
    X(SpanRefill, 24, kKindSpanView | kKindSpanModel | kKindStep,                                 \
      "addr = span base, npages, spanClass: the span now cached; a = its allocCount, b = "        \
      "nelems, c = objects the sweep on the way freed, d = the span handed back: base | "         \
      "allocCount (low 13 bits); flags 1 = swept on the way, 2 = a span was handed back, 4 = "    \
      "that span was full",                                                                       \
      "A thread refilled its mcache")                                                             \
    X(ProfAlloc, 25, kKindProfile,                                                                \
      "addr = the object (slot), a = slot bytes, b = bucket id, c = sampling rate (bytes), "      \
      "spanClass; flags 1 = managed heap",                                                        \
      "The heap profiler sampled an allocation")                                                  \
    X(ProfFree, 26, kKindProfile,                                                                 \
      "addr = the object, a = slot bytes, b = bucket id; flags 1 = managed heap",                 \
      "A sampled object was freed")                                                               \
    X(ProfStack, 27, kKindProfile,                                                                \
      "npages = bucket id, spanClass = chunk index, flags = return addresses in this record "     \
      "(1..5) | 0x80 on the last chunk; addr, a, b, c, d = return addresses, innermost first",    \
      "A sampled allocation site's stack")

}  // namespace spanscope
