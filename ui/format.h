// Human-readable numbers for labels, tooltips and tables.
#pragma once
#include <QString>
#include <cstdint>

namespace spanscope::ui {
QString formatBytes(uint64_t bytes);        // "512 B", "12.3 KiB", "268.0 MiB"
QString formatCount(uint64_t n);            // "481,996"
QString formatSeconds(int64_t ns);          // "1.234 s"
QString formatAddress(uint64_t addr);       // "0xc000402000"
}  // namespace spanscope::ui
