// Where a heap's pages come from (the seam tcmalloc calls its system allocator): the operating
// system in production (OsPageSource over sysReserve/sysMap/sysUnused, Go's mem_linux.go), a
// bounded fake in tests, so that a test heap neither shares nor disturbs the process's malloc
// heap and can count what it asked for. Only heap memory goes through it; metadata (arena maps,
// span structs, the page allocator's summaries) stays sysAllocMeta's. See spanscope/allocator.h.
#pragma once
#include <cstddef>

#include "spanscope/detail/platform.h"

namespace spanscope::detail {

class PageSource {
public:
    // Address space of `bytes`, aligned to `align`, not yet readable (Go's sysReserve); hint is
    // where the heap would like it. Null when refused: the heap then reports out of memory.
    virtual void* reserve(size_t bytes, size_t align, void* hint) = 0;
    // Reserved -> ready: readable, writable, zero (Go's sysMap). False when the OS will not back
    // it (more than memory and swap under Linux's default overcommit): out of memory.
    virtual bool map(void* p, size_t bytes) = 0;
    // Gives back a reservation the heap could not use (map refused it).
    virtual void release(void* p, size_t bytes) = 0;
    // The physical pages back to their source; the range reads as zero when used again (Go's
    // sysUnused).
    virtual void unused(void* p, size_t bytes) = 0;

protected:
    constexpr PageSource() = default;
    ~PageSource() = default;  // never destroyed through this type
};

// The production source: the OS, through platform.h's calls. Stateless and constant-initialised,
// so heaps in static storage can point to it before any constructor runs.
class OsPageSource final : public PageSource {
public:
    constexpr OsPageSource() = default;
    // At most the machine's memory and swap in one request: more could never be backed, and
    // making arena metadata for it (a 64 TiB malloc is a million arenas) would take the process
    // down where malloc must return null.
    void* reserve(size_t bytes, size_t align, void* hint) override {
        return bytes > sysMemoryBytes() ? nullptr : sysReserve(bytes, align, hint);
    }
    bool map(void* p, size_t bytes) override { return sysMap(p, bytes); }
    void release(void* p, size_t bytes) override { sysFree(p, bytes); }
    void unused(void* p, size_t bytes) override { sysUnused(p, bytes); }
};

extern constinit OsPageSource g_osPageSource;

}  // namespace spanscope::detail
