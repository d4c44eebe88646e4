// Chart helpers (see chart_util.h).
#include "chart_util.h"

#include <algorithm>
#include <cmath>

namespace spanscope::ui {

void setNiceTimeRange(QValueAxis* axis, double s0, double s1, int target, const char* unit) {
    if (!(s1 > s0)) s1 = s0 + 1e-9;
    const double raw = (s1 - s0) / std::max(2, target),
                 mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = 10 * mag;
    for (double f : {1.0, 2.0, 5.0})
        if (f * mag >= raw) {
            step = f * mag;
            break;
        }
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step))));
    const QString format = QStringLiteral("%.") + QString::number(decimals) + QStringLiteral("f") +
                           QString::fromLatin1(unit);
    // Every change below re-lays the chart out (axis labels are text documents): skip a no-op, as
    // a live session's timeline asks for the same range several times a second.
    if (axis->min() == s0 && axis->max() == s1 && axis->tickInterval() == step &&
        axis->labelFormat() == format && axis->tickType() == QValueAxis::TicksDynamic)
        return;
    // Fixed ticks while the range changes: with dynamic ticks Qt 6.4 lays the new range out with
    // the old interval first (billions of ticks when zooming out from a tiny range) and crashes.
    axis->setTickType(QValueAxis::TicksFixed);
    axis->setRange(s0, s1);
    axis->setTickAnchor(0);
    axis->setTickInterval(step);
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setLabelFormat(format);
}

double niceTop(double v) {
    if (!(v > 0)) return 1;
    const double mag = std::pow(10.0, std::floor(std::log10(v)));
    for (double f : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (f * mag >= v * 1.02) return f * mag;
    return 10 * mag;
}

}  // namespace spanscope::ui
