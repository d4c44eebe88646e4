/* The heap profile's known allocation sites (issue 14's test program): three functions allocate
 * 1, 10 and 100 MiB in total, in 1 KiB objects (a size class: slot bytes = requested bytes); the
 * 100 MiB one then frees half of its objects. Plain C, run under libspanscope.so by
 * prof_test.sh, which checks what 'spanscope-cli top' and 'go tool pprof' attribute to each. */
#include <stdio.h>
#include <stdlib.h>

#define OBJ 1024

static void** keep;
static size_t nkeep;

/* A macro, not a function: each site's malloc call is in the site itself (no inlined helper frame).
 */
#define FILL(mib)                             \
    for (size_t i = 0; i < (mib)*1024; i++) { \
        void* p = malloc(OBJ);                \
        if (!p) abort();                      \
        ((volatile char*)p)[0] = 1;           \
        keep[nkeep++] = p;                    \
    }                                         \
    __asm__ volatile("" ::: "memory")

__attribute__((noinline)) void alloc_one_mib(void) {
    FILL(1);
}
__attribute__((noinline)) void alloc_ten_mib(void) {
    FILL(10);
}
__attribute__((noinline)) void alloc_hundred_mib(void) {
    FILL(100);
}

int main(void) {
    keep = calloc(111 * 1024, sizeof *keep);
    if (!keep) return 1;
    alloc_one_mib();
    alloc_ten_mib();
    size_t first = nkeep;
    if (!getenv("PROF_SITES_SKIP_HUNDRED")) alloc_hundred_mib(); /* prof_test.sh's -base run */
    for (size_t i = first; i < nkeep; i += 2) free(keep[i]);     /* half of the 100 MiB */
    printf("allocated %zu objects\n", nkeep);
    return 0;
}
