// buildHeapScene: spans + totals -> arenas and tiles (see heap_scene.h).
#include "heap_scene.h"

#include <algorithm>

namespace spanscope::ui {

double Tile::occupancy() const {
    if (kind == TileKind::Large) return 1.0;
    if (kind != TileKind::Span || nelems == 0) return 0.0;
    return std::min(1.0, static_cast<double>(allocCount) / nelems);
}

const Tile* HeapScene::tileAt(uint64_t a) const {
    auto it = std::upper_bound(tiles.begin(), tiles.end(), a,
                               [](uint64_t v, const Tile& t) { return v < t.base; });
    if (it == tiles.begin()) return nullptr;
    --it;
    return a < it->end(pageSize) ? &*it : nullptr;
}

std::pair<size_t, size_t> HeapScene::tilesIn(uint64_t lo, uint64_t hi) const {
    auto first = std::upper_bound(tiles.begin(), tiles.end(), lo,
                                  [](uint64_t v, const Tile& t) { return v < t.base; });
    if (first != tiles.begin() && std::prev(first)->end(pageSize) > lo) --first;
    auto last = std::lower_bound(first, tiles.end(), hi,
                                 [](const Tile& t, uint64_t v) { return t.base < v; });
    return {static_cast<size_t>(first - tiles.begin()), static_cast<size_t>(last - tiles.begin())};
}

const char* tileStateName(const Tile& t) {
    switch (t.kind) {
        case TileKind::Free:
            return "free (idle)";
        case TileKind::Released:
            return "released to the OS";
        case TileKind::Large:
            return "large object";
        case TileKind::Span:
            break;
    }
    switch (static_cast<session::SpanState>(t.state)) {
        case session::SpanState::None:
            return "new (just taken from the heap)";
        case session::SpanState::Cached:
            return "cached in a thread's mcache";
        case session::SpanState::PartialSwept:
            return "mcentral partial, swept";
        case session::SpanState::PartialUnswept:
            return "mcentral partial, unswept";
        case session::SpanState::FullSwept:
            return "mcentral full, swept";
        case session::SpanState::FullUnswept:
            return "mcentral full, unswept";
        case session::SpanState::Large:
            return "large object";
    }
    return "unknown";
}

HeapScene buildHeapScene(const std::vector<session::SpanRecord>& spans, uint64_t pageSize,
                         uint64_t arenaBytes, uint64_t heapSys, uint64_t heapReleased) {
    HeapScene s;
    // The session's header is not trusted either: a page size or arena size no heap has falls back
    // to the defaults (the layout's cell count follows from them).
    auto pow2 = [](uint64_t v) { return v && !(v & (v - 1)); };
    if (pow2(pageSize) && pageSize >= 4096 && pageSize <= (1u << 20)) s.pageSize = pageSize;
    if (pow2(arenaBytes) && arenaBytes >= s.pageSize * 64 && arenaBytes <= (uint64_t{1} << 30))
        s.arenaBytes = arenaBytes;
    const uint64_t ps = s.pageSize, ab = s.arenaBytes;

    // Nothing here trusts the session: a span must lie in the 48-bit address space, and the number
    // of arenas drawn is bounded before anything is allocated for them (a damaged keyframe or
    // heap_totals row must not make the viewer allocate or loop without bound).
    constexpr uint64_t kMaxAddress = uint64_t{1} << 48;
    constexpr uint64_t kMaxArenas = 4096;  // 256 GiB of 64 MiB arenas
    std::vector<Tile> used;
    used.reserve(spans.size());
    for (const auto& r : spans) {
        if (r.npages == 0 || r.base >= kMaxAddress || r.npages > (kMaxAddress - r.base) / ps)
            continue;
        Tile t;
        t.base = r.base;
        t.npages = r.npages;
        t.nelems = r.nelems;
        t.allocCount = r.allocCount;
        t.spanClass = r.spanClass;
        t.state = r.state;
        t.ownerTid = r.ownerTid;
        const bool large = (r.spanClass >> 1) == 0 || r.state == uint8_t(session::SpanState::Large);
        t.kind = large ? TileKind::Large : TileKind::Span;
        used.push_back(t);
    }
    std::sort(used.begin(), used.end(),
              [](const Tile& a, const Tile& b) { return a.base < b.base; });

    // Arenas: those holding spans, and those the heap grew into (contiguously from the lowest).
    std::vector<uint64_t> arenas;
    for (const Tile& t : used) {
        const uint64_t first = t.base / ab * ab, last = (t.end(ps) - 1) / ab * ab;
        for (uint64_t a = first; a <= last && arenas.size() < kMaxArenas; a += ab)
            if (arenas.empty() || arenas.back() != a) arenas.push_back(a);
    }
    std::sort(arenas.begin(), arenas.end());
    arenas.erase(std::unique(arenas.begin(), arenas.end()), arenas.end());
    uint64_t grownEnd = 0;  // mapped region: [arenas[0], grownEnd)
    if (!arenas.empty() && heapSys > 0) {
        grownEnd = arenas.front() + std::min(heapSys, kMaxArenas * ab);
        for (uint64_t a = arenas.front(); a < grownEnd && arenas.size() < 2 * kMaxArenas; a += ab)
            if (!std::binary_search(arenas.begin(), arenas.end(), a)) arenas.push_back(a);
        std::sort(arenas.begin(), arenas.end());
    }
    s.arenas = std::move(arenas);

    // Free runs: mapped pages between spans (and between the last span and grownEnd).
    std::vector<Tile> tiles;
    tiles.reserve(used.size() * 2 + 1);
    auto addFree = [&](uint64_t lo, uint64_t hi) {
        // Split at arena boundaries so that every tile lies inside one arena.
        while (lo < hi) {
            const uint64_t stop = std::min(hi, (lo / ab + 1) * ab);
            Tile f;
            f.base = lo;
            f.npages = static_cast<uint32_t>((stop - lo) / ps);
            f.kind = TileKind::Free;
            if (f.npages) tiles.push_back(f);
            lo = stop;
        }
    };
    uint64_t cursor = s.arenas.empty() ? 0 : s.arenas.front();
    for (const Tile& t : used) {
        if (t.base < cursor)
            continue;  // overlaps the previous span: inconsistent input, keep the first
        if (t.base > cursor && cursor < grownEnd) addFree(cursor, std::min(t.base, grownEnd));
        tiles.push_back(t);
        cursor = std::max(cursor, t.end(ps));
    }
    if (cursor < grownEnd) addFree(cursor, grownEnd);

    // Released: the highest free pages, heapReleased bytes of them.
    uint64_t toRelease = heapReleased / ps;
    s.releasedEstimated = toRelease > 0;
    for (size_t i = tiles.size(); i-- > 0 && toRelease > 0;) {
        Tile& f = tiles[i];
        if (f.kind != TileKind::Free) continue;
        if (f.npages <= toRelease) {
            f.kind = TileKind::Released;
            toRelease -= f.npages;
        } else {  // split: the upper part is released
            Tile r = f;
            r.npages = static_cast<uint32_t>(toRelease);
            f.npages -= r.npages;
            r.base = f.base + uint64_t{f.npages} * ps;
            r.kind = TileKind::Released;
            tiles.insert(tiles.begin() + static_cast<std::ptrdiff_t>(i) + 1, r);
            toRelease = 0;
        }
    }
    s.tiles = std::move(tiles);
    return s;
}

}  // namespace spanscope::ui
