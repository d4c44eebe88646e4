// The allocator's records, typed: one inline function per record kind (or per meaning of a kind,
// as GCPhase's four phases), with named parameters, that packs the Event fields as
// event_kinds.h documents them (through spanscope::payload where a field is packed) and hands the
// record to the event hook (events.h). Sites write SPANSCOPE_RECORD(spanFree(...)), never the
// nine positional fields. See spanscope/allocator.h for the allocator's overview.
#pragma once
#include <cstddef>
#include <cstdint>

#include "spanscope/events.h"

// The positional primitive, the nine Event fields in order, used only by the functions below
// (and #undef'd at the end of this file, so no site can use it). It does not test for a sink:
// SPANSCOPE_RECORD has, and emitEvent tests again with acquire ordering before it stamps a record.
#define SPANSCOPE_EMIT(kind, spc, flags, npages, addr, a, b, c, d) \
    ::spanscope::detail::emitEvent(kind, spc, flags, npages, addr, a, b, c, d)

// SPANSCOPE_RECORD(spanFree(spc, base, npages)): emits spanscope::record::spanFree(...) when a sink
// is installed. It costs what the hook costs: one predictable, untaken branch with no sink, the
// arguments evaluated only past it (a site may pass loads or exchanges). With SPANSCOPE_EVENTS off
// it compiles to nothing; the call stays in a discarded `if constexpr` so that it is still
// type-checked and the site's variables still count as used (warning-free with -Werror).
#if SPANSCOPE_EVENTS
#define SPANSCOPE_RECORD(call)                                     \
    do {                                                           \
        if (SPANSCOPE_SINK_INSTALLED()) ::spanscope::record::call; \
    } while (0)
#else
#define SPANSCOPE_RECORD(call)                          \
    do {                                                \
        if constexpr (false) ::spanscope::record::call; \
    } while (0)
#endif

namespace spanscope::record {

// ---- Spans (mheap.cpp, mcentral.cpp, mcache.cpp, mgcsweep.cpp) -------------------------------

// Go's mheap.allocSpan: a span of npages taken from the page heap for nelems objects.
inline void spanAlloc(uint8_t spanClass, uint64_t base, size_t npages, uint64_t nelems) {
    SPANSCOPE_EMIT(EventKind::SpanAlloc, spanClass, 0, static_cast<uint32_t>(npages), base, nelems,
                   0, 0, 0);
}

// Go's mcentral.uncacheSpan: a span handed back from an mcache; flags 1 when it is full.
inline void spanUncache(uint8_t spanClass, uint64_t base, size_t npages, uint64_t allocCount,
                        uint64_t nelems) {
    SPANSCOPE_EMIT(EventKind::SpanUncache, spanClass, allocCount == nelems ? 1 : 0,
                   static_cast<uint32_t>(npages), base, allocCount, nelems, 0, 0);
}

// The span a refill handed back to mcentral (SpanRefill.d and flags 2 | 4); base 0: none.
struct HandedBack {
    uint64_t base = 0;
    uint64_t allocCount = 0;  // kept in the low 13 bits of d (payload::packRefillOld)
    bool full = false;
};

// Go's mcache.refill: the span now cached in the mcache (its allocCount, of nelems), with the
// objects a sweep on the way freed (sweptFreed < 0: not swept on the way) and the span handed back.
inline void spanRefill(uint8_t spanClass, uint64_t base, size_t npages, uint64_t allocCount,
                       uint64_t nelems, long sweptFreed, HandedBack old) {
    const uint8_t flags =
        static_cast<uint8_t>((sweptFreed >= 0 ? kRefillSwept : 0) |
                             (old.base ? kRefillUncached | (old.full ? kRefillOldFull : 0) : 0));
    SPANSCOPE_EMIT(EventKind::SpanRefill, spanClass, flags, static_cast<uint32_t>(npages), base,
                   allocCount, nelems, sweptFreed >= 0 ? static_cast<uint64_t>(sweptFreed) : 0,
                   old.base ? payload::packRefillOld(old.base, old.allocCount) : 0);
}

// Go's mspan.sweep, when it freed objects: freed of them, live left, of nelems.
inline void spanSweep(uint8_t spanClass, uint64_t base, size_t npages, uint64_t freed,
                      uint64_t live, uint64_t nelems) {
    SPANSCOPE_EMIT(EventKind::SpanSweep, spanClass, 0, static_cast<uint32_t>(npages), base, freed,
                   live, nelems, 0);
}

// Go's mheap.freeSpan: a span went back to the page heap.
inline void spanFree(uint8_t spanClass, uint64_t base, size_t npages) {
    SPANSCOPE_EMIT(EventKind::SpanFree, spanClass, 0, static_cast<uint32_t>(npages), base, 0, 0, 0,
                   0);
}

// ---- Large objects (mheap.cpp) -----------------------------------------------------------------

// Go's largeAlloc: an object of requestedBytes in a span of its own (addr = the span's base).
inline void largeAlloc(uint8_t spanClass, uint64_t addr, size_t npages, uint64_t requestedBytes) {
    SPANSCOPE_EMIT(EventKind::LargeAlloc, spanClass, 0, static_cast<uint32_t>(npages), addr,
                   requestedBytes, 0, 0, 0);
}

// realloc grew a large object in place: a LargeAlloc with flags 1, npages now spanning bytes.
inline void largeGrownInPlace(uint8_t spanClass, uint64_t addr, size_t npages, uint64_t bytes) {
    SPANSCOPE_EMIT(EventKind::LargeAlloc, spanClass, 1, static_cast<uint32_t>(npages), addr, bytes,
                   0, 0, 0);
}

inline void largeFree(uint8_t spanClass, uint64_t addr, size_t npages) {
    SPANSCOPE_EMIT(EventKind::LargeFree, spanClass, 0, static_cast<uint32_t>(npages), addr, 0, 0, 0,
                   0);
}

// ---- The page heap and the scavenger (mheap.cpp, mgcscavenge.cpp) -----------------------------

// Go's mheap.sysAlloc: an arena of bytes (npages) reserved at base.
inline void arenaMap(uint64_t base, size_t npages, uint64_t bytes) {
    SPANSCOPE_EMIT(EventKind::ArenaMap, 0, 0, static_cast<uint32_t>(npages), base, bytes, 0, 0, 0);
}

// Go's mheap.grow: bytes (npages) mapped at base, counted released until used.
inline void heapGrow(uint64_t base, size_t npages, uint64_t bytes) {
    SPANSCOPE_EMIT(EventKind::HeapGrow, 0, 0, static_cast<uint32_t>(npages), base, bytes, 0, 0, 0);
}

// Go's scavenger: npages at base released to the operating system.
inline void scavenge(uint64_t base, size_t npages) {
    SPANSCOPE_EMIT(EventKind::Scavenge, 0, 0, static_cast<uint32_t>(npages), base, 0, 0, 0, 0);
}

// Go's allocSpan's sysUsed: npages of released memory at base taken again for a span of spanClass.
inline void scavReuse(uint8_t spanClass, uint64_t base, size_t npages) {
    SPANSCOPE_EMIT(EventKind::ScavReuse, spanClass, 0, static_cast<uint32_t>(npages), base, 0, 0, 0,
                   0);
}

// ---- The collector's phases (mgc.cpp): one GCPhase record each, addr meaning per phase ---------
// a = cycle, b = heapLive, c = heapGoal, d = trigger (bytes); npages = stop-the-world µs.

// The four below; addr as the phase reads it.
inline void gcPhaseFields(GCPhaseKind phase, uint64_t cycle, uint64_t heapLive, uint64_t heapGoal,
                          uint64_t trigger, uint64_t stwNs, uint64_t addr) {
    SPANSCOPE_EMIT(EventKind::GCPhase, 0, static_cast<uint8_t>(phase),
                   static_cast<uint32_t>(stwNs / 1000), addr, cycle, heapLive, heapGoal, trigger);
}

// Go's gcStart after STW 1: stwNs of stop-the-world; the memory limit in bytes (0: none).
inline void gcSweepTermination(uint64_t cycle, uint64_t heapLive, uint64_t heapGoal,
                               uint64_t trigger, uint64_t stwNs, uint64_t memoryLimitBytes) {
    gcPhaseFields(GCPhaseKind::SweepTermination, cycle, heapLive, heapGoal, trigger, stwNs,
                  memoryLimitBytes);
}

// Concurrent mark began (the world restarted); the memory limit in bytes (0: none).
inline void gcMark(uint64_t cycle, uint64_t heapLive, uint64_t heapGoal, uint64_t trigger,
                   uint64_t memoryLimitBytes) {
    gcPhaseFields(GCPhaseKind::Mark, cycle, heapLive, heapGoal, trigger, 0, memoryLimitBytes);
}

// Go's gcMarkTermination (STW 2): the cycle's mark assist and background mark worker CPU in µs.
inline void gcMarkTermination(uint64_t cycle, uint64_t heapLive, uint64_t heapGoal,
                              uint64_t trigger, uint64_t stwNs, uint64_t assistUs,
                              uint64_t workerUs) {
    gcPhaseFields(GCPhaseKind::MarkTermination, cycle, heapLive, heapGoal, trigger, stwNs,
                  payload::packHiLo(assistUs, workerUs));
}

// The cycle ended (_GCoff) with the next goal and trigger: idle mark worker CPU in µs, the memory
// limit in MiB (0: none).
inline void gcOff(uint64_t cycle, uint64_t heapLive, uint64_t nextGoal, uint64_t nextTrigger,
                  uint64_t idleMarkUs, uint64_t memoryLimitMiB) {
    gcPhaseFields(GCPhaseKind::Off, cycle, heapLive, nextGoal, nextTrigger, 0,
                  payload::packHiLo(idleMarkUs, memoryLimitMiB));
}

// Go's gcAssistAlloc, when the assist did work: work units done, the debt it paid, its duration.
inline void markAssistEnd(uint64_t workDone, uint64_t debtPaid, uint64_t durationNs) {
    SPANSCOPE_EMIT(EventKind::MarkAssistEnd, 0, 0, 0, 0, workDone, debtPaid, durationNs, 0);
}

// ---- Sweeping (mgcsweep.cpp) -------------------------------------------------------------------

// Sweeping that freed nothing, summed: pages swept (cumulative), pages in use, the sweeps that
// freed nothing since the previous record, the sweepgen; allSwept when the generation or cycle is
// done.
inline void sweepProgress(bool allSwept, uint64_t pagesSwept, uint64_t pagesInUse,
                          uint64_t quietSweeps, uint64_t sweepgen) {
    SPANSCOPE_EMIT(EventKind::SweepProgress, 0, allSwept ? 1 : 0, 0, 0, pagesSwept, pagesInUse,
                   quietSweeps, sweepgen);
}

// Malloc mode: a sweep generation began (its number as NumSweepCycles counts it).
inline void sweepCycle(uint64_t sweepgen, uint64_t heapLive, uint64_t trigger,
                       uint64_t generation) {
    SPANSCOPE_EMIT(EventKind::SweepCycle, 0, 0, 0, 0, sweepgen, heapLive, trigger, generation);
}

// ---- Threads (mcache.cpp): the tid is the record's own -----------------------------------------

inline void threadStart() {
    SPANSCOPE_EMIT(EventKind::ThreadStart, 0, 0, 0, 0, 0, 0, 0, 0);
}
inline void threadExit() {
    SPANSCOPE_EMIT(EventKind::ThreadExit, 0, 0, 0, 0, 0, 0, 0, 0);
}

// ---- Object level, only when asked for (SPANSCOPE_OBJECT_EVENTS) -------------------------------

// mallocgc: an object of requestedBytes in the slot at addr.
inline void objAlloc(uint8_t spanClass, uint64_t addr, uint64_t requestedBytes) {
    SPANSCOPE_EMIT(EventKind::ObjAlloc, spanClass, 0, 0, addr, requestedBytes, 0, 0, 0);
}
// The tiny allocator started a new 16-byte block at addr for an object of requestedBytes.
inline void objAllocTinyBlock(uint8_t spanClass, uint64_t addr, uint64_t requestedBytes) {
    SPANSCOPE_EMIT(EventKind::ObjAlloc, spanClass, 1, 0, addr, requestedBytes, 0, 0, 0);
}

// Go's sweep freeing unmarked slots: freedMask's slots of allocBits word `word` of the span at
// base.
inline void objFree(uint8_t spanClass, uint64_t spanBase, size_t word, uint64_t freedMask) {
    SPANSCOPE_EMIT(EventKind::ObjFree, spanClass, 0, static_cast<uint32_t>(word), spanBase,
                   freedMask, 0, 0, 0);
}

// ObjMark.flags: grey = marked and queued for scanning, black = scanned (or nothing to scan).
enum class MarkColour : uint8_t { Grey = 0, Black = 1 };
inline void objMark(uint8_t spanClass, uint64_t addr, MarkColour colour) {
    SPANSCOPE_EMIT(EventKind::ObjMark, spanClass, static_cast<uint8_t>(colour), 0, addr, 0, 0, 0,
                   0);
}

// ---- The heap profile (mprof.cpp)
// ----------------------------------------------------------------

// Go's mProf_Malloc: a sampled allocation of slotBytes at addr, its stack's bucket, the sampling
// rate in bytes; managed for the collected heap.
inline void profAlloc(uint8_t spanClass, uint64_t addr, uint64_t slotBytes, uint64_t bucketId,
                      uint64_t rateBytes, bool managed) {
    SPANSCOPE_EMIT(EventKind::ProfAlloc, spanClass, managed ? 1 : 0, 0, addr, slotBytes, bucketId,
                   rateBytes, 0);
}

// Go's mProf_Free: a sampled object was freed.
inline void profFree(uint64_t addr, uint64_t slotBytes, uint64_t bucketId, bool managed) {
    SPANSCOPE_EMIT(EventKind::ProfFree, 0, managed ? 1 : 0, 0, addr, slotBytes, bucketId, 0, 0);
}

// One chunk (index chunk) of a bucket's stack: frames[0..count) (count <= 5) return addresses,
// innermost first, the unused fields zero; last on the stack's final chunk.
inline constexpr unsigned kProfStackFramesPerRecord = 5;
inline void profStack(uint32_t bucketId, uint8_t chunk, const uintptr_t* frames, unsigned count,
                      bool last) {
    uint64_t f[kProfStackFramesPerRecord] = {};
    for (unsigned i = 0; i < count && i < kProfStackFramesPerRecord; i++) f[i] = frames[i];
    SPANSCOPE_EMIT(EventKind::ProfStack, chunk, payload::packProfStackFlags(count, last), bucketId,
                   f[0], f[1], f[2], f[3], f[4]);
}

}  // namespace spanscope::record

#undef SPANSCOPE_EMIT
