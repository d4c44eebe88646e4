/* spanscope's managed heap for C programs: the C face of spanscope/gc.h (Go's collector).
 * Pointers into the managed heap must live in managed objects (stored with ss_gc_write_pointer)
 * or in registered root slots; a thread reaches a safe point at every allocation and at
 * ss_gc_poll(), and brackets long blocking calls with ss_gc_enter_blocking/ss_gc_exit_blocking. */
#ifndef SPANSCOPE_GC_C_H
#define SPANSCOPE_GC_C_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Same layout as spanscope::gc::Type. */
typedef struct ss_type {
    size_t size;             /* bytes of one element */
    size_t ptrdata;          /* bytes from the start that may hold pointers (0: pointer-free) */
    const uint64_t* ptrmask; /* bit i = word i is a pointer, for words below ptrdata/8 */
    const char* name;
} ss_type;

typedef struct ss_gc_stats {
    uint64_t heap_alloc, heap_inuse, heap_idle, heap_released, heap_sys;
    uint64_t mallocs, frees, num_gc, num_forced_gc;
    uint64_t heap_marked, heap_goal, trigger, pause_total_ns;
    int gc_percent;
    int64_t memory_limit;
    double gc_cpu_fraction;
} ss_gc_stats;

void* ss_gc_alloc(const ss_type* t);
void* ss_gc_alloc_array(const ss_type* t, size_t n);
void* ss_gc_alloc_bytes(size_t n);
void ss_gc_write_pointer(void** slot, void* ptr);
void ss_gc_register_root(void** slot);
void ss_gc_unregister_root(void** slot);
void ss_gc_collect(void);
int ss_gc_set_percent(int percent);
int64_t ss_gc_set_memory_limit(int64_t bytes);
void ss_gc_free_os_memory(void); /* debug.FreeOSMemory: collect, then release every free page */
void ss_gc_poll(void);
void ss_gc_enter_blocking(void);
void ss_gc_exit_blocking(void);
void ss_gc_detach_thread(void);
void ss_gc_read_stats(ss_gc_stats* st); /* exact, as Go's ReadMemStats (stops the world) */

#ifdef __cplusplus
}
#endif
#endif
