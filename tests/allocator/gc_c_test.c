/* The managed heap's C API, from C: a rooted list survives collections, garbage is reclaimed. */
#include "spanscope/gc_c.h"

#include <stdio.h>
#include <stdlib.h>

struct node {
    struct node* next;
    long value;
};
static const uint64_t node_mask[1] = {1};
static const ss_type node_type = {sizeof(struct node), 8, node_mask, "node"};

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

int main(void) {
    struct node* head = NULL;
    ss_gc_register_root((void**)&head);
    for (long i = 0; i < 10000; i++) {
        struct node* n = ss_gc_alloc(&node_type);
        n->value = i;
        ss_gc_write_pointer((void**)&n->next, head);
        ss_gc_write_pointer((void**)&head, n);
        ss_gc_alloc_bytes(100); /* garbage */
    }
    ss_gc_collect();
    ss_gc_collect();
    long sum = 0, count = 0;
    for (struct node* n = head; n; n = n->next) sum += n->value, count++;
    CHECK(count == 10000);
    CHECK(sum == 10000L * 9999 / 2);
    ss_gc_stats st;
    ss_gc_read_stats(&st);
    CHECK(st.num_gc >= 2);
    CHECK(st.mallocs - st.frees >= 10000 && st.mallocs - st.frees < 10100);
    ss_gc_write_pointer((void**)&head, NULL);
    ss_gc_collect();
    ss_gc_collect();
    ss_gc_read_stats(&st);
    CHECK(st.mallocs - st.frees < 100);
    CHECK(ss_gc_set_percent(50) == 100);
    /* debug.FreeOSMemory: every free page goes back to the OS. */
    ss_gc_free_os_memory();
    ss_gc_read_stats(&st);
    CHECK(st.heap_idle == st.heap_released);
    ss_gc_unregister_root((void**)&head);
    printf("1 passed, 0 failed\n");
    return 0;
}
