// Human-readable numbers for labels, tooltips and tables.
#pragma once
#include <QString>
#include <cstdint>

namespace spanscope::ui {
QString formatBytes(uint64_t bytes);  // "512 B", "12.3 KiB", "268.0 MiB"
QString formatCount(uint64_t n);      // "481,996"
QString formatSeconds(int64_t ns);    // "1.234 s"
// A duration in the unit that suits it: "850 ns", "4 µs", "12.5 µs", "1.25 ms", "2.500 s".
QString formatDuration(uint64_t ns);
QString formatAddress(uint64_t addr);  // "0xc000402000"
}  // namespace spanscope::ui
