#!/usr/bin/env bash
# gen_c_program.sh N > prog.c: a deterministic, non-trivial C program of N generated functions
# (switches, loops, structs, recursion, string handling, malloc'd linked data), a table of function
# pointers and a main that prints a checksum of every function. It also carries a few deliberate
# warnings (-Wall -Wextra), so the compiler has diagnostics to print.
N=${1:-300}
cat <<'C'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; uint64_t key; char name[24]; double weight; };
struct vec3 { double x, y, z; };

static struct node *push(struct node *head, uint64_t key) {
    struct node *n = malloc(sizeof *n);
    if (!n) abort();
    n->next = head;
    n->key = key;
    snprintf(n->name, sizeof n->name, "n%llu", (unsigned long long)key);
    n->weight = (double)(key % 1000) / 7.0;
    return n;
}

static uint64_t drain(struct node *head) {
    uint64_t h = 1469598103934665603ull;
    while (head) {
        struct node *next = head->next;
        for (const char *p = head->name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h ^= (uint64_t)(head->weight * 1000.0);
        free(head);
        head = next;
    }
    return h;
}

static inline struct vec3 cross(struct vec3 a, struct vec3 b) {
    return (struct vec3){a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

int unused_helper(int x) {
    int unused_local = x * 2;  /* deliberate -Wunused-variable */
    return x;
}
C
awk -v n="$N" 'BEGIN {
    s = 12345
    for (f = 0; f < n; f++) {
        s = (s * 1103515245 + 12345) % 2147483648
        a = s % 97 + 3; b = (s / 97) % 89 + 5; c = (s / 8633) % 13 + 2
        printf("static uint64_t fn%d(uint64_t x) {\n", f)
        k = f % 6
        if (k == 0) {
            printf("    uint64_t acc = %d;\n    for (int i = 0; i < %d; i++) {\n", a, 10 + b)
            printf("        switch ((x + i) %% %d) {\n", c + 3)
            for (j = 0; j < c + 3; j++) printf("        case %d: acc = acc * %d + (x >> %d); break;\n", j, j * 2 + 3, j % 17)
            printf("        default: acc ^= x;\n        }\n    }\n    return acc;\n}\n")
        } else if (k == 1) {
            printf("    struct node *h = NULL;\n    for (uint64_t i = 0; i < %d; i++) h = push(h, x * %d + i);\n", 20 + a, b)
            printf("    return drain(h);\n}\n")
        } else if (k == 2) {
            printf("    char buf[256];\n    int len = snprintf(buf, sizeof buf, \"%%llu-%d-%%llx\", (unsigned long long)x, (unsigned long long)(x * %d));\n", f, a)
            printf("    uint64_t h = (uint64_t)len;\n    for (int i = 0; i < len; i++) h = h * 131 + (unsigned char)buf[i];\n")
            printf("    char *dup = strdup(buf);\n    if (!dup) abort();\n    h ^= strlen(dup) + (uint64_t)(strchr(dup, %s) != NULL);\n    free(dup);\n    return h;\n}\n", "\x27-\x27")
        } else if (k == 3) {
            printf("    struct vec3 v = {(double)(x %% %d), %d.5, -%d.25};\n    struct vec3 w = {1.0, (double)(x %% 7), 3.0};\n", a, b, c)
            printf("    for (int i = 0; i < %d; i++) { v = cross(v, w); v.x = v.x / 1e3 + i; v.y = v.y / 1e3 - i; v.z /= 1e3; }\n", 5 + c)
            printf("    return (uint64_t)(long long)(v.x * 1e6) ^ (uint64_t)(long long)(v.y * 1e6) ^ (uint64_t)(long long)(v.z * 1e6);\n}\n")
        } else if (k == 4) {
            printf("    uint64_t *arr = calloc(%d, sizeof *arr);\n    if (!arr) abort();\n", 64 + a)
            printf("    for (int i = 0; i < %d; i++) arr[i] = (x ^ (uint64_t)i * %d) %% 1000003;\n", 64 + a, b)
            printf("    for (int i = 1; i < %d; i++) { uint64_t t = arr[i]; int j = i - 1; while (j >= 0 && arr[j] > t) { arr[j + 1] = arr[j]; j--; } arr[j + 1] = t; }\n", 64 + a)
            printf("    arr = realloc(arr, %d * sizeof *arr);\n    if (!arr) abort();\n    uint64_t r = arr[0] + arr[%d] * 3 + arr[%d];\n    free(arr);\n    return r;\n}\n", 200 + a, 32, 63 + a)
        } else {
            printf("    if (x < 2) return x + %d;\n    return fn%d(x / 2) + fn%d(x / 3) + (x %% %d);\n}\n", a, f - 5, f - 3, c)
        }
    }
    printf("\ntypedef uint64_t (*fn_t)(uint64_t);\nstatic const fn_t table[%d] = {\n", n)
    for (f = 0; f < n; f++) printf("    fn%d,\n", f)
    printf("};\n\nint main(int argc, char **argv) {\n    uint64_t total = 0;\n    unsigned n = argc;  /* deliberate -Wsign-compare below */\n")
    printf("    for (int i = 0; i < %d; i++) {\n        uint64_t r = table[i]((uint64_t)i * 2654435761u + argc);\n", n)
    printf("        total = total * 31 + r;\n        if (i %% 50 == 0) printf(\"fn%%d %%llu\\n\", i, (unsigned long long)r);\n    }\n")
    printf("    for (int i = 0; i < n; i++) total += (uint64_t)argv[i][0];\n")
    printf("    printf(\"total %%llu\\n\", (unsigned long long)total);\n    return 0;\n}\n")
}'
