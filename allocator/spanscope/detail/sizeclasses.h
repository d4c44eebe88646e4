// Go's size classes (runtime/sizeclasses.go, classic layout): the class table and the two
// size -> class lookup tables. See spanscope/allocator.h for the overview.
#pragma once
#include <cstddef>
#include <cstdint>

namespace spanscope {

inline constexpr uintptr_t kPageShift = 13;
inline constexpr uintptr_t kPageSize = uintptr_t{1} << kPageShift;  // 8 KiB runtime page
inline constexpr size_t kMaxSmallSize = 32768;
inline constexpr size_t kTinySize = 16;
inline constexpr int kTinySizeClass = 2;
inline constexpr int kNumSizeClasses = 68;  // class 0 = large
inline constexpr int kNumSpanClasses = kNumSizeClasses << 1;
inline constexpr int kTinySpanClass = kTinySizeClass << 1 | 1;
inline constexpr size_t kSmallSizeDiv = 8, kSmallSizeMax = 1024, kLargeSizeDiv = 128;
inline constexpr int kMaxObjsPerSpan = 1024;
inline constexpr size_t kMallocHeaderSize = 8;
inline constexpr size_t kMinSizeForMallocHeader = 512;

// Bytes per object and pages per span, exactly Go's table (reference section 1).
inline constexpr uint16_t kClassToSize[kNumSizeClasses] = {
    0,     8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,  160,   176,
    192,   208,   224,   240,   256,   288,   320,   352,   384,   416,   448,   480,  512,   576,
    640,   704,   768,   896,   1024,  1152,  1280,  1408,  1536,  1792,  2048,  2304, 2688,  3072,
    3200,  3456,  4096,  4864,  5376,  6144,  6528,  6784,  6912,  8192,  9472,  9728, 10240, 10880,
    12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768};
inline constexpr uint8_t kClassToAllocNPages[kNumSizeClasses] = {
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 2, 1, 3, 2,  3, 1, 3,
    2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8, 3, 10, 7, 4};

struct SizeClassTables {
    uint8_t sizeToClass8[kSmallSizeMax / kSmallSizeDiv + 1];
    uint8_t sizeToClass128[(kMaxSmallSize - kSmallSizeMax) / kLargeSizeDiv + 1];
    uint32_t divMagic[kNumSizeClasses];  // ^uint32(0)/size + 1: (off * magic) >> 32 == off / size
};

// Built at compile time from kClassToSize: each entry is the smallest class whose size >= request.
constexpr SizeClassTables makeSizeClassTables() {
    SizeClassTables t{};
    int c = 1;
    for (size_t i = 0; i <= kSmallSizeMax / kSmallSizeDiv; i++) {
        while (kClassToSize[c] < i * kSmallSizeDiv) c++;
        t.sizeToClass8[i] = static_cast<uint8_t>(c);
    }
    c = 1;
    for (size_t i = 0; i <= (kMaxSmallSize - kSmallSizeMax) / kLargeSizeDiv; i++) {
        while (kClassToSize[c] < kSmallSizeMax + i * kLargeSizeDiv) c++;
        t.sizeToClass128[i] = static_cast<uint8_t>(c);
    }
    for (int k = 1; k < kNumSizeClasses; k++) t.divMagic[k] = ~uint32_t{0} / kClassToSize[k] + 1;
    return t;
}
inline constexpr SizeClassTables kSizeTables = makeSizeClassTables();

// Go's size_to_class lookup for 1 <= size <= kMaxSmallSize.
inline int sizeToClass(size_t size) {
    if (size <= kSmallSizeMax - 8)
        return kSizeTables.sizeToClass8[(size + kSmallSizeDiv - 1) / kSmallSizeDiv];
    return kSizeTables.sizeToClass128[(size - kSmallSizeMax + kLargeSizeDiv - 1) / kLargeSizeDiv];
}

// Malloc mode's lookup differs in one entry: requests of 17..24 bytes take the 32-byte class, not
// Go's 24-byte one. C requires malloc's block to be aligned for any object with a fundamental
// alignment that fits in it; on x86-64 long double, __int128 and max_align_t are 16 bytes and
// 16-aligned, so every block of 16 bytes or more must be 16-aligned (glibc, jemalloc and tcmalloc
// do so). Slots sit at base + i*size with an 8 KiB-aligned base, and every other class of 16 bytes
// or more is a multiple of 16 (checked below). The managed heap keeps Go's 24-byte class: Go's own
// rule (8-byte alignment for objects of 8 bytes or more) holds there.
inline constexpr int kMallocClass17To24 = 4;  // the 32-byte class
constexpr SizeClassTables makeMallocSizeClassTables() {
    SizeClassTables t = makeSizeClassTables();
    t.sizeToClass8[24 / kSmallSizeDiv] = kMallocClass17To24;  // index 3 covers 17..24
    return t;
}
inline constexpr SizeClassTables kMallocSizeTables = makeMallocSizeClassTables();
constexpr bool mallocClassesAre16Aligned() {
    for (int c = 1; c < kNumSizeClasses; c++)
        if (kClassToSize[c] >= 16 && kClassToSize[c] % 16 != 0 && kClassToSize[c] != 24)
            return false;
    return kClassToSize[kMallocClass17To24] == 32 &&
           kMallocSizeTables.sizeToClass8[3] == kMallocClass17To24;
}
static_assert(mallocClassesAre16Aligned(),
              "every malloc-mode class of 16 B or more must be a multiple of 16");

// sizeToClass for malloc mode (1 <= size <= kMaxSmallSize).
inline int mallocSizeToClass(size_t size) {
    if (size <= kSmallSizeMax - 8)
        return kMallocSizeTables.sizeToClass8[(size + kSmallSizeDiv - 1) / kSmallSizeDiv];
    return kSizeTables.sizeToClass128[(size - kSmallSizeMax + kLargeSizeDiv - 1) / kLargeSizeDiv];
}

inline constexpr uint8_t makeSpanClass(int sizeclass, bool noscan) {
    return static_cast<uint8_t>(sizeclass << 1 | (noscan ? 1 : 0));
}
inline constexpr int spanClassSize(uint8_t spc) {
    return spc >> 1;
}
inline constexpr bool spanClassNoscan(uint8_t spc) {
    return spc & 1;
}

// Malloc mode's pages per span: Go's, except that a class of at most 1 KiB gets spans of at least
// kMallocMinSpanSlots objects (288..512 B: two pages; 576..1024 B: 3-4 pages instead of Go's one
// page of 8-14 slots). Go sweeps every span once per GC cycle; malloc mode sweeps a span when a
// share of its slots was freed, so a span of 8 slots handed out 2 objects per refill (57% of
// churn-1t's refills were on these classes). The managed heap keeps Go's table.
inline constexpr size_t kMallocMinSpanSlots = 32;
constexpr uint8_t mallocClassNPages(int c) {
    const size_t go = kClassToAllocNPages[c];
    if (c == 0 || kClassToSize[c] > kSmallSizeMax) return static_cast<uint8_t>(go);
    const size_t want = (kMallocMinSpanSlots * kClassToSize[c] + kPageSize - 1) / kPageSize;
    return static_cast<uint8_t>(want > go ? want : go);
}
// Pages per span of class c in either mode.
constexpr uint8_t classNPages(int c, bool mallocMode) {
    return mallocMode ? mallocClassNPages(c) : kClassToAllocNPages[c];
}

// Slot count of a span of class c (classic layout: noscan = span/size; scan spans of classes <= 512
// B reserve span/64 bytes for the pointer bitmap, as Go does).
constexpr uint16_t classNelems(int c, bool noscan, bool mallocMode = false) {
    size_t span = size_t{classNPages(c, mallocMode)} * kPageSize;
    if (!noscan && kClassToSize[c] <= kMinSizeForMallocHeader) span -= span / 64;
    return static_cast<uint16_t>(span / kClassToSize[c]);
}

}  // namespace spanscope
