/* A C program (no C++ runtime at start-up) that dlopens a C++ library, RTLD_LOCAL, and asks it
 * for more memory than any machine has: under the preload the library must catch std::bad_alloc
 * (late_cxx_lib.cpp), and a small request must still succeed.
 *   late_cxx_main LIBRARY */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>

int main(int argc, char** argv) {
    if (argc != 2) return fprintf(stderr, "usage: late_cxx_main LIBRARY\n"), 2;
    void* h = dlopen(argv[1], RTLD_LOCAL | RTLD_NOW);
    if (!h) return fprintf(stderr, "dlopen: %s\n", dlerror()), 2;
    int (*tryNew)(size_t) = (int (*)(size_t))dlsym(h, "lateCxxTryNew");
    if (!tryNew) return fprintf(stderr, "dlsym: %s\n", dlerror()), 2;
    printf("64 TiB: %s\n", tryNew((size_t)1 << 46) ? "bad_alloc" : "allocated");
    printf("1 KiB: %s\n", tryNew(1024) ? "bad_alloc" : "allocated");
    return 0;
}
