// mcentral (Go's mcentral.go): one per span class, holding partial and full spans, each split into
// swept and unswept sets whose roles swap when sweepgen advances by 2. See spanscope/allocator.h.
#pragma once
#include <cstddef>
#include <cstdint>

#include "spanscope/detail/intrusive_list.h"
#include "spanscope/detail/mspan.h"
#include "spanscope/detail/platform.h"

namespace spanscope::detail {

class MHeap;

// Spans linked through their set links (MSpan::next, prev).
using SpanList = IntrusiveList<MSpan, &MSpan::next, &MSpan::prev>;

// A FIFO set of spans (Go's spanSet is a lock-free queue: push at the tail, pop at the head; this
// one is an intrusive doubly linked list under the mcentral's lock, which only slow paths take, so
// that a span can also be moved out of the middle when a free makes it worth sweeping). FIFO
// matters in malloc mode: the span that waited longest has gathered the most frees since it was
// filed, so a refill that takes it gets the most free slots.
struct SpanSet : SpanList {
    void push(MSpan* s, SpanWhere where) {
        s->setWhere(where);
        pushBack(s);
    }
    MSpan* pop() {
        MSpan* s = first();
        if (!s) return nullptr;
        remove(s);
        return s;
    }
    void remove(MSpan* s) {
        SpanList::remove(s);
        s->setWhere(SpanWhere::None);
    }
};

struct alignas(64) MCentral {
    SpinLock lock;
    uint8_t spanclass = 0;
    SpanSet partial[2];  // partial[sg/2%2] swept, the other unswept
    SpanSet full[2];

    SpanSet& partialSwept(uint32_t sg) { return partial[sg / 2 % 2]; }
    SpanSet& partialUnswept(uint32_t sg) { return partial[1 - sg / 2 % 2]; }
    SpanSet& fullSwept(uint32_t sg) { return full[sg / 2 % 2]; }
    SpanSet& fullUnswept(uint32_t sg) { return full[1 - sg / 2 % 2]; }

    // Go's cacheSpan: a span with at least one free slot, for an mcache. Null when out of memory.
    // sweptFreed: set to the objects freed if the span returned was swept on the way (else -1);
    // that sweep then emits no SpanSweep record (the refill's SpanRefill carries it).
    MSpan* cacheSpan(MHeap& heap, long* sweptFreed = nullptr);
    // Go's uncacheSpan: the mcache gives the span back (malloc mode sweeps it first).
    void uncacheSpan(MHeap& heap, MSpan* s, bool swept = false, bool emit = true);
    // Sweeps one unswept span of this class if there is one (background and proportional sweep).
    bool sweepOne(MHeap& heap);
    // Puts a freshly swept span where it belongs: partial, full, or back to the heap if empty.
    void placeSwept(MHeap& heap, MSpan* s, uint32_t sg);
    // Malloc mode: the first free since a span's last sweep moves it from a swept set to the
    // matching unswept one, so that cacheSpan and the background sweeper find the free slots.
    void markDirty(MHeap& heap, MSpan* s);
};

}  // namespace spanscope::detail
