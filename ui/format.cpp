// Number formatting (see format.h).
#include "format.h"

namespace spanscope::ui {

QString formatBytes(uint64_t b) {
    if (b < 1024) return QStringLiteral("%1 B").arg(b);
    static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = double(b) / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 3) v /= 1024.0, u++;
    return QStringLiteral("%1 %2").arg(v, 0, 'f', v < 10 ? 2 : 1).arg(QLatin1String(kUnits[u]));
}

QString formatCount(uint64_t n) {
    QString s = QString::number(n);
    for (int i = s.size() - 3; i > 0; i -= 3) s.insert(i, QLatin1Char(','));
    return s;
}

QString formatSeconds(int64_t ns) {
    return QStringLiteral("%1 s").arg(double(ns) / 1e9, 0, 'f', 3);
}

QString formatDuration(uint64_t ns) {
    if (ns < 1000) return QStringLiteral("%1 ns").arg(ns);
    if (ns < 1000000) {
        const double us = double(ns) / 1e3;
        return QStringLiteral("%1 \u00b5s").arg(us, 0, 'f', us < 10 ? 1 : 0);
    }
    if (ns < 1000000000) {
        const double ms = double(ns) / 1e6;
        return QStringLiteral("%1 ms").arg(ms, 0, 'f', ms < 10 ? 2 : 1);
    }
    return formatSeconds(static_cast<int64_t>(ns));
}

QString formatAddress(uint64_t a) {
    return QStringLiteral("0x%1").arg(a, 0, 16);
}

}  // namespace spanscope::ui
