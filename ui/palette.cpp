// Size-class colours (see palette.h for the rule).
#include "palette.h"

#include <array>
#include <cmath>

namespace spanscope::ui {
namespace {
std::array<QRgb, kPaletteClasses> makePalette() {
    std::array<QRgb, kPaletteClasses> p{};
    p[0] = qRgb(0xf2, 0xe6, 0xc4);  // large objects: ivory, unlike any hue below
    // Three bands of 23 classes; within a band, 23 hues 15.65 degrees apart, visited 7 steps
    // (110 degrees) at a time so that neighbouring classes never look alike.
    static constexpr float kSat[3] = {0.80f, 0.58f, 0.95f};
    static constexpr float kVal[3] = {0.97f, 1.00f, 0.72f};
    for (int c = 1; c < kPaletteClasses; c++) {
        const int band = (c - 1) / kHuesPerBand, hue = (c * 7) % kHuesPerBand;
        p[static_cast<size_t>(c)] =
            QColor::fromHsvF(float(hue) / kHuesPerBand, kSat[band], kVal[band]).rgb();
    }
    return p;
}
}  // namespace

QRgb sizeClassColor(int sizeClass) {
    static const std::array<QRgb, kPaletteClasses> palette = makePalette();
    if (sizeClass < 0 || sizeClass >= kPaletteClasses) sizeClass = 0;
    return palette[static_cast<size_t>(sizeClass)];
}

QRgb shadedColor(QRgb c, double occupancy) {
    if (!(occupancy >= 0)) occupancy = 0;  // also NaN
    if (occupancy > 1) occupancy = 1;
    const double k = 0.5 + 0.5 * occupancy;
    const QRgb bg = colors::kReserved;
    auto mix = [k](int fg, int b) { return static_cast<int>(std::lround(b + (fg - b) * k)); };
    return qRgb(mix(qRed(c), qRed(bg)), mix(qGreen(c), qGreen(bg)), mix(qBlue(c), qBlue(bg)));
}

}  // namespace spanscope::ui
