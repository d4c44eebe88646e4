// Small helpers shared by the Qt Charts views.
#pragma once
#include <QValueAxis>

namespace spanscope::ui {

// Sets a time axis (seconds) to [s0, s1] with ticks at round values (1, 2 or 5 times a power of
// ten, about `target` of them) and labels with just enough decimals.
void setNiceTimeRange(QValueAxis* axis, double s0, double s1, int target = 8,
                      const char* unit = "");

// 1, 2, 2.5 or 5 times a power of ten, at least v (a round top for a value axis).
double niceTop(double v);

}  // namespace spanscope::ui
