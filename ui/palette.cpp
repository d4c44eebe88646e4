// Size-class colours (see palette.h for the rule): a greedy farthest-point choice in OKLab, with
// distances taken as the smallest under normal vision, protanopia and deuteranopia.
#include "palette.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace spanscope::ui {
namespace {

using Vec3 = std::array<double, 3>;

double toLinear(int c8) {
    const double c = c8 / 255.0;
    return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}
int toSrgb8(double l) {
    l = std::clamp(l, 0.0, 1.0);
    const double c = l <= 0.0031308 ? 12.92 * l : 1.055 * std::pow(l, 1 / 2.4) - 0.055;
    return static_cast<int>(std::lround(c * 255));
}

// Björn Ottosson's OKLab (2020), from and to linear sRGB.
Vec3 okLab(const Vec3& rgb) {
    const auto [r, g, b] = rgb;
    const double l = std::cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
    const double m = std::cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
    const double s = std::cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
    return {0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
            1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
            0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s};
}
Vec3 linearFromOkLab(const Vec3& lab) {
    const auto [L, a, b] = lab;
    const double l = std::pow(L + 0.3963377774 * a + 0.2158037573 * b, 3);
    const double m = std::pow(L - 0.1055613458 * a - 0.0638541728 * b, 3);
    const double s = std::pow(L - 0.0894841775 * a - 1.2914855480 * b, 3);
    return {4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
            -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
            -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s};
}

// Machado, Oliveira and Fernandes (2009), severity 1, on linear RGB.
constexpr double kProtan[3][3] = {{0.152286, 1.052583, -0.204868},
                                  {0.114503, 0.786281, 0.099216},
                                  {-0.003882, -0.048116, 1.051998}};
constexpr double kDeutan[3][3] = {{0.367322, 0.860646, -0.227968},
                                  {0.280085, 0.672501, 0.047413},
                                  {-0.011820, 0.042940, 0.968881}};
Vec3 simulate(const double (*m)[3], const Vec3& rgb) {
    Vec3 out{};
    for (int i = 0; i < 3; i++)
        out[size_t(i)] =
            std::clamp(m[i][0] * rgb[0] + m[i][1] * rgb[1] + m[i][2] * rgb[2], 0.0, 1.0);
    return out;
}

Vec3 linearOf(QRgb c) {
    return {toLinear(qRed(c)), toLinear(qGreen(c)), toLinear(qBlue(c))};
}

// A colour as seen three ways (OKLab each).
struct Seen {
    std::array<Vec3, 3> lab;
};
Seen seen(QRgb c) {
    const Vec3 rgb = linearOf(c);
    return {{okLab(rgb), okLab(simulate(kProtan, rgb)), okLab(simulate(kDeutan, rgb))}};
}
double dist(const Vec3& a, const Vec3& b) {
    return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                     (a[2] - b[2]) * (a[2] - b[2]));
}
double dist(const Seen& a, const Seen& b) {
    return std::min({dist(a.lab[0], b.lab[0]), dist(a.lab[1], b.lab[1]), dist(a.lab[2], b.lab[2])});
}

std::array<QRgb, kPaletteClasses> makePalette() {
    std::array<QRgb, kPaletteClasses> p{};
    p[0] = kLargeObjectColor;
    // Candidates: an OKLCh grid in the sRGB gamut, light enough to stand out on the dark map (and
    // on a projector's grey black).
    std::vector<QRgb> cand;
    for (double L : {0.55, 0.62, 0.69, 0.76, 0.83, 0.90})
        for (double C : {0.04, 0.08, 0.12, 0.16, 0.20})
            for (int k = 0; k < 48; k++) {
                const double h = 2 * M_PI * k / 48;
                const Vec3 rgb = linearFromOkLab({L, C * std::cos(h), C * std::sin(h)});
                if (std::any_of(rgb.begin(), rgb.end(),
                                [](double x) { return x < -1e-6 || x > 1 + 1e-6; }))
                    continue;
                cand.push_back(qRgb(toSrgb8(rgb[0]), toSrgb8(rgb[1]), toSrgb8(rgb[2])));
            }
    std::vector<Seen> cs;
    cs.reserve(cand.size());
    for (QRgb c : cand) cs.push_back(seen(c));
    // Farthest point: each class takes the candidate farthest from every colour already in use
    // (the map's own colours first), but at least 5x that far from the class before it and
    // 3.3x from the one before that: neighbouring classes, the ones most often side by side,
    // differ most.
    std::vector<double> nearest(cand.size(), 1e9);
    auto use = [&](const Seen& s) {
        for (size_t i = 0; i < cs.size(); i++) nearest[i] = std::min(nearest[i], dist(cs[i], s));
    };
    for (QRgb fixed : kReservedColors) use(seen(fixed));
    // A class colour is never within 0.06 of the map's own colours (free pages, released, ...).
    std::vector<bool> allowed(cand.size());
    for (size_t i = 0; i < cand.size(); i++) allowed[i] = nearest[i] >= 0.06;
    use(seen(p[0]));
    const Seen* prev = nullptr;
    const Seen* prev2 = nullptr;
    std::vector<Seen> picked;
    picked.reserve(kPaletteClasses);
    for (int c = 1; c < kPaletteClasses; c++) {
        size_t best = 0;
        double bestScore = -1;
        for (size_t i = 0; i < cs.size(); i++) {
            if (!allowed[i]) continue;
            double s = nearest[i];
            if (prev) s = std::min(s, 0.2 * dist(cs[i], *prev));
            if (prev2) s = std::min(s, 0.3 * dist(cs[i], *prev2));
            if (s > bestScore) bestScore = s, best = i;
        }
        p[static_cast<size_t>(c)] = cand[best];
        picked.push_back(cs[best]);
        use(cs[best]);
        prev2 = picked.size() >= 2 ? &picked[picked.size() - 2] : nullptr;
        prev = &picked.back();
    }
    return p;
}
}  // namespace

double perceivedDistance(QRgb a, QRgb b) {
    return dist(seen(a), seen(b));
}

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
