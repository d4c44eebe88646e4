// Where each page of the heap goes on the map, in "cell" units (one cell = one 8 KiB page).
// An arena is a block of columns x (pagesPerArena / columns) cells (128 x 64 for Go's 64 MiB
// arenas: one row = 1 MiB; a small heap gets narrower rows, see bestColumns); arenas are placed
// left to right, arenasPerRow to a row, with gaps that leave room for a label. Pure: no widget, no
// image.
#pragma once
#include <QPointF>
#include <QRect>
#include <QSize>
#include <cstdint>
#include <optional>
#include <vector>

namespace spanscope::ui {

class HeapMapLayout {
public:
    static constexpr int kColumns = 128;
    static constexpr int kGapX = 6;   // cells between arenas side by side
    static constexpr int kGapY = 10;  // cells above each arena (its label)

    HeapMapLayout() = default;
    // columns: pages to a row (kColumns, or fewer for a small heap: see bestColumns).
    HeapMapLayout(std::vector<uint64_t> arenas, uint64_t pageSize, uint64_t arenaBytes,
                  int arenasPerRow, int columns = kColumns);

    // The arenasPerRow that makes the map largest inside a view of this aspect (width / height).
    static int bestArenasPerRow(size_t arenaCount, uint64_t pagesPerArena, double viewAspect,
                                int columns = kColumns);
    // For a heap of one arena whose pages in use end usedPages from its base: the row width (a
    // power of two from 8 to kColumns) that shows those pages largest in a view of this aspect.
    static int bestColumns(uint64_t usedPages, double viewAspect);

    int arenasPerRow() const { return m_perRow; }
    int columns() const { return m_columns; }
    const std::vector<uint64_t>& arenas() const { return m_arenas; }
    uint64_t pageSize() const { return m_pageSize; }
    int rowsPerArena() const { return m_rows; }
    QSize bounds() const;             // the whole map, in cells (labels and gaps included)
    QRect arenaRect(size_t i) const;  // arena i's pages, in cells
    QRect labelRect(size_t i) const;  // the gap above arena i

    // Cell of the page holding address a (its top-left corner); nullopt if a is in no arena shown.
    std::optional<QPoint> cellOf(uint64_t a) const;
    // Address of the page under a point in cell coordinates, nullopt over a gap.
    std::optional<uint64_t> addressAt(QPointF cell) const;
    // Index of the arena containing address a, or -1.
    int arenaIndexOf(uint64_t a) const;

private:
    std::vector<uint64_t> m_arenas;
    uint64_t m_pageSize = 8192, m_arenaBytes = 64ull << 20;
    int m_perRow = 1, m_rows = 64, m_columns = kColumns;
};

}  // namespace spanscope::ui
