// mcentral: Go's cacheSpan/uncacheSpan over swept and unswept span sets. See spanscope/allocator.h.
#include "spanscope/detail/mcentral.h"

#include "spanscope/detail/emit.h"
#include "spanscope/detail/mheap.h"

namespace spanscope::detail {

namespace {
constexpr int kSweepBudget = 100;  // Go's cacheSpan spanBudget

// The owner's frees become shared frees counted in pendingFrees (which can pass the threshold
// here; placeSwept then files the span as unswept, and a remote free that found the span cached
// left that to us: markDirty ignores cached spans).
void mergeLocalFrees(MSpan* s) {
    unsigned k = 0;
    for (size_t w = 0; w < s->nwords; w++)
        if (uint64_t l = s->localFreeBits()[w]) {
            __atomic_fetch_or(&s->freeBits[w], l, __ATOMIC_SEQ_CST);
            storeRelaxed(s->localFreeBits()[w], uint64_t{0});
            k += popcount64Hot(l);
        }
    if (k) __atomic_add_fetch(&s->pendingFrees, static_cast<uint16_t>(k), __ATOMIC_SEQ_CST);
}
}  // namespace

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
        if (full)
            fullUnswept(sg).push(s, SpanWhere::FullUnswept);
        else
            partialUnswept(sg).push(s, SpanWhere::PartialUnswept);
    } else if (full) {
        fullSwept(sg).push(s, SpanWhere::FullSwept);
    } else {
        partialSwept(sg).push(s, SpanWhere::PartialSwept);
    }
}

void MCentral::markDirty(MHeap& heap, MSpan* s) {
    LockGuard g(lock);
    const uint32_t sg = heap.sweepgen();
    if (__atomic_load_n(&s->sweepgen, __ATOMIC_ACQUIRE) != sg)
        return;  // cached, unswept or being swept: it will be seen
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

MSpan* MCentral::cacheSpan(MHeap& heap, long* sweptFreed) {
    if (sweptFreed) *sweptFreed = -1;
    if (heap.managed())
        heap.deductSweepCredit(size_t{kClassToAllocNPages[spanClassSize(spanclass)]} * kPageSize);
    const uint32_t sg = heap.sweepgen();
    lock.lock();
    if (MSpan* s = partialSwept(sg).pop()) {
        lock.unlock();
        return s;
    }
    // Each sweep is counted from just after the pop (a fork child finds a span popped but not yet
    // claimed unswept, and sweeps it) until the span is swept (and, if full, placed).
    for (int budget = kSweepBudget; budget > 0; budget--) {
        if (MSpan* s = partialUnswept(sg).pop()) {
            heap.claimSweep();
            lock.unlock();
            heap.beginSweep();
            __atomic_store_n(&s->sweepgen, sg - 1, __ATOMIC_RELAXED);
            const size_t n = sweepSpan(s);  // preserve: keep it even if it is now empty
            heap.noteSwept(s, n, !sweptFreed);
            if (sweptFreed) *sweptFreed = static_cast<long>(n);
            __atomic_store_n(&s->sweepgen, sg, __ATOMIC_RELEASE);
            heap.endSweep();
            return s;
        }
        MSpan* s = fullUnswept(sg).pop();
        if (!s) break;
        heap.claimSweep();
        lock.unlock();
        heap.beginSweep();
        __atomic_store_n(&s->sweepgen, sg - 1, __ATOMIC_RELAXED);
        const size_t n = sweepSpan(s);
        const bool room = s->hasRoom();
        heap.noteSwept(s, n, !(room && sweptFreed));
        __atomic_store_n(&s->sweepgen, sg, __ATOMIC_RELEASE);
        if (room) {
            heap.endSweep();
            if (sweptFreed) *sweptFreed = static_cast<long>(n);
            return s;
        }
        lock.lock();
        if (s->wantsSweep()) {
            __atomic_store_n(&s->sweepgen, sg - 2, __ATOMIC_RELEASE);
            fullUnswept(sg).push(s, SpanWhere::FullUnswept);
        } else {
            fullSwept(sg).push(s, SpanWhere::FullSwept);
        }
        heap.endSweep();
    }
    lock.unlock();
    // Go's mcentral.grow: a fresh span from the heap.
    return heap.allocSpan(classNPages(spanClassSize(spanclass), !heap.managed()), spanclass);
}

void MCentral::uncacheSpan(MHeap& heap, MSpan* s, bool swept, bool emit) {
    __atomic_store_n(&s->owner, static_cast<MCache*>(nullptr), __ATOMIC_RELEASE);
    if (emit)
        SPANSCOPE_RECORD(
            spanUncache(s->spanclass, s->startAddr, s->npages, s->allocCount, s->nelems));
    // Malloc mode: the owner's own frees (plain local bits) join the shared free bits and count
    // toward the sweep threshold, so the span is swept when enough frees wait, by whoever takes
    // it, not on every uncache. Managed mode: a cached span is swept already (Go's non-stale
    // uncacheSpan).
    if (!swept && !s->managed) mergeLocalFrees(s);
    placeSwept(heap, s, heap.sweepgen());
}

bool MCentral::sweepOne(MHeap& heap) {
    const uint32_t sg = heap.sweepgen();
    lock.lock();
    MSpan* s = partialUnswept(sg).pop();
    if (!s) s = fullUnswept(sg).pop();
    if (s) heap.claimSweep();
    lock.unlock();
    if (!s) return false;
    if (SPANSCOPE_UNLIKELY(g_bgSweepPauseUsForTests.load(std::memory_order_relaxed)))
        pauseIfBackgroundSweeper();
    heap.beginSweep();
    __atomic_store_n(&s->sweepgen, sg - 1, __ATOMIC_RELAXED);
    heap.noteSwept(s, sweepSpan(s));
    if (auto hook = g_sweptHookForTests.load(std::memory_order_relaxed); SPANSCOPE_UNLIKELY(hook))
        hook(s);
    placeSwept(heap, s, sg);
    heap.endSweep();
    return true;
}

}  // namespace spanscope::detail
