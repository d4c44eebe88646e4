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
// The allocator's own work that may allocate through the program's malloc, under the preload
// (starting its threads: pthread_create's TLS and DTV from _dl_allocate_tls; a thread's first
// call: pthread_setspecific's key block, pthread_atfork's handler). A sampled allocation made
// while the frame of the function holding this scope is on the stack belongs to the allocator,
// not to the program code that happened to call malloc then: its stack is cut just after that
// function (e.g. ... _dl_allocate_tls, allocate_stack, MHeap::startBackground), so the profile
// shows it under the allocator's function and never under the program's. Go's heap profile
// shows its runtime's allocations the same way (runtime.malg under runtime.newm, not under the
// goroutine that made the scheduler start an M). Scopes nest: the outermost one cuts.
extern constinit thread_local uintptr_t t_allocatorWork __attribute__((tls_model("initial-exec")));
class AllocatorWorkScope {
public:
    SPANSCOPE_INLINE AllocatorWorkScope() : m_outer(t_allocatorWork != 0) {
        // Inlined (always_inline): the frame of the function that holds the scope.
        if (!m_outer) t_allocatorWork = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    }
    SPANSCOPE_INLINE ~AllocatorWorkScope() {
        if (!m_outer) t_allocatorWork = 0;
    }
    AllocatorWorkScope(const AllocatorWorkScope&) = delete;
    AllocatorWorkScope& operator=(const AllocatorWorkScope&) = delete;

private:
    bool m_outer;
};

void mprofForkPrepare();
void mprofForkParent();
void mprofForkChild();
// Registers mprofFork* once: at load (mprof.cpp's profilerAtStart), before any thread can sample.
// The collector calls it again before registering its own handlers, so that in any case the
// profile lock is taken after the managed heap's prepare handler (prepare handlers run in the
// reverse order of registration): that handler waits for sweeps in flight, which take the lock.
void registerProfileForkHandlers();

// Go's "if size < c.nextSample { c.nextSample -= size } else { profilealloc(...) }".
SPANSCOPE_INLINE void* sampleAlloc(MCache* c, void* p, size_t size, bool managed = false) {
    if (SPANSCOPE_UNLIKELY((c->nextSample -= static_cast<int64_t>(size)) <= 0))
        profileAlloc(c, p, size, managed);
    return p;
}

SPANSCOPE_INLINE void profileFreeCheck(MSpan* s, const void* p) {
    if (SPANSCOPE_UNLIKELY(s->maybeSampled(reinterpret_cast<uintptr_t>(p))))
        profileFree(s, reinterpret_cast<uintptr_t>(p));
}

}  // namespace spanscope::detail
