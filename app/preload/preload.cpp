// libspanscope.so: the malloc family and C++ operator new/delete, interposed with LD_PRELOAD (or by
// linking), all served by the malloc-mode Go heap. Exports only these symbols; no dlsym (but on
// operator new's failure path), so the very first allocation of the process (before any
// constructor) works.
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <new>

#include "spanscope/allocator.h"
#include "spanscope/detail/malloc_inline.h"
#ifndef SPANSCOPE_NO_PROBE
#include "spanscope/stream.h"
#endif

using namespace spanscope;
using namespace spanscope::detail;

namespace spanscope::detail {
void* mallocAligned(size_t align, size_t size);
}

#define EXPORT extern "C" __attribute__((visibility("default")))

// With SPANSCOPE_STREAM set (by 'spanscope-cli record'), stream the heap's events from the start;
// otherwise listen for 'spanscope-cli attach' (unless SPANSCOPE_ATTACH=0).
#ifndef SPANSCOPE_NO_PROBE
__attribute__((constructor)) static void startProbeFromEnvironment() {
    if (!spanscope::probe::startFromEnvironment()) spanscope::probe::startListenerFromEnvironment();
}
#endif

// _exit and _Exit skip atexit, where the probe would send its last records and its trailer: do it
// here (only in the process that started the probe), then end the process as they do.
#ifndef SPANSCOPE_NO_PROBE
EXPORT void _exit(int status) {
    spanscope::probe::beforeQuickExit(status);
    spanscope::probe::removeListenerSocket();
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}
EXPORT void _Exit(int status) {
    _exit(status);
}
#endif

namespace {
inline bool isPow2(size_t x) {
    return x && !(x & (x - 1));
}
constexpr size_t kOsPage = 4096;
}  // namespace

EXPORT void* malloc(size_t size) {
    return mallocFast(size);
}
EXPORT void free(void* p) {
    freeFast(p);
}
EXPORT void cfree(void* p) {
    freeFast(p);
}
EXPORT void* calloc(size_t n, size_t size) {
    return ssCalloc(n, size);
}
EXPORT void* realloc(void* p, size_t size) {
    return ssRealloc(p, size);
}

EXPORT void* reallocarray(void* p, size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return nullptr;
    }
    return ssRealloc(p, total);
}

EXPORT int posix_memalign(void** out, size_t align, size_t size) {
    if (!isPow2(align) || align % sizeof(void*)) return EINVAL;
    void* p = mallocAligned(align, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void* aligned_alloc(size_t align, size_t size) {
    if (!isPow2(align)) {
        errno = EINVAL;
        return nullptr;
    }
    return mallocAligned(align, size);
}

EXPORT void* memalign(size_t align, size_t size) {
    if (align > (size_t{1} << 40)) {
        errno = EINVAL;
        return nullptr;
    }
    if (!isPow2(align))
        align = align < 2 ? 1 : size_t{1} << (64 - __builtin_clzll(align - 1));  // glibc rounds up
    return mallocAligned(align, size);
}

EXPORT void* valloc(size_t size) {
    return mallocAligned(kOsPage, size);
}

EXPORT void* pvalloc(size_t size) {
    size_t rounded = (size + kOsPage - 1) & ~(kOsPage - 1);
    if (rounded < size) {
        errno = ENOMEM;
        return nullptr;
    }
    return mallocAligned(kOsPage, rounded ? rounded : kOsPage);
}

EXPORT size_t malloc_usable_size(void* p) {
    return p ? usableSize(p) : 0;
}
EXPORT int malloc_trim(size_t) {
    releaseFreeMemory();
    return 1;
}

// C++ operator new/delete: failures run the new_handler loop, then throw (or return null).
//
// Every reference to the C++ runtime is weak (the compiler's for the throw and its unwind tables
// too: the .weak directives below), and the library is linked --as-needed, so a C program
// preloading it does not load libstdc++ and libm (1.3 MiB of peak RSS and 1,800 relocations at
// each exec). A program that calls operator new has its C++ runtime loaded (libstdc++, or libc++
// and libc++abi, which export the same names), and the weak references bind to it, which is also
// what makes its new_handler and its std::bad_alloc the ones that count.
asm(".weak _ZSt15get_new_handlerv\n.weak __cxa_allocate_exception\n.weak __cxa_throw\n"
    ".weak _ZTISt9bad_alloc\n.weak _ZTVSt9bad_alloc\n.weak _ZNSt9bad_allocD1Ev\n"
    ".weak __gxx_personality_v0\n.weak _ZSt9terminatev");
extern "C" __attribute__((weak)) void __cxa_throw(void*, void*, void (*)(void*));
__attribute__((weak)) std::new_handler cxxGetNewHandler() __asm__("_ZSt15get_new_handlerv");

namespace {
// A C program that loaded a C++ library after start-up (dlopen, RTLD_LOCAL included) has a C++
// runtime the weak references did not bind to: found on the failure path by name, as loaded
// (RTLD_NOLOAD), and its bad_alloc thrown through its own __cxa_throw (Itanium C++ ABI: the object
// is one vtable pointer, at the vtable's address point two words in).
struct LateCxxRuntime {
    std::new_handler (*getNewHandler)();
    void* (*allocateException)(size_t);
    void (*throwException)(void*, void*, void (*)(void*));
    char* vtable;
    void* typeinfo;
    void (*dtor)(void*);
};

void* lateSymbol(const char* name) {
    for (const char* lib : {"libstdc++.so.6", "libc++abi.so.1", "libc++.so.1"})
        if (void* h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD)) {
            void* sym = dlsym(h, name);
            dlclose(h);
            if (sym) return sym;
        }
    return nullptr;
}

bool findLateCxxRuntime(LateCxxRuntime* rt) {
    rt->getNewHandler =
        reinterpret_cast<std::new_handler (*)()>(lateSymbol("_ZSt15get_new_handlerv"));
    rt->allocateException =
        reinterpret_cast<void* (*)(size_t)>(lateSymbol("__cxa_allocate_exception"));
    rt->throwException =
        reinterpret_cast<void (*)(void*, void*, void (*)(void*))>(lateSymbol("__cxa_throw"));
    rt->vtable = static_cast<char*>(lateSymbol("_ZTVSt9bad_alloc"));
    rt->typeinfo = lateSymbol("_ZTISt9bad_alloc");
    rt->dtor = reinterpret_cast<void (*)(void*)>(lateSymbol("_ZNSt9bad_allocD1Ev"));
    return rt->allocateException && rt->throwException && rt->vtable && rt->typeinfo && rt->dtor;
}

void* newSlow(size_t size, size_t align, bool nothrow) {
    LateCxxRuntime late{};
    const bool bound = __cxa_throw != nullptr;
    const bool lateFound = !bound && findLateCxxRuntime(&late);
    for (;;) {
        void* p = align ? mallocAligned(align, size) : mallocFast(size);
        if (p) return p;
        std::new_handler h = bound       ? (cxxGetNewHandler ? cxxGetNewHandler() : nullptr)
                             : lateFound ? (late.getNewHandler ? late.getNewHandler() : nullptr)
                                         : nullptr;
        if (!h) {
            if (nothrow) return nullptr;
            if (bound) throw std::bad_alloc();
            if (!lateFound)  // no C++ runtime loaded: nothing could catch it
                fatal("operator new: out of memory (%zu bytes), and no C++ runtime to throw", size);
            void* e = late.allocateException(sizeof(void*));
            *static_cast<void**>(e) = late.vtable + 2 * sizeof(void*);
            late.throwException(e, late.typeinfo, late.dtor);
            __builtin_unreachable();
        }
        h();
    }
}
inline void* newImpl(size_t size) {
    void* p = mallocFast(size);
    return p ? p : newSlow(size, 0, false);
}
}  // namespace

EXPORT void* _Znwm(size_t size) {
    return newImpl(size);
}  // operator new(size_t)
EXPORT void* _Znam(size_t size) {
    return newImpl(size);
}  // operator new[](size_t)
EXPORT void* _ZnwmRKSt9nothrow_t(size_t size, const std::nothrow_t&) noexcept {
    void* p = mallocFast(size);
    return p ? p : newSlow(size, 0, true);
}
EXPORT void* _ZnamRKSt9nothrow_t(size_t size, const std::nothrow_t&) noexcept {
    void* p = mallocFast(size);
    return p ? p : newSlow(size, 0, true);
}
EXPORT void* _ZnwmSt11align_val_t(size_t size, std::align_val_t a) {
    return newSlow(size, static_cast<size_t>(a), false);
}
EXPORT void* _ZnamSt11align_val_t(size_t size, std::align_val_t a) {
    return newSlow(size, static_cast<size_t>(a), false);
}
EXPORT void* _ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, std::align_val_t a,
                                                const std::nothrow_t&) noexcept {
    return newSlow(size, static_cast<size_t>(a), true);
}
EXPORT void* _ZnamSt11align_val_tRKSt9nothrow_t(size_t size, std::align_val_t a,
                                                const std::nothrow_t&) noexcept {
    return newSlow(size, static_cast<size_t>(a), true);
}
EXPORT void _ZdlPv(void* p) noexcept {
    freeFast(p);
}  // delete(void*)
EXPORT void _ZdaPv(void* p) noexcept {
    freeFast(p);
}  // delete[](void*)
EXPORT void _ZdlPvm(void* p, size_t) noexcept {
    freeFast(p);
}  // sized
EXPORT void _ZdaPvm(void* p, size_t) noexcept {
    freeFast(p);
}
EXPORT void _ZdlPvSt11align_val_t(void* p, std::align_val_t) noexcept {
    freeFast(p);
}
EXPORT void _ZdaPvSt11align_val_t(void* p, std::align_val_t) noexcept {
    freeFast(p);
}
EXPORT void _ZdlPvmSt11align_val_t(void* p, size_t, std::align_val_t) noexcept {
    freeFast(p);
}
EXPORT void _ZdaPvmSt11align_val_t(void* p, size_t, std::align_val_t) noexcept {
    freeFast(p);
}
EXPORT void _ZdlPvRKSt9nothrow_t(void* p, const std::nothrow_t&) noexcept {
    freeFast(p);
}
EXPORT void _ZdaPvRKSt9nothrow_t(void* p, const std::nothrow_t&) noexcept {
    freeFast(p);
}
EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void* p, std::align_val_t,
                                                const std::nothrow_t&) noexcept {
    freeFast(p);
}
EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void* p, std::align_val_t,
                                                const std::nothrow_t&) noexcept {
    freeFast(p);
}

// For tools in the preloaded process (spanscope-cli demo): the statistics and invariants of the
// heap that malloc actually uses, found with dlsym(RTLD_DEFAULT, ...).
EXPORT void spanscope_read_memstats(MemStats* st) {
    readMemStats(st);
}
EXPORT int spanscope_validate_heap(char* why, size_t cap) {
    return validateHeap(why, cap) ? 1 : 0;
}
