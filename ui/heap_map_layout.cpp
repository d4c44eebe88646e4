// HeapMapLayout: pages <-> cells (see heap_map_layout.h).
#include "heap_map_layout.h"

#include <algorithm>
#include <cmath>

namespace spanscope::ui {

HeapMapLayout::HeapMapLayout(std::vector<uint64_t> arenas, uint64_t pageSize, uint64_t arenaBytes,
                             int arenasPerRow, int columns)
    : m_arenas(std::move(arenas)),
      m_pageSize(pageSize ? pageSize : 8192),
      m_arenaBytes(arenaBytes ? arenaBytes : 64ull << 20),
      m_perRow(std::max(1, arenasPerRow)),
      m_columns(std::clamp(columns, 1, kColumns)) {
    const uint64_t pages = std::max<uint64_t>(1, m_arenaBytes / m_pageSize);
    m_rows = static_cast<int>((pages + uint64_t(m_columns) - 1) / uint64_t(m_columns));
}

int HeapMapLayout::bestColumns(uint64_t usedPages, double aspect) {
    if (!(aspect > 0) || usedPages == 0) return kColumns;
    int best = kColumns;
    double bestScale = 0;
    for (int cols = 8; cols <= kColumns; cols *= 2) {
        const double rows = std::ceil(double(usedPages) / cols);
        const double scale = std::min(aspect / cols, 1.0 / rows);
        if (scale > bestScale * 1.0001) bestScale = scale, best = cols;
    }
    return best;
}

int HeapMapLayout::bestArenasPerRow(size_t n, uint64_t pagesPerArena, double aspect, int columns) {
    if (n <= 1 || !(aspect > 0)) return 1;
    const double rows = std::ceil(static_cast<double>(pagesPerArena) / columns);
    const double aw = columns + kGapX, ah = rows + kGapY;
    int best = 1;
    double bestScale = 0;
    for (size_t k = 1; k <= n; k++) {
        const double w = k * aw, h = std::ceil(static_cast<double>(n) / k) * ah;
        const double scale = std::min(aspect / w, 1.0 / h);
        if (scale > bestScale * 1.0001) bestScale = scale, best = static_cast<int>(k);
    }
    return best;
}

QSize HeapMapLayout::bounds() const {
    const int n = static_cast<int>(m_arenas.size());
    if (n == 0) return {m_columns + kGapX, m_rows + kGapY};
    const int cols = std::min(n, m_perRow), rows = (n + m_perRow - 1) / m_perRow;
    return {cols * (m_columns + kGapX) + kGapX, rows * (m_rows + kGapY) + kGapY / 2};
}

QRect HeapMapLayout::arenaRect(size_t i) const {
    const int col = static_cast<int>(i) % m_perRow, row = static_cast<int>(i) / m_perRow;
    return {kGapX + col * (m_columns + kGapX), kGapY + row * (m_rows + kGapY), m_columns, m_rows};
}

QRect HeapMapLayout::labelRect(size_t i) const {
    const QRect a = arenaRect(i);
    return {a.left(), a.top() - kGapY, m_columns, kGapY};
}

int HeapMapLayout::arenaIndexOf(uint64_t a) const {
    const uint64_t base = a / m_arenaBytes * m_arenaBytes;
    auto it = std::lower_bound(m_arenas.begin(), m_arenas.end(), base);
    if (it == m_arenas.end() || *it != base) return -1;
    return static_cast<int>(it - m_arenas.begin());
}

std::optional<QPoint> HeapMapLayout::cellOf(uint64_t a) const {
    const int i = arenaIndexOf(a);
    if (i < 0) return std::nullopt;
    const uint64_t page = (a - m_arenas[static_cast<size_t>(i)]) / m_pageSize;
    const QRect r = arenaRect(static_cast<size_t>(i));
    return QPoint(r.left() + static_cast<int>(page % m_columns),
                  r.top() + static_cast<int>(page / m_columns));
}

std::optional<uint64_t> HeapMapLayout::addressAt(QPointF cell) const {
    if (m_arenas.empty() || cell.x() < 0 || cell.y() < 0) return std::nullopt;
    const int cx = static_cast<int>(std::floor(cell.x())),
              cy = static_cast<int>(std::floor(cell.y()));
    const int col = (cx - kGapX) / (m_columns + kGapX), row = (cy - kGapY) / (m_rows + kGapY);
    if (cx < kGapX || cy < kGapY || col >= m_perRow) return std::nullopt;
    const size_t i =
        static_cast<size_t>(row) * static_cast<size_t>(m_perRow) + static_cast<size_t>(col);
    if (i >= m_arenas.size()) return std::nullopt;
    const QRect r = arenaRect(i);
    if (!r.contains(cx, cy)) return std::nullopt;
    const uint64_t page =
        static_cast<uint64_t>(cy - r.top()) * m_columns + static_cast<uint64_t>(cx - r.left());
    if (page * m_pageSize >= m_arenaBytes) return std::nullopt;
    return m_arenas[i] + page * m_pageSize;
}

}  // namespace spanscope::ui
