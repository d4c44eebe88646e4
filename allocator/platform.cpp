// OS memory and diagnostics for the allocator; see spanscope/detail/platform.h.
#include "spanscope/detail/platform.h"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>

namespace spanscope::detail {

bool g_cpuHasPopcnt = false;

void detectCpuFeatures() {
#if defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) g_cpuHasPopcnt = (c & bit_POPCNT) != 0;
#endif
}

namespace {

// Minimal formatter into a stack buffer: no malloc, no locale, no stdio.
size_t vformat(char* buf, size_t cap, const char* fmt, va_list ap) {
    size_t n = 0;
    auto put = [&](char c) {
        if (n + 1 < cap) buf[n++] = c;
    };
    auto putStr = [&](const char* s) {
        while (s && *s) put(*s++);
    };
    auto putNum = [&](unsigned long long v, unsigned base, bool neg) {
        char tmp[32];
        int i = 0;
        do {
            tmp[i++] = "0123456789abcdef"[v % base];
            v /= base;
        } while (v);
        if (neg) put('-');
        while (i) put(tmp[--i]);
    };
    for (const char* f = fmt; *f; f++) {
        if (*f != '%') {
            put(*f);
            continue;
        }
        f++;
        bool isLong = false;
        while (*f == 'l' || *f == 'z') {
            isLong = true;
            f++;
        }
        switch (*f) {
            case 's':
                putStr(va_arg(ap, const char*));
                break;
            case 'd': {
                long long v = isLong ? va_arg(ap, long long) : va_arg(ap, int);
                putNum(v < 0 ? -static_cast<unsigned long long>(v) : v, 10, v < 0);
                break;
            }
            case 'u':
                putNum(isLong ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned), 10, false);
                break;
            case 'x':
                putNum(isLong ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned), 16, false);
                break;
            case 'p':
                putStr("0x");
                putNum(reinterpret_cast<uintptr_t>(va_arg(ap, void*)), 16, false);
                break;
            case '%':
                put('%');
                break;
            default:
                put('?');
                break;
        }
        if (!*f) break;
    }
    buf[n] = 0;
    return n;
}

void writeAll(const char* s, size_t n) {
    while (n) {
        ssize_t w = ::write(2, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        s += w;
        n -= static_cast<size_t>(w);
    }
}

}  // namespace

void printErr(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    size_t n = vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    writeAll(buf, n);
}

void fatal(const char* fmt, ...) {
    char buf[512];
    const char prefix[] = "spanscope: ";
    std::memcpy(buf, prefix, sizeof prefix - 1);
    va_list ap;
    va_start(ap, fmt);
    size_t n =
        sizeof prefix - 1 + vformat(buf + sizeof prefix - 1, sizeof buf - sizeof prefix, fmt, ap);
    va_end(ap);
    if (n < sizeof buf - 1) buf[n++] = '\n';
    writeAll(buf, n);
    abort();
}

void* sysReserve(size_t bytes, size_t align, void* hint) {
    // Over-reserve by align and trim, so the result is aligned whatever the kernel picks.
    size_t len = bytes + align;
    void* p = mmap(hint, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    uintptr_t base = reinterpret_cast<uintptr_t>(p);
    uintptr_t aligned = (base + align - 1) & ~(align - 1);
    if (aligned > base) munmap(p, aligned - base);
    uintptr_t end = base + len, alignedEnd = aligned + bytes;
    if (end > alignedEnd) munmap(reinterpret_cast<void*>(alignedEnd), end - alignedEnd);
    return reinterpret_cast<void*>(aligned);
}

bool sysMap(void* p, size_t bytes) {
    return mprotect(p, bytes, PROT_READ | PROT_WRITE) == 0;
}

void sysFree(void* p, size_t bytes) {
    munmap(p, bytes);
}

size_t sysMemoryBytes() {
    static std::atomic<size_t> s_bytes{0};
    size_t b = s_bytes.load(std::memory_order_relaxed);
    // SPANSCOPE_RESERVE_LIMIT (bytes) replaces it: as with vm.overcommit_memory=1, for programs
    // that reserve more than the machine holds and touch little of it (and for the robustness
    // test that makes a 2 TiB first allocation's 32,768 arena records while recording).
    if (b) return b;
    if (const char* e = getenv("SPANSCOPE_RESERVE_LIMIT")) b = strtoull(e, nullptr, 10);
    if (!b) {
        struct sysinfo si {};
        b = sysinfo(&si) == 0 ? (static_cast<size_t>(si.totalram) + si.totalswap) * si.mem_unit : 0;
    }
    if (!b) b = ~size_t{0};  // unknown: no bound
    s_bytes.store(b, std::memory_order_relaxed);
    return b;
}

void sysUnused(void* p, size_t bytes) {
    madvise(p, bytes, MADV_DONTNEED);
}

void* sysAllocMeta(size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fatal("out of memory: cannot map %zu bytes of metadata", bytes);
    return p;
}

uint64_t nanotime() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

int currentTid() {
    return static_cast<int>(syscall(SYS_gettid));
}

void futexWait(std::atomic<uint32_t>* w, uint32_t seen, long timeoutNs) {
    timespec ts{timeoutNs / 1000000000, timeoutNs % 1000000000};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), FUTEX_WAIT_PRIVATE, seen,
            timeoutNs ? &ts : nullptr, nullptr, 0);
}

void futexWake(std::atomic<uint32_t>* w, int n) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

}  // namespace spanscope::detail
