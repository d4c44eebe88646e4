// The heap profiler's hooks in the allocation and free paths (Go's mallocgc profiling check and
// profilealloc, malloc.go; the free side of mprof.go). The allocation fast path pays one
// subtraction and one predictable branch (sampleAlloc); a free pays one load of the span's
// nsampled, on the cache line it already reads, and one predictable branch (freeFast).
// Everything else is out of line in mprof.cpp.
#pragma once
#include <cstddef>
#include <cstdint>

#include "spanscope/detail/mcache.h"
#include "spanscope/detail/mspan.h"

namespace spanscope::detail {

// Go's profilealloc: draws c's next sample distance and, unless profiling is off, records a
// sample of the object at p (slot address, slot bytes). p may be null (out of memory).
SPANSCOPE_NOINLINE void profileAlloc(MCache* c, void* p, size_t size, bool managed);
// Malloc mode, at free (before the slot's free bit is published): if p is a sampled object, count
// its free against its bucket.
SPANSCOPE_NOINLINE void profileFree(MSpan* s, uintptr_t p);
// Managed heap, at sweep: the slots of bitmap word w in freed die; count the sampled ones' frees
// (Go's sweep freeing a profile special).
SPANSCOPE_NOINLINE void profileSweep(MSpan* s, size_t w, uint64_t freed);
void mprofForkPrepare();
void mprofForkParent();
void mprofForkChild();

// Go's "if size < c.nextSample { c.nextSample -= size } else { profilealloc(...) }".
SPANSCOPE_INLINE void* sampleAlloc(MCache* c, void* p, size_t size, bool managed = false) {
    if (SPANSCOPE_UNLIKELY((c->nextSample -= static_cast<int64_t>(size)) <= 0)) profileAlloc(c, p, size, managed);
    return p;
}

SPANSCOPE_INLINE void profileFreeCheck(MSpan* s, const void* p) {
    if (SPANSCOPE_UNLIKELY(__atomic_load_n(&s->nsampled, __ATOMIC_RELAXED) != 0))
        profileFree(s, reinterpret_cast<uintptr_t>(p));
}

}  // namespace spanscope::detail
