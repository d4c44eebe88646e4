// The malloc API contract, checked through the preload: this program is NOT linked to spanscope;
// preload_api_test.sh runs it with libspanscope.so in LD_PRELOAD (via spanscope-cli run).
//
//   api_contract [all]          every contract check below; prints "ok: ..." lines, exits 0 if all
//   pass api_contract MISUSE         one misuse that spanscope must report and abort on (see
//   misuse())
//
// The checks: malloc/free (sizes, alignment, contents, huge sizes -> NULL + ENOMEM), alignment and
// usable size of every request size 1..64 KiB through every entry point, calloc (zeroed,
// also over recycled memory; overflow -> NULL + ENOMEM), realloc (NULL, 0, grow, shrink, contents,
// failure keeps the block), reallocarray, posix_memalign (EINVAL for bad alignment, alignments up
// to 1 MiB), aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size (= the Go size class, 32
// for 17..24 bytes, or the size rounded to 8 KiB pages beyond 32 KiB), operator new/delete in all
// their forms (aligned, sized, nothrow, new_handler), threads that come and go with cross-thread
// frees, and fork with threads alive at the time of the fork.
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

// The misuse modes and the "failure keeps the block" checks are deliberate.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wuse-after-free"
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

extern "C" void* reallocarray(void*, size_t, size_t);  // older headers without _DEFAULT_SOURCE
extern "C" void* pvalloc(size_t);

namespace {

// Hides a value from the optimizer, so that no malloc/free pair or misuse is folded away.
template <typename T>
T opaque(T v) {
    asm volatile("" : "+r"(v)::"memory");
    return v;
}

int g_failures = 0;
#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            g_failures++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

double g_lastSection = 0;
double now() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
void section(const char* name, int failuresBefore) {
    double t = now();
    printf("%s: %s (%.1f s)\n", g_failures == failuresBefore ? "ok" : "FAILED", name,
           t - g_lastSection);
    g_lastSection = t;
    fflush(stdout);
}

// Go's size classes (runtime/sizeclasses.go), written out independently of the allocator's table.
constexpr uint32_t kGoClasses[] = {
    8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,  160,   176,   192,
    208,   224,   240,   256,   288,   320,   352,   384,   416,   448,   480,  512,   576,   640,
    704,   768,   896,   1024,  1152,  1280,  1408,  1536,  1792,  2048,  2304, 2688,  3072,  3200,
    3456,  4096,  4864,  5376,  6144,  6528,  6784,  6912,  8192,  9472,  9728, 10240, 10880, 12288,
    13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768};
constexpr size_t kPage = 8192;

// Malloc mode's slot for an n-byte request: Go's class, except that 17..24 bytes take the 32-byte
// class (a block of 16 bytes or more must be 16-aligned, and 24-byte slots are not); beyond 32 KiB,
// whole 8 KiB pages.
size_t goClassSize(size_t n) {
    if (n == 0) n = 1;
    for (uint32_t c : kGoClasses)
        if (c >= n && c != 24) return c;
    return (n + kPage - 1) / kPage * kPage;
}

bool aligned(const void* p, size_t a) {
    return (reinterpret_cast<uintptr_t>(p) & (a - 1)) == 0;
}

// Fills / verifies a block with a pattern derived from a seed.
void fill(void* p, size_t n, uint32_t seed) {
    auto* b = static_cast<unsigned char*>(p);
    for (size_t i = 0; i < n; i++)
        b[i] = static_cast<unsigned char>(seed * 2654435761u + i * 31 + (i >> 8));
}
bool verify(const void* p, size_t n, uint32_t seed) {
    auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; i++)
        if (b[i] != static_cast<unsigned char>(seed * 2654435761u + i * 31 + (i >> 8)))
            return false;
    return true;
}
bool allZero(const void* p, size_t n) {
    auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; i++)
        if (b[i]) return false;
    return true;
}

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    uint64_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    // Mostly small sizes, some medium, a few large ones.
    size_t size() {
        uint64_t r = next();
        switch (r % 16) {
            case 15:
                return 32769 + (r >> 8) % 300000;
            case 13:
            case 14:
                return 1025 + (r >> 8) % 31744;
            default:
                return 1 + (r >> 8) % 1024;
        }
    }
};

bool mappedSpanscope() {
    FILE* f = fopen("/proc/self/maps", "r");
    if (!f) return false;
    char line[4096];
    bool found = false;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "libspanscope")) found = true;
    fclose(f);
    return found;
}

// ---------------------------------------------------------------------------------------------

void testMallocFree() {
    int f0 = g_failures;
    free(nullptr);
    void* z1 = malloc(opaque<size_t>(0));
    void* z2 = malloc(opaque<size_t>(0));
    CHECK(z1 && z2 && z1 != z2, "malloc(0) must give unique non-null pointers (%p %p)", z1, z2);
    free(z1);
    free(z2);

    // Every size up to 40 KiB (and a few larger), all live at once: alignment, usable size,
    // contents.
    std::vector<std::pair<void*, size_t>> blocks;
    for (size_t n = 1; n <= 40000; n += (n < 2048 ? 1 : 37)) {
        void* p = malloc(opaque(n));
        CHECK(p != nullptr, "malloc(%zu) failed", n);
        if (!p) continue;
        CHECK(aligned(p, 8), "malloc(%zu) = %p is not 8-byte aligned", n, p);
        if (n >= 16) CHECK(aligned(p, 16), "malloc(%zu) = %p is not 16-byte aligned", n, p);
        size_t u = malloc_usable_size(p);
        CHECK(u >= n, "malloc_usable_size(malloc(%zu)) = %zu < request", n, u);
        fill(p, u, static_cast<uint32_t>(n));  // the whole usable size may be written
        blocks.emplace_back(p, u);
    }
    bool intact = true;
    size_t n = 1;
    for (auto& [p, u] : blocks) {
        if (!verify(p, u, static_cast<uint32_t>(n))) intact = false;
        n += (n < 2048 ? 1 : 37);
    }
    CHECK(intact, "a block's contents changed while other blocks were written (overlap?)");
    std::vector<void*> sorted;
    for (auto& b : blocks) sorted.push_back(b.first);
    std::sort(sorted.begin(), sorted.end());
    bool disjoint = true;
    std::map<void*, size_t> sizes(blocks.begin(), blocks.end());
    for (size_t i = 1; i < sorted.size(); i++)
        if (static_cast<char*>(sorted[i - 1]) + sizes[sorted[i - 1]] > sorted[i]) disjoint = false;
    CHECK(disjoint, "two live blocks overlap");
    for (auto& b : blocks) free(b.first);

    // Huge requests fail cleanly: beyond the address space, and within it but more than any
    // machine this runs on can back (4 and 64 TiB; these once made a million arenas' metadata).
    const size_t huge[] = {SIZE_MAX,        SIZE_MAX - 4096, SIZE_MAX / 2 + 1, size_t{1} << 62,
                           size_t{1} << 48, size_t{1} << 46, size_t{1} << 42};
    for (size_t h : huge) {
        errno = 0;
        void* p = malloc(opaque(h));
        CHECK(p == nullptr && errno == ENOMEM, "malloc(%#zx) = %p errno %d, want NULL + ENOMEM", h,
              p, errno);
        if (p) free(p);
    }
    section(
        "malloc/free: sizes 1..40000, alignment, usable size, contents, huge sizes -> NULL + "
        "ENOMEM",
        f0);
}

void testUsableSize() {
    int f0 = g_failures;
    CHECK(malloc_usable_size(nullptr) == 0, "malloc_usable_size(NULL) != 0");
    int bad = 0;
    for (size_t n = 1; n <= 32768; n++) {
        void* p = malloc(opaque(n));
        size_t u = malloc_usable_size(p), want = goClassSize(n);
        if (u != want && bad++ < 10)
            CHECK(u == want, "malloc_usable_size(malloc(%zu)) = %zu, want Go class %zu", n, u,
                  want);
        free(p);
    }
    const size_t large[] = {32769,  33000,   40960,         40961,  65536,
                            100000, 1 << 20, (1 << 20) + 1, 5000000};
    for (size_t n : large) {
        void* p = malloc(opaque(n));
        size_t u = malloc_usable_size(p), want = goClassSize(n);
        CHECK(u == want, "malloc_usable_size(malloc(%zu)) = %zu, want %zu (8 KiB pages)", n, u,
              want);
        free(p);
    }
    void* p = malloc(100);
    CHECK(malloc_usable_size(p) == 112, "malloc_usable_size(malloc(100)) = %zu, want 112",
          malloc_usable_size(p));
    free(p);
    p = malloc(33000);
    CHECK(malloc_usable_size(p) == 40960, "malloc_usable_size(malloc(33000)) = %zu, want 40960",
          malloc_usable_size(p));
    free(p);
    section(
        "malloc_usable_size: Go size class for 1..32768 (17..24 -> 32), 8 KiB pages beyond (100 -> "
        "112, 33000 -> 40960)",
        f0);
}

// The alignment C requires of every entry point, for every request size 1..64 KiB: a block must be
// aligned for any object with a fundamental alignment that fits in it, so 16-aligned from 16 bytes
// on (max_align_t, long double, __int128), 8-aligned below. Also the usable size: at least the
// request, and for the plain entry points exactly malloc mode's class size.
struct EntryPoint {
    const char* name;
    void* (*alloc)(size_t);
    void (*release)(void*);
    bool exactClass;  // usable size == goClassSize(n)
};
void* viaMalloc(size_t n) {
    return malloc(n);
}
void* viaCalloc(size_t n) {
    return calloc(1, n);
}
void* viaCallocN(size_t n) {
    return calloc(n, 1);
}
void* viaReallocNull(size_t n) {
    return realloc(nullptr, n);
}
void* viaReallocGrow(size_t n) {  // from a 1-byte block: always a move to the new class
    void* p = malloc(1);
    void* q = realloc(p, n);
    if (!q) free(p);
    return q;
}
void* viaReallocarray(size_t n) {
    return reallocarray(nullptr, 1, n);
}
void* viaNew(size_t n) {
    return ::operator new(n);
}
void* viaNewArray(size_t n) {
    return ::operator new[](n);
}
void* viaNewNothrow(size_t n) {
    return ::operator new(n, std::nothrow);
}
void* viaPosixMemalign16(size_t n) {
    void* p = nullptr;
    return posix_memalign(&p, 16, n) == 0 ? p : nullptr;
}
void* viaAlignedAlloc16(size_t n) {
    return aligned_alloc(16, n);
}
void* viaMemalign16(size_t n) {
    return memalign(16, n);
}
void* viaMemalign8(size_t n) {
    return memalign(8, n);
}
void* viaNewAligned16(size_t n) {
    return ::operator new (n, std::align_val_t{16});
}
void releaseFree(void* p) {
    free(p);
}
void releaseDelete(void* p) {
    ::operator delete(p);
}
void releaseDeleteArray(void* p) {
    ::operator delete[](p);
}
void releaseDeleteAligned16(void* p) {
    ::operator delete (p, std::align_val_t{16});
}

void testAlignmentEverySize() {
    int f0 = g_failures;
    const EntryPoint eps[] = {
        {"malloc", viaMalloc, releaseFree, true},
        {"calloc(1, n)", viaCalloc, releaseFree, true},
        {"calloc(n, 1)", viaCallocN, releaseFree, true},
        {"realloc(NULL, n)", viaReallocNull, releaseFree, true},
        {"realloc(malloc(1), n)", viaReallocGrow, releaseFree, true},
        {"reallocarray(NULL, 1, n)", viaReallocarray, releaseFree, true},
        {"operator new", viaNew, releaseDelete, true},
        {"operator new[]", viaNewArray, releaseDeleteArray, true},
        {"operator new(nothrow)", viaNewNothrow, releaseDelete, true},
        {"posix_memalign(16)", viaPosixMemalign16, releaseFree, false},
        {"aligned_alloc(16)", viaAlignedAlloc16, releaseFree, false},
        {"memalign(16)", viaMemalign16, releaseFree, false},
        {"memalign(8)", viaMemalign8, releaseFree, false},
        {"operator new(align 16)", viaNewAligned16, releaseDeleteAligned16, false},
    };
    for (const EntryPoint& ep : eps) {
        int bad = 0;
        for (size_t n = 1; n <= 65536; n++) {
            void* p = ep.alloc(opaque(n));
            if (!p) {
                if (bad++ < 3) CHECK(p != nullptr, "%s(%zu) failed", ep.name, n);
                continue;
            }
            const size_t want = n >= 16 ? 16 : 8, u = malloc_usable_size(p);
            if (!aligned(p, want) && bad++ < 3)
                CHECK(aligned(p, want), "%s(%zu) = %p is not %zu-byte aligned", ep.name, n, p,
                      want);
            if (u < n && bad++ < 3)
                CHECK(u >= n, "%s(%zu): malloc_usable_size %zu < request", ep.name, n, u);
            if (ep.exactClass && u != goClassSize(n) && bad++ < 3)
                CHECK(u == goClassSize(n), "%s(%zu): malloc_usable_size %zu, want class %zu",
                      ep.name, n, u, goClassSize(n));
            static_cast<unsigned char*>(p)[0] = 1;
            static_cast<unsigned char*>(p)[u - 1] = 2;  // the whole usable size is writable
            ep.release(p);
        }
    }
    // errno of the aligned entry points not covered elsewhere.
    errno = 0;
    void* m = memalign(opaque<size_t>(size_t{1} << 41), 64);
    CHECK(m == nullptr && errno == EINVAL, "memalign(2^41, 64) = %p errno %d, want NULL + EINVAL",
          m, errno);
    errno = 0;
    m = memalign(64, opaque<size_t>(SIZE_MAX - 4096));
    CHECK(m == nullptr && errno == ENOMEM, "memalign(64, huge) = %p errno %d, want NULL + ENOMEM",
          m, errno);
    errno = 0;
    m = reallocarray(nullptr, opaque<size_t>(SIZE_MAX / 2), 4);
    CHECK(m == nullptr && errno == ENOMEM,
          "reallocarray(NULL, overflow) = %p errno %d, want NULL + ENOMEM", m, errno);
    section(
        "alignment: every size 1..65536 through 14 entry points is 16-aligned from 16 B (8 below); "
        "usable size",
        f0);
}

void testCalloc() {
    int f0 = g_failures;
    // Dirty memory, free it, then calloc the same sizes many times over: recycled slots and pages
    // must come back zeroed.
    Rng rng(7);
    for (int round = 0; round < 30; round++) {
        std::vector<void*> dirty;
        for (int i = 0; i < 600; i++) {
            size_t n = rng.size();
            void* p = malloc(n);
            memset(p, 0xAB, malloc_usable_size(p));
            dirty.push_back(p);
        }
        for (void* p : dirty) free(p);
        std::vector<void*> clean;
        for (int i = 0; i < 600; i++) {
            size_t n = rng.size(), cnt = 1 + i % 5;
            void* p = calloc(cnt, n);
            CHECK(p != nullptr, "calloc(%zu, %zu) failed", cnt, n);
            if (!p) continue;
            if (!allZero(p, cnt * n)) {
                CHECK(false, "calloc(%zu, %zu) = %p is not zeroed (round %d)", cnt, n, p, round);
                round = 1000;
            }
            memset(p, 0xCD, cnt * n);
            clean.push_back(p);
        }
        for (void* p : clean) free(p);
    }
    void* z = calloc(0, 16);
    free(z);
    z = calloc(16, 0);
    free(z);
    const std::pair<size_t, size_t> overflow[] = {{SIZE_MAX / 2 + 1, 2},
                                                  {size_t{1} << 40, size_t{1} << 40},
                                                  {SIZE_MAX, SIZE_MAX},
                                                  {3, SIZE_MAX / 3 + 1}};
    for (auto [a, b] : overflow) {
        errno = 0;
        void* p = calloc(opaque(a), opaque(b));
        CHECK(p == nullptr && errno == ENOMEM,
              "calloc(%#zx, %#zx) = %p errno %d, want NULL + ENOMEM", a, b, p, errno);
    }
    errno = 0;
    void* p = calloc(opaque(size_t{1} << 31),
                     opaque(size_t{1} << 20));  // 2^51 bytes: no overflow, no memory
    CHECK(p == nullptr && errno == ENOMEM, "calloc(2^31, 2^20) = %p errno %d, want NULL + ENOMEM",
          p, errno);
    section("calloc: zeroed (also over recycled memory), overflow -> NULL + ENOMEM", f0);
}

void testRealloc() {
    int f0 = g_failures;
    void* p = realloc(nullptr, opaque<size_t>(100));
    CHECK(p != nullptr && malloc_usable_size(p) >= 100, "realloc(NULL, 100) must act as malloc");
    fill(p, 100, 100);
    // Grow from 100 bytes to 8 MiB and shrink back to 1 byte, the contents following along.
    size_t n = 100;
    while (n < (size_t{8} << 20)) {
        size_t m = n * 3 / 2 + 7;
        void* q = realloc(p, m);
        CHECK(q != nullptr, "realloc(%p, %zu) failed", p, m);
        if (!q) break;
        CHECK(verify(q, n, static_cast<uint32_t>(n)), "contents lost growing %zu -> %zu", n, m);
        p = q;
        fill(p, m, static_cast<uint32_t>(m));
        n = m;
    }
    while (n > 1) {
        size_t m = n / 3;
        if (m == 0) m = 1;
        void* q = realloc(p, m);
        CHECK(q != nullptr, "realloc(%p, %zu) failed", p, m);
        if (!q) break;
        CHECK(verify(q, m, static_cast<uint32_t>(n)), "contents lost shrinking %zu -> %zu", n, m);
        p = q;
        fill(p, m, static_cast<uint32_t>(m));
        n = m;
    }
    // Many blocks reallocated in turn (in place and moved), checked at the end.
    Rng rng(99);
    std::vector<std::pair<void*, size_t>> v(400);
    for (size_t i = 0; i < v.size(); i++) {
        v[i].second = rng.size();
        v[i].first = malloc(v[i].second);
        fill(v[i].first, v[i].second, static_cast<uint32_t>(i));
    }
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < v.size(); i++) {
            size_t m = rng.size();
            void* q = realloc(v[i].first, m);
            if (!q) {
                CHECK(false, "realloc to %zu failed", m);
                continue;
            }
            CHECK(verify(q, std::min(m, v[i].second), static_cast<uint32_t>(i + round * 1000)),
                  "realloc %zu -> %zu lost contents", v[i].second, m);
            fill(q, m, static_cast<uint32_t>(i + (round + 1) * 1000));
            v[i] = {q, m};
        }
    }
    for (auto& b : v) free(b.first);
    // A failed realloc leaves the block alone.
    errno = 0;
    void* q = realloc(p, opaque(SIZE_MAX - 1000));
    CHECK(q == nullptr && errno == ENOMEM, "realloc(p, huge) = %p errno %d, want NULL + ENOMEM", q,
          errno);
    CHECK(verify(p, 1, 1),
          "failed realloc changed the block");  // the last shrink filled 1 byte, seed 1
    // realloc(p, 0) frees p (glibc returns NULL); whatever it returns must be freeable.
    void* r = realloc(p, opaque<size_t>(0));
    free(r);
    // reallocarray
    void* a = reallocarray(nullptr, 10, 10);
    CHECK(a != nullptr && malloc_usable_size(a) >= 100, "reallocarray(NULL, 10, 10)");
    fill(a, 100, 5);
    void* b = reallocarray(a, 100, 100);
    CHECK(b != nullptr && verify(b, 100, 5), "reallocarray(p, 100, 100) lost contents");
    if (b) a = b;
    errno = 0;
    b = reallocarray(a, opaque(SIZE_MAX / 2), 3);
    CHECK(b == nullptr && errno == ENOMEM,
          "reallocarray overflow = %p errno %d, want NULL + ENOMEM", b, errno);
    CHECK(verify(a, 100, 5), "failed reallocarray changed the block");
    free(a);
    section(
        "realloc/reallocarray: NULL, 0, grow to 8 MiB, shrink, contents, failure keeps the block, "
        "overflow",
        f0);
}

void testAligned() {
    int f0 = g_failures;
    std::vector<std::pair<void*, size_t>> live;
    uint32_t seed = 0;
    for (size_t align = sizeof(void*); align <= (size_t{1} << 20); align <<= 1) {
        const size_t sizes[] = {1,         7,   align - 1, align, align + 1,
                                3 * align, 100, 5000,      40000, 300000};
        for (size_t n : sizes) {
            if (n == 0) continue;
            void* p = reinterpret_cast<void*>(0x1);
            int rc = posix_memalign(&p, align, n);
            CHECK(rc == 0 && p && aligned(p, align), "posix_memalign(%zu, %zu) = %d, %p", align, n,
                  rc, p);
            if (rc) continue;
            CHECK(malloc_usable_size(p) >= n, "posix_memalign(%zu, %zu): usable %zu", align, n,
                  malloc_usable_size(p));
            fill(p, n, ++seed);
            live.emplace_back(p, n);
            void* q = aligned_alloc(align, n);
            CHECK(q && aligned(q, align), "aligned_alloc(%zu, %zu) = %p", align, n, q);
            if (q) fill(q, n, ++seed), live.emplace_back(q, n);
            void* m = memalign(align, n);
            CHECK(m && aligned(m, align), "memalign(%zu, %zu) = %p", align, n, m);
            if (m) fill(m, n, ++seed), live.emplace_back(m, n);
        }
    }
    // 16-byte alignment for sizes whose natural slot is 8-byte aligned (Go's 24-byte class).
    for (size_t n = 17; n <= 24; n++) {
        int misaligned = 0;
        std::vector<void*> v;
        for (int i = 0; i < 8; i++) {
            void* p = nullptr;
            if (posix_memalign(&p, 16, n) == 0) {
                misaligned += !aligned(p, 16);
                v.push_back(p);
            }
            void* q = aligned_alloc(16, n);
            misaligned += !aligned(q, 16);
            v.push_back(q);
            void* m = memalign(16, n);
            misaligned += !aligned(m, 16);
            v.push_back(m);
        }
        CHECK(
            misaligned == 0,
            "posix_memalign/aligned_alloc/memalign(16, %zu): %d of 24 pointers not 16-byte aligned",
            n, misaligned);
        for (void* p : v) free(p);
    }
    seed = 0;
    bool intact = true;
    for (auto& [p, n] : live) intact &= verify(p, n, ++seed);
    CHECK(intact, "aligned blocks overlap or were corrupted");
    for (auto& b : live) free(b.first);

    // Bad alignments.
    const size_t badPosix[] = {0, 1, 2, 4, 3, 12, 24, 48, 96, 4095};
    for (size_t a : badPosix) {
        void* p = reinterpret_cast<void*>(0x1234);
        int rc = posix_memalign(&p, opaque(a), 64);
        CHECK(rc == EINVAL, "posix_memalign(align %zu) = %d, want EINVAL", a, rc);
        CHECK(p == reinterpret_cast<void*>(0x1234),
              "posix_memalign(align %zu) wrote *memptr on failure", a);
    }
    void* p = nullptr;
    int rc = posix_memalign(&p, 64, opaque(SIZE_MAX - 100));
    CHECK(rc == ENOMEM, "posix_memalign(64, huge) = %d, want ENOMEM", rc);
    const size_t badAligned[] = {0, 3, 24, 100};
    for (size_t a : badAligned) {
        errno = 0;
        void* q = aligned_alloc(opaque(a), 64);
        CHECK(q == nullptr && errno == EINVAL,
              "aligned_alloc(%zu, 64) = %p errno %d, want NULL + EINVAL", a, q, errno);
        free(q);
    }
    errno = 0;
    void* q = aligned_alloc(4096, opaque(SIZE_MAX - 100));
    CHECK(q == nullptr && errno == ENOMEM, "aligned_alloc(4096, huge) = %p errno %d", q, errno);
    // memalign: any alignment; a non-power of two is rounded up (glibc).
    for (size_t a : {0, 1, 3, 24, 48, 100, 3000}) {
        void* m = memalign(opaque(a), 100);
        size_t want = 1;
        while (want < a) want <<= 1;
        CHECK(m && aligned(m, want), "memalign(%zu, 100) = %p, want %zu-aligned", a, m, want);
        free(m);
    }
    // valloc, pvalloc.
    for (size_t n : {1, 100, 4096, 4097, 40000, 300000}) {
        void* v = valloc(n);
        CHECK(v && aligned(v, 4096) && malloc_usable_size(v) >= n, "valloc(%zu) = %p", n, v);
        if (v) memset(v, 1, n);
        free(v);
        void* w = pvalloc(n);
        size_t rounded = (n + 4095) & ~size_t{4095};
        CHECK(w && aligned(w, 4096) && malloc_usable_size(w) >= rounded,
              "pvalloc(%zu) = %p usable %zu", n, w, malloc_usable_size(w));
        if (w) memset(w, 1, rounded);
        free(w);
    }
    void* w = pvalloc(opaque<size_t>(0));
    CHECK(w && aligned(w, 4096) && malloc_usable_size(w) >= 4096, "pvalloc(0) = %p", w);
    free(w);
    errno = 0;
    w = pvalloc(opaque(SIZE_MAX - 10));
    CHECK(w == nullptr && errno == ENOMEM, "pvalloc(huge) = %p errno %d", w, errno);
    errno = 0;
    w = valloc(opaque(SIZE_MAX - 10));
    CHECK(w == nullptr && errno == ENOMEM, "valloc(huge) = %p errno %d", w, errno);
    // Mixed aligned and plain allocations, freed in a shuffled order, many times (slot reuse).
    Rng rng(3);
    for (int round = 0; round < 10; round++) {
        std::vector<std::pair<void*, size_t>> v;
        for (int i = 0; i < 2000; i++) {
            size_t n = rng.size(), a = size_t{8} << (rng.next() % 10);
            void* x = nullptr;
            if (i % 3) {
                if (posix_memalign(&x, a, n)) x = nullptr;
                CHECK(x && aligned(x, a), "posix_memalign(%zu, %zu) in the mix", a, n);
            } else {
                x = malloc(n);
            }
            if (!x) continue;
            fill(x, n, static_cast<uint32_t>(v.size()));
            v.emplace_back(x, n);
        }
        bool ok = true;
        for (size_t i = 0; i < v.size(); i++)
            ok &= verify(v[i].first, v[i].second, static_cast<uint32_t>(i));
        for (size_t k = 0; k < v.size(); k++) std::swap(v[k], v[rng.next() % v.size()]);
        for (auto& b : v) free(b.first);
        CHECK(ok, "mixed aligned allocations corrupted");
    }
    section(
        "posix_memalign/aligned_alloc/memalign/valloc/pvalloc: alignments 8..1 MiB, EINVAL, ENOMEM",
        f0);
}

struct alignas(64) Line64 {
    char c[64];
};
struct alignas(4096) Page4k {
    char c[100];
};
struct alignas(65536) Big64k {
    int x;
};

int g_handlerCalls = 0;
void countingHandler() {
    if (++g_handlerCalls >= 3) std::set_new_handler(nullptr);
}

void testNewDelete() {
    int f0 = g_failures;
    int* i = opaque(new int(42));
    CHECK(*i == 42, "new int");
    delete i;
    int* arr = opaque(new int[1000]());
    CHECK(std::all_of(arr, arr + 1000, [](int x) { return x == 0; }), "new int[1000]() not zeroed");
    delete[] arr;
    for (int k = 0; k < 100; k++) {
        Line64* l = opaque(new Line64[k + 1]);
        CHECK(aligned(l, 64), "new Line64[] = %p not 64-aligned", static_cast<void*>(l));
        delete[] l;
        Page4k* pg = opaque(new Page4k);
        CHECK(aligned(pg, 4096), "new Page4k = %p not 4096-aligned", static_cast<void*>(pg));
        delete pg;
    }
    Big64k* b = opaque(new Big64k);
    CHECK(aligned(b, 65536), "new Big64k = %p not 64 KiB-aligned", static_cast<void*>(b));
    delete b;
    // Explicit operator calls: sized, aligned, sized+aligned, nothrow.
    for (size_t a = 1; a <= (size_t{1} << 20); a <<= 1) {
        void* p = ::operator new(100 * a > 4000000 ? 4000000 : 100 * a, std::align_val_t(a));
        CHECK(aligned(p, a), "operator new(align %zu) = %p", a, p);
        ::operator delete(p, std::align_val_t(a));
        p = ::operator new[](77, std::align_val_t(a));
        CHECK(aligned(p, a), "operator new[](77, align %zu) = %p", a, p);
        ::operator delete[](p, 77, std::align_val_t(a));
        p = ::operator new(33, std::align_val_t(a), std::nothrow);
        CHECK(p && aligned(p, a), "operator new(33, align %zu, nothrow) = %p", a, p);
        ::operator delete(p, std::align_val_t(a), std::nothrow);
        p = ::operator new[](5000, std::align_val_t(a), std::nothrow);
        CHECK(p && aligned(p, a), "operator new[](5000, align %zu, nothrow) = %p", a, p);
        ::operator delete[](p, std::align_val_t(a), std::nothrow);
    }
    void* s = ::operator new(48);
    ::operator delete(s, 48);
    s = ::operator new[](48000);
    ::operator delete[](s, 48000);
    s = ::operator new(10, std::nothrow);
    CHECK(s != nullptr, "operator new(10, nothrow)");
    ::operator delete(s, std::nothrow);
    s = ::operator new[](10, std::nothrow);
    ::operator delete[](s, std::nothrow);
    // Failure: nothrow gives nullptr, throwing forms throw std::bad_alloc.
    const size_t huge = opaque(SIZE_MAX / 2);
    CHECK(::operator new(huge, std::nothrow) == nullptr, "operator new(huge, nothrow) != nullptr");
    CHECK(::operator new[](huge, std::nothrow) == nullptr,
          "operator new[](huge, nothrow) != nullptr");
    CHECK(::operator new(huge, std::align_val_t(64), std::nothrow) == nullptr,
          "aligned nothrow new(huge) != nullptr");
    bool threw = false;
    try {
        void* p = ::operator new(huge);
        ::operator delete(p);
    } catch (const std::bad_alloc&) {
        threw = true;
    }
    CHECK(threw, "operator new(huge) did not throw std::bad_alloc");
    threw = false;
    try {
        void* p = ::operator new[](huge, std::align_val_t(4096));
        ::operator delete[](p, std::align_val_t(4096));
    } catch (const std::bad_alloc&) {
        threw = true;
    }
    CHECK(threw, "aligned operator new[](huge) did not throw std::bad_alloc");
    // The new_handler loop: called until it uninstalls itself, then bad_alloc.
    g_handlerCalls = 0;
    std::set_new_handler(countingHandler);
    threw = false;
    try {
        void* p = ::operator new(huge);
        ::operator delete(p);
    } catch (const std::bad_alloc&) {
        threw = true;
    }
    CHECK(threw && g_handlerCalls == 3,
          "new_handler loop: threw %d, handler called %d times (want 3)", threw, g_handlerCalls);
    std::set_new_handler(nullptr);
    // Standard containers on top.
    std::map<std::string, std::vector<std::string>> m;
    for (int k = 0; k < 20000; k++)
        m[std::to_string(k % 997)].push_back(std::string(k % 300, 'a' + k % 26));
    size_t total = 0;
    for (auto& [key, v] : m) total += v.size();
    CHECK(total == 20000 && m.size() == 997, "std::map of vectors of strings");
    auto sp = std::make_shared<std::vector<int>>(100000, 7);
    CHECK((*sp)[99999] == 7, "make_shared vector");
    section(
        "operator new/delete: plain, array, aligned (up to 1 MiB), sized, nothrow, bad_alloc, "
        "new_handler",
        f0);
}

// Threads that come and go: each wave allocates, frees half itself and hands the rest to the next
// wave, whose threads check and free them (after their allocating threads have exited).
void testThreads() {
    int f0 = g_failures;
    struct Block {
        void* p;
        size_t n;
        uint32_t seed;
    };
    std::vector<Block> handoff;
    std::mutex mu;
    std::atomic<int> corrupt{0};
    for (int wave = 0; wave < 24; wave++) {
        std::vector<Block> incoming;
        incoming.swap(handoff);
        std::vector<std::thread> ts;
        const int nthreads = 2 + wave % 7;
        for (int t = 0; t < nthreads; t++) {
            ts.emplace_back([&, t, wave] {
                Rng rng(wave * 100 + t + 1);
                // Free a share of the previous wave's blocks.
                for (size_t i = t; i < incoming.size(); i += nthreads) {
                    if (!verify(incoming[i].p, incoming[i].n, incoming[i].seed)) corrupt++;
                    free(incoming[i].p);
                }
                std::vector<Block> mine;
                for (int i = 0; i < 1500; i++) {
                    size_t n = rng.size();
                    uint32_t seed = static_cast<uint32_t>(wave * 1000000 + t * 10000 + i);
                    void* p = (i % 7 == 0) ? calloc(1, n) : malloc(n);
                    if (!p) {
                        corrupt++;
                        continue;
                    }
                    fill(p, n, seed);
                    mine.push_back({p, n, seed});
                    if (i % 5 == 4) {  // realloc one, free another
                        Block& b = mine[rng.next() % mine.size()];
                        size_t m = rng.size();
                        void* q = realloc(b.p, m);
                        if (!verify(q, std::min(m, b.n), b.seed)) corrupt++;
                        fill(q, m, b.seed);
                        b.p = q;
                        b.n = m;
                    }
                }
                std::vector<Block> keep;
                for (size_t i = 0; i < mine.size(); i++) {
                    if (i % 2) {
                        if (!verify(mine[i].p, mine[i].n, mine[i].seed)) corrupt++;
                        free(mine[i].p);
                    } else {
                        keep.push_back(mine[i]);
                    }
                }
                std::lock_guard<std::mutex> g(mu);
                handoff.insert(handoff.end(), keep.begin(), keep.end());
            });
        }
        for (auto& th : ts) th.join();
    }
    for (auto& b : handoff) {
        if (!verify(b.p, b.n, b.seed)) corrupt++;
        free(b.p);
    }
    CHECK(corrupt == 0, "%d blocks corrupted or failed across thread waves", corrupt.load());

    // Producer/consumer: blocks freed concurrently by other threads while their owners allocate.
    std::mutex qmu;
    std::condition_variable cv;
    std::vector<Block> queue;
    bool done = false;
    std::atomic<int> bad{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; t++)
        ts.emplace_back([&, t] {
            Rng rng(500 + t);
            for (int i = 0; i < 60000; i++) {
                size_t n = 1 + rng.next() % 600;
                void* p = malloc(n);
                uint32_t seed = static_cast<uint32_t>(t * 1000000 + i);
                fill(p, n, seed);
                std::lock_guard<std::mutex> g(qmu);
                queue.push_back({p, n, seed});
                if (queue.size() > 64) cv.notify_one();
            }
        });
    std::vector<std::thread> cs;
    for (int t = 0; t < 2; t++)
        cs.emplace_back([&] {
            std::vector<Block> batch;
            for (;;) {
                {
                    std::unique_lock<std::mutex> g(qmu);
                    cv.wait_for(g, std::chrono::milliseconds(2),
                                [&] { return done || !queue.empty(); });
                    if (queue.empty() && done) return;
                    batch.swap(queue);
                }
                for (auto& b : batch) {
                    if (!verify(b.p, b.n, b.seed)) bad++;
                    free(b.p);
                }
                batch.clear();
            }
        });
    for (auto& th : ts) th.join();
    {
        std::lock_guard<std::mutex> g(qmu);
        done = true;
    }
    cv.notify_all();
    for (auto& th : cs) th.join();
    CHECK(bad == 0, "%d blocks corrupted between producer and consumer threads", bad.load());
    section("threads: 24 waves of threads that come and go, cross-thread frees, producer/consumer",
            f0);
}

// fork with threads alive (and allocating) at the time of the fork.
void testFork() {
    int f0 = g_failures;
    std::atomic<bool> stop{false};
    std::atomic<int> workerBad{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < 3; t++)
        workers.emplace_back([&, t] {
            Rng rng(900 + t);
            std::vector<std::pair<void*, size_t>> v;
            uint32_t k = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                size_t n = rng.size();
                void* p = malloc(n);
                fill(p, n, static_cast<uint32_t>(n));
                v.emplace_back(p, n);
                if (v.size() > 200) {
                    size_t i = rng.next() % v.size();
                    if (!verify(v[i].first, v[i].second, static_cast<uint32_t>(v[i].second)))
                        workerBad++;
                    free(v[i].first);
                    v[i] = v.back();
                    v.pop_back();
                }
                if (++k % 64 == 0) sched_yield();
            }
            for (auto& b : v) free(b.first);
        });
    std::vector<std::pair<void*, size_t>> before;
    Rng rng(11);
    for (int i = 0; i < 3000; i++) {
        size_t n = rng.size();
        void* p = malloc(n);
        fill(p, n, static_cast<uint32_t>(i));
        before.emplace_back(p, n);
    }
    int childFailures = 0, hung = 0;
    for (int round = 0; round < 20; round++) {
        usleep(2000);
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
            CHECK(false, "fork failed: %s", strerror(errno));
            break;
        }
        if (pid == 0) {
            alarm(20);
            int bad = 0;
            for (size_t i = 0; i < before.size(); i++) {
                if (!verify(before[i].first, before[i].second, static_cast<uint32_t>(i))) bad++;
                if (i % 2) free(before[i].first);
            }
            Rng r(round + 1);
            std::vector<void*> v;
            for (int i = 0; i < 5000; i++) {
                size_t n = r.size();
                void* p = (i % 3) ? malloc(n) : calloc(1, n);
                if (!p) {
                    bad++;
                    continue;
                }
                memset(p, i, n);
                v.push_back(p);
                if (i % 3 == 0) {
                    free(v.back());
                    v.pop_back();
                }
            }
            for (void* p : v) free(p);
            // The child can start threads of its own.
            std::atomic<int> tbad{0};
            std::thread a([&] {
                for (int i = 0; i < 5000; i++) {
                    void* p = malloc(1 + i % 3000);
                    if (!p) tbad++;
                    free(p);
                }
            });
            std::thread b([&] {
                std::vector<std::string> s;
                for (int i = 0; i < 5000; i++) s.emplace_back(static_cast<size_t>(i % 200), 'x');
            });
            a.join();
            b.join();
            for (size_t i = 0; i < before.size(); i += 2)
                if (!verify(before[i].first, before[i].second, static_cast<uint32_t>(i))) bad++;
            _exit(bad + tbad > 0 ? 1 : 0);
        }
        // Parent: keep allocating meanwhile.
        std::vector<void*> v;
        for (int i = 0; i < 2000; i++) v.push_back(malloc(rng.size()));
        for (void* p : v) free(p);
        int status = 0;
        pid_t w = 0;
        for (int ms = 0; ms < 25000; ms++) {
            w = waitpid(pid, &status, WNOHANG);
            if (w != 0) break;
            usleep(1000);
        }
        if (w == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            hung++;
            fprintf(stderr, "fork round %d: child %d hung (deadlock after fork?)\n", round, pid);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            childFailures++;
            if (WIFSIGNALED(status))
                fprintf(stderr, "fork round %d: child killed by signal %d\n", round,
                        WTERMSIG(status));
            else
                fprintf(stderr, "fork round %d: child exited %d\n", round, WEXITSTATUS(status));
        }
    }
    stop = true;
    for (auto& th : workers) th.join();
    int bad = 0;
    for (size_t i = 0; i < before.size(); i++) {
        if (!verify(before[i].first, before[i].second, static_cast<uint32_t>(i))) bad++;
        free(before[i].first);
    }
    CHECK(hung == 0, "%d children hung after fork", hung);
    CHECK(childFailures == 0, "%d children failed", childFailures);
    CHECK(bad == 0 && workerBad == 0, "parent blocks corrupted: %d, worker blocks corrupted: %d",
          bad, workerBad.load());
    section(
        "fork: 20 forks with 3 allocating threads alive; children allocate, free, start threads",
        f0);
}

void testTrim() {
    int f0 = g_failures;
    std::vector<void*> v;
    for (int i = 0; i < 200; i++) v.push_back(malloc(100000));
    for (size_t i = 0; i < v.size(); i += 2) free(v[i]);
    malloc_trim(0);
    for (size_t i = 1; i < v.size(); i += 2) {
        memset(v[i], 7, 100000);
        free(v[i]);
    }
    void* p = malloc(1000000);
    CHECK(p != nullptr, "malloc after malloc_trim");
    memset(p, 1, 1000000);
    free(p);
    section("malloc_trim: memory stays usable", f0);
}

// ---------------------------------------------------------------------------------------------
// Misuse: each must make spanscope print its report and abort.

int misuse(const char* mode) {
    if (!strcmp(mode, "double-free")) {
        void* p = opaque(malloc(64));
        free(p);
        free(opaque(p));
    } else if (!strcmp(mode, "double-free-large")) {
        void* p = opaque(malloc(100000));
        free(p);
        free(opaque(p));
    } else if (!strcmp(mode,
                       "double-free-other-thread")) {  // freed twice, both times by a non-owner
        void* p = opaque(malloc(64));
        std::thread([p] {
            free(p);
            free(opaque(p));
        }).join();
    } else if (!strcmp(mode, "double-free-owner-then-other")) {  // owner frees, then another thread
        void* p = opaque(malloc(64));
        free(p);
        std::thread([p] { free(opaque(p)); }).join();
        // If nothing aborted so far, allocate a lot: the slot must not be handed out twice.
        std::vector<void*> v;
        for (int i = 0; i < 100000; i++) v.push_back(malloc(64));
        std::sort(v.begin(), v.end());
        for (size_t i = 1; i < v.size(); i++)
            if (v[i] == v[i - 1]) {
                fprintf(stderr, "double free not detected, and malloc returned %p twice\n", v[i]);
                return 3;
            }
        fprintf(stderr, "double free not detected (no duplicate allocation seen)\n");
        return 4;
    } else if (!strcmp(mode, "delete-twice")) {
        int* p = opaque(new int(1));
        delete p;
        delete opaque(p);
    } else if (!strcmp(mode, "free-stack")) {
        char buf[64];
        memset(buf, 0, sizeof buf);
        free(opaque(static_cast<void*>(buf)));
    } else if (!strcmp(mode, "free-interior")) {
        char* p = opaque(static_cast<char*>(malloc(64)));
        free(opaque(p + 16));
    } else if (!strcmp(mode, "free-interior-large")) {
        char* p = opaque(static_cast<char*>(malloc(100000)));
        free(opaque(p + 8192));
    } else if (!strcmp(mode, "realloc-stack")) {
        char buf[64];
        memset(buf, 0, sizeof buf);
        void* q = realloc(opaque(static_cast<void*>(buf)), 128);
        free(q);
    } else {
        fprintf(stderr, "unknown mode '%s'\n", mode);
        return 2;
    }
    fprintf(stderr, "misuse '%s' was not detected\n", mode);
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "all";
    if (strcmp(mode, "all") != 0) return misuse(mode);
    setvbuf(stdout, nullptr, _IOLBF, 0);
    if (!mappedSpanscope() && !getenv("API_CONTRACT_ALLOW_PLAIN")) {
        fprintf(stderr, "libspanscope.so is not loaded: run this program under LD_PRELOAD\n");
        return 2;
    }
    const auto t0 = time(nullptr);
    g_lastSection = now();
    testMallocFree();
    testUsableSize();
    testAlignmentEverySize();
    testCalloc();
    testRealloc();
    testAligned();
    testNewDelete();
    testThreads();
    testFork();
    testTrim();
    printf("%s: %d check(s) failed (%ld s)\n", g_failures ? "FAILED" : "PASSED", g_failures,
           static_cast<long>(time(nullptr) - t0));
    return g_failures ? 1 : 0;
}
