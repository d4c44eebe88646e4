// The heap map's input: every span at one moment plus the free page runs between them, grouped by
// arena. Built by a pure function from what SessionReader returns; the renderer and the hit-test
// read it and nothing else.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "spanscope/session.h"

namespace spanscope::ui {

enum class TileKind : uint8_t { Span, Large, Free, Released };

// One run of pages in the map: a span (small or large) or a run of free pages.
struct Tile {
    uint64_t base = 0;
    uint32_t npages = 0;
    uint16_t nelems = 0, allocCount = 0;
    uint8_t spanClass = 0;  // size class << 1 | noscan
    uint8_t state = 0;      // session::SpanState (spans only)
    TileKind kind = TileKind::Free;
    uint32_t ownerTid = 0;
    int sizeClass() const { return spanClass >> 1; }
    double occupancy() const;
    uint64_t end(uint64_t pageSize) const { return base + uint64_t{npages} * pageSize; }
};

struct HeapScene {
    uint64_t pageSize = 8192;
    uint64_t arenaBytes = 64ull << 20;
    std::vector<uint64_t> arenas;  // base address of each arena shown, ascending
    std::vector<Tile> tiles;       // ascending by base, never overlapping
    // Free pages are placed exactly (the gaps between spans); which of them are released is an
    // estimate (the reader gives only the HeapReleased total: see buildHeapScene).
    bool releasedEstimated = false;
    uint64_t pagesPerArena() const { return arenaBytes / pageSize; }
    // The tile holding address a, if any (binary search).
    const Tile* tileAt(uint64_t a) const;
    // Index range [first, last) of tiles overlapping [lo, hi).
    std::pair<size_t, size_t> tilesIn(uint64_t lo, uint64_t hi) const;
};

// Builds the scene from the spans at t (any order) and the heap totals at t.
// - Arenas: every arena holding a span, plus those the heap has grown into: the heap grows from its
//   lowest arena upward (mheap.grow), so heapSys bytes from the first arena's base are mapped.
// - Free runs: the mapped pages no span covers.
// - Released: the scavenger releases free pages top-down (highest address first) and fresh growth
//   counts as released until used, so the highest free pages, heapReleased bytes of them, are
//   marked released. This is exact for the common case and marked as an estimate.
HeapScene buildHeapScene(const std::vector<session::SpanRecord>& spans, uint64_t pageSize,
                         uint64_t arenaBytes, uint64_t heapSys, uint64_t heapReleased);

const char* tileStateName(const Tile& t);  // "cached", "partial, swept", ..., "free", "released"

}  // namespace spanscope::ui
