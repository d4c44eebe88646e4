/* Many distinct allocation stacks, for the heap profile's budgets (symbolizing 100k distinct
 * stacks under 10 s): allocation i goes down DEPTH levels of recursion through one of FANOUT
 * functions per level, chosen by the digits of i in base FANOUT, so that N allocations (run at
 * SPANSCOPE_MEMPROFILERATE=1) make N distinct stacks.
 *   prof_stacks [N]   (default 100000) */
#include <stdio.h>
#include <stdlib.h>

#define FANOUT 8
typedef void* (*step_fn)(int, unsigned);
static step_fn steps[FANOUT];

static void* next(int depth, unsigned digits) {
    if (depth == 0) return malloc(64);
    return steps[digits % FANOUT](depth - 1, digits / FANOUT);
}
/* Each uses the result after the call: no tail call, so every level stays on the stack. */
#define STEP(k)                                                                  \
    __attribute__((noinline)) static void* step##k(int depth, unsigned digits) { \
        void* p = next(depth, digits);                                           \
        __asm__ volatile("" : "+r"(p) : : "memory");                             \
        return p;                                                                \
    }
/* clang-format reads the macro calls as one declaration and indents what follows. */
// clang-format off
STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7)

int main(int argc, char** argv) {
    // clang-format on
    const unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
    step_fn init[FANOUT] = {step0, step1, step2, step3, step4, step5, step6, step7};
    for (int k = 0; k < FANOUT; k++) steps[k] = init[k];
    int depth = 1;
    for (unsigned span = FANOUT; span < n; span *= FANOUT) depth++;
    void** keep = calloc(n, sizeof *keep);
    for (unsigned i = 0; i < n; i++) keep[i] = next(depth, i);
    for (unsigned i = 0; i < n; i++) free(keep[i]);
    free(keep);
    printf("prof_stacks: %u allocations through %d levels\n", n, depth);
    return 0;
}
