// mcentral: Go's cacheSpan/uncacheSpan over swept and unswept span sets. See spanscope/allocator.h.
#include "spanscope/detail/mcentral.h"

#include "spanscope/detail/mheap.h"
#include "spanscope/events.h"

namespace spanscope::detail {

namespace {
constexpr int kSweepBudget = 100;  // Go's cacheSpan spanBudget
}

void MCentral::placeSwept(MHeap& heap, MSpan* s, uint32_t sg) {
    __atomic_store_n(&s->sweepgen, sg, __ATOMIC_RELEASE);
    if (s->allocCount == 0) {
        heap.freeSpan(s);
        return;
    }
    LockGuard g(lock);
    const bool full = !s->hasRoom();
    if (s->wantsSweep()) {
        // Freed again after the sweep read the free bits: it needs another sweep.
        __atomic_store_n(&s->sweepgen, sg - 2, __ATOMIC_RELEASE);
        if (full) fullUnswept(sg).push(s, SpanWhere::FullUnswept);
        else partialUnswept(sg).push(s, SpanWhere::PartialUnswept);
    } else if (full) {
        fullSwept(sg).push(s, SpanWhere::FullSwept);
    } else {
        partialSwept(sg).push(s, SpanWhere::PartialSwept);
    }
}

void MCentral::markDirty(MHeap& heap, MSpan* s) {
    LockGuard g(lock);
    const uint32_t sg = heap.sweepgen();
    if (__atomic_load_n(&s->sweepgen, __ATOMIC_ACQUIRE) != sg) return;  // cached, unswept or being swept: it will be seen
    if (s->whereNow() == SpanWhere::FullSwept) {
        fullSwept(sg).remove(s);
        __atomic_store_n(&s->sweepgen, sg - 2, __ATOMIC_RELEASE);
        fullUnswept(sg).push(s, SpanWhere::FullUnswept);
    } else if (s->whereNow() == SpanWhere::PartialSwept) {
        partialSwept(sg).remove(s);
        __atomic_store_n(&s->sweepgen, sg - 2, __ATOMIC_RELEASE);
        partialUnswept(sg).push(s, SpanWhere::PartialUnswept);
    }
}

MSpan* MCentral::cacheSpan(MHeap& heap) {
    if (heap.managed())
        heap.deductSweepCredit(size_t{kClassToAllocNPages[spanClassSize(spanclass)]} * kPageSize);
    const uint32_t sg = heap.sweepgen();
    lock.lock();
    if (MSpan* s = partialSwept(sg).pop()) {
        lock.unlock();
        return s;
    }
    for (int budget = kSweepBudget; budget > 0; budget--) {
        if (MSpan* s = partialUnswept(sg).pop()) {
            lock.unlock();
            __atomic_store_n(&s->sweepgen, sg - 1, __ATOMIC_RELAXED);
            heap.noteSwept(s, sweepSpan(s));  // preserve: keep it even if it is now empty
            __atomic_store_n(&s->sweepgen, sg, __ATOMIC_RELEASE);
            return s;
        }
        MSpan* s = fullUnswept(sg).pop();
        if (!s) break;
        lock.unlock();
        __atomic_store_n(&s->sweepgen, sg - 1, __ATOMIC_RELAXED);
        heap.noteSwept(s, sweepSpan(s));
        __atomic_store_n(&s->sweepgen, sg, __ATOMIC_RELEASE);
        if (s->hasRoom()) return s;
        lock.lock();
        if (s->wantsSweep()) {
            __atomic_store_n(&s->sweepgen, sg - 2, __ATOMIC_RELEASE);
            fullUnswept(sg).push(s, SpanWhere::FullUnswept);
        } else {
            fullSwept(sg).push(s, SpanWhere::FullSwept);
        }
    }
    lock.unlock();
    // Go's mcentral.grow: a fresh span from the heap.
    return heap.allocSpan(kClassToAllocNPages[spanClassSize(spanclass)], spanclass);
}

void MCentral::uncacheSpan(MHeap& heap, MSpan* s, bool swept) {
    __atomic_store_n(&s->owner, static_cast<MCache*>(nullptr), __ATOMIC_RELEASE);
    SPANSCOPE_EMIT(EventKind::SpanUncache, s->spanclass, s->allocCount == s->nelems, static_cast<uint32_t>(s->npages),
                   s->startAddr, s->allocCount, s->nelems, 0, 0);
    // Malloc mode sweeps on uncache: the owner's frees are merged and the span is placed by its
    // real occupancy (Go sweeps a stale +1 span here; malloc mode treats every span that way).
    // Malloc mode: the owner's own frees (local bits) must be merged before anyone else may
    // sweep it. Managed mode: a cached span is swept already (Go's non-stale uncacheSpan).
    if (!swept && !s->managed) heap.noteSwept(s, sweepSpan(s));
    placeSwept(heap, s, heap.sweepgen());
}

bool MCentral::sweepOne(MHeap& heap) {
    const uint32_t sg = heap.sweepgen();
    lock.lock();
    MSpan* s = partialUnswept(sg).pop();
    if (!s) s = fullUnswept(sg).pop();
    lock.unlock();
    if (!s) return false;
    __atomic_store_n(&s->sweepgen, sg - 1, __ATOMIC_RELAXED);
    heap.noteSwept(s, sweepSpan(s));
    placeSwept(heap, s, sg);
    return true;
}

}  // namespace spanscope::detail
