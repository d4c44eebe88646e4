// The C API of the managed heap (spanscope/gc_c.h) over spanscope/gc.h.
#include "spanscope/gc_c.h"

#include <cstddef>

#include "spanscope/gc.h"

namespace gc = spanscope::gc;
static_assert(sizeof(ss_type) == sizeof(gc::Type) &&
                  offsetof(ss_type, ptrmask) == offsetof(gc::Type, ptrmask),
              "ss_type and gc::Type share a layout");

namespace {
const gc::Type* T(const ss_type* t) {
    return reinterpret_cast<const gc::Type*>(t);
}
}  // namespace

extern "C" {
void* ss_gc_alloc(const ss_type* t) {
    return gc::alloc(T(t));
}
void* ss_gc_alloc_array(const ss_type* t, size_t n) {
    return gc::allocArray(T(t), n);
}
void* ss_gc_alloc_bytes(size_t n) {
    return gc::allocBytes(n);
}
void ss_gc_write_pointer(void** slot, void* ptr) {
    gc::writePointer(slot, ptr);
}
void ss_gc_register_root(void** slot) {
    gc::registerGlobal(slot);
}
void ss_gc_unregister_root(void** slot) {
    gc::unregisterGlobal(slot);
}
void ss_gc_collect(void) {
    gc::collect();
}
int ss_gc_set_percent(int percent) {
    return gc::setGCPercent(percent);
}
int64_t ss_gc_set_memory_limit(int64_t bytes) {
    return gc::setMemoryLimit(bytes);
}
void ss_gc_free_os_memory(void) {
    gc::freeOSMemory();
}
void ss_gc_poll(void) {
    gc::poll();
}
void ss_gc_enter_blocking(void) {
    gc::enterBlocking();
}
void ss_gc_exit_blocking(void) {
    gc::exitBlocking();
}
void ss_gc_detach_thread(void) {
    gc::detachThread();
}
void ss_gc_read_stats(ss_gc_stats* st) {
    gc::GCStats s;
    gc::readGCStats(&s);
    *st = ss_gc_stats{s.heap.HeapAlloc, s.heap.HeapInuse, s.heap.HeapIdle, s.heap.HeapReleased,
                      s.heap.HeapSys,   s.heap.Mallocs,   s.heap.Frees,    s.numGC,
                      s.numForcedGC,    s.heapMarked,     s.heapGoal,      s.trigger,
                      s.pauseTotalNs,   s.gcPercent,      s.memoryLimit,   s.gcCPUFraction};
}
}
