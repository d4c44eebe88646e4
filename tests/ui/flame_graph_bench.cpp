// The flame graph's cost on a large profile (issue 14's budget: 100k distinct stacks drawn in under
// 100 ms, off the GUI thread where it must be). Builds a synthetic heap profile of N distinct
// stacks (depth 8..40 over 4,000 functions, shared prefixes as real programs have), or reads a
// recorded session's, and times, median of 5:
// - the worker's part at a new moment, both ways in the same run: rebuilt (the session read again
//   and both call trees built from scratch, as before the profile was kept in memory) and cached
//   (the window from the samples in memory, its values put on the skeletons' shapes), with the
//   ratio; and the cached way's one-time cost (reading the session, building the skeletons);
// - the GUI thread's part (layout and pixels at 1920 px).
// The two ways' trees are compared (every shown node: label, children, figures) so that a fast
// wrong answer shows.
// Also the cost of scaleHeapSample before and after clearing the AVX state Qt's start-up leaves
// (cpu_state.h). Run by hand: flame_graph_bench [STACKS | SESSION]; figures in docs/BENCHMARKS.md.
#include <QApplication>
#include <QElapsedTimer>
#include <algorithm>
#include <cstdio>
#include <random>
#include <string>

#include "cpu_state.h"
#include "flame_graph.h"
#include "profile_tree.h"

using namespace spanscope;
using namespace spanscope::ui;

namespace {

session::HeapProfile makeProfile(size_t stacks) {
    session::HeapProfile p;
    p.rate = 512 * 1024;
    std::mt19937_64 rng(42);
    constexpr uint64_t kFunctions = 4000;
    auto locations = std::make_shared<session::LocationTable>();
    for (uint64_t f = 0; f < kFunctions; f++)
        (*locations)[0x1000 + f] = session::ProfileLocation{
            0x1000 + f,
            0,
            {{"function_" + std::to_string(f), "/src/file" + std::to_string(f % 300) + ".c",
              int(f % 900)}}};
    p.locations = locations;
    // Callers chosen from a narrowing set near the root (main, a few dispatchers), wide below.
    for (size_t i = 0; i < stacks; i++) {
        session::ProfileStack s;
        s.id = i + 1;
        s.index = uint32_t(i);
        const size_t depth = 8 + rng() % 33;
        for (size_t d = 0; d < depth; d++) {
            const uint64_t width = std::min<uint64_t>(kFunctions, 2 + d * d * 8);
            s.pcs.push_back(0x1000 + rng() % width);
        }
        std::reverse(s.pcs.begin(), s.pcs.end());  // innermost first
        s.allocObjects = 1 + rng() % 20;
        s.allocBytes = s.allocObjects * (16 + rng() % 4096);
        s.inuseObjects = s.allocObjects / 2;
        s.inuseBytes = s.allocBytes / 2;
        s.rate = p.rate;
        p.stacks.push_back(std::move(s));
    }
    return p;
}

template <typename F>
double medianMs(F f) {
    std::vector<double> t;
    for (int r = 0; r < 5; r++) {
        QElapsedTimer e;
        e.start();
        f();
        t.push_back(double(e.nsecsElapsed()) / 1e6);
    }
    std::sort(t.begin(), t.end());
    return t[2];
}

// The same present nodes from the root down (labels, child counts, figures).
bool sameSubtree(const ProfileTree& a, int x, const ProfileTree& b, int y) {
    const ProfileValues v = a.total(x), w = b.total(y);
    if (a.label(x) != b.label(y) || v.inuseBytes != w.inuseBytes ||
        v.allocObjects != w.allocObjects || a.self(x).allocBytes != b.self(y).allocBytes)
        return false;
    const std::vector<int> xs = a.shownChildren(x), ys = b.shownChildren(y);
    if (xs.size() != ys.size()) return false;
    for (size_t c = 0; c < xs.size(); c++)
        if (!sameSubtree(a, xs[c], b, ys[c])) return false;
    return true;
}

bool sameTree(const ProfileTree& a, const ProfileTree& b) {
    return sameSubtree(a, 0, b, 0);
}

// The cost of one scaleHeapSample (an exp() call), ns: the median of 5 passes over 100k values.
double scaleNs() {
    std::mt19937_64 rng(7);
    std::vector<std::pair<uint64_t, uint64_t>> v(100000);
    for (auto& [count, bytes] : v) count = 1 + rng() % 10, bytes = count * (16 + rng() % 4096);
    int64_t sum = 0;
    const double ms = medianMs([&] {
        int64_t c = 0, b = 0;
        for (const auto& [count, bytes] : v) {
            session::scaleHeapSample(count, bytes, 512 * 1024, &c, &b);
            sum += c + b;
        }
    });
    if (sum == 42) std::puts("");  // keeps the loop
    return ms * 1e6 / double(v.size());
}

}  // namespace

int main(int argc, char** argv) {
    // A plain QApplication, so that the state its start-up leaves can be measured (cpu_state.h).
    QApplication app(argc, argv);
    const bool leftInUse = spanscope::ui::avxUpperStateInUse();
    const double scaleLeft = scaleNs();
    spanscope::ui::clearAvxUpperState();
    const double scaleClear = scaleNs();
    std::printf(
        "scaleHeapSample (one exp()) after Qt's start-up: %.1f ns (AVX upper state in use: %s); "
        "cleared: %.1f ns\n",
        scaleLeft, leftInUse ? "yes" : "no", scaleClear);
    const std::string arg = argc > 1 ? argv[1] : "100000";
    const bool synthetic = !arg.empty() && arg.find_first_not_of("0123456789") == std::string::npos;
    ProfileTree td, bu;    // the rebuilt way's trees at the last moment
    ProfileTree ctd, cbu;  // the cached way's
    double rebuilt = 0, cached = 0, once = 0;
    size_t n = 0;
    if (synthetic) {
        // One moment: every stack in the window (the worst case: every node shown).
        n = size_t(std::strtoul(arg.c_str(), nullptr, 10));
        const session::HeapProfile p = makeProfile(n);
        rebuilt = medianMs([&] {
            td = buildProfileTree(p, false);
            bu = buildProfileTree(p, true);
        });
        ProfileTree skelTd, skelBu;
        once = medianMs([&] {
            skelTd = buildProfileTree(p, false);
            skelBu = buildProfileTree(p, true);
        });
        cached = medianMs([&] {
            ctd = profileTreeForWindow(skelTd, p);
            cbu = profileTreeForWindow(skelBu, p);
        });
    } else {
        // Moments at a quarter, half and the end of the session, in turn.
        std::string err;
        session::HeapProfileData d;
        if (!d.load(arg, &err)) {
            std::fprintf(stderr, "flame_graph_bench: %s\n", err.c_str());
            return 1;
        }
        const int64_t end = d.window(0, -1, false).endNs;
        const int64_t moments[] = {end / 4, end / 2, -1};
        int turn = 0;
        rebuilt = medianMs([&] {
            session::HeapProfile p;
            if (!session::loadHeapProfile(arg, 0, moments[turn++ % 3], false, &p, &err))
                std::exit(1);
            td = buildProfileTree(p, false);
            bu = buildProfileTree(p, true);
            n = p.stacks.size();
        });
        ProfileTree skelTd, skelBu;
        once = medianMs([&] {
            session::HeapProfileData fresh;
            if (!fresh.load(arg, &err)) std::exit(1);
            const session::HeapProfile all = allStacksOf(fresh);
            skelTd = buildProfileTree(all, false);
            skelBu = buildProfileTree(all, true);
        });
        turn = 0;
        cached = medianMs([&] {
            const session::HeapProfile w = d.window(0, moments[turn++ % 3], false);
            ctd = profileTreeForWindow(skelTd, w);
            cbu = profileTreeForWindow(skelBu, w);
        });
        std::printf("%s: %llu samples, %zu stacks in the session, %zu at its end\n", arg.c_str(),
                    static_cast<unsigned long long>(d.samples()), d.stacks().size(), n);
    }
    std::vector<FlameBox> boxes;
    QFont font;
    font.setPixelSize(12);
    const int row = QFontMetrics(font).height() + 6;
    const double layout =
        medianMs([&] { boxes = layoutFlameGraph(ctd, ProfileMetric::InuseBytes, 0, 1920, row); });
    FlameRenderOptions o;
    o.font = font;
    QImage img;
    const double render = medianMs(
        [&] { img = renderFlameGraph(ctd, boxes, QSize(1920, row * (ctd.maxDepth() + 1)), o); });
    std::printf(
        "%zu stacks: %zu top-down nodes, %zu bottom-up nodes, depth %d, %zu boxes at 1920 px\n", n,
        td.size(), bu.size(), td.maxDepth(), boxes.size());
    std::printf(
        "worker at a new moment: rebuilt %.1f ms, cached %.1f ms (%.1fx faster); cached once per "
        "session: "
        "%.1f ms; same trees: %s\n",
        rebuilt, cached, rebuilt / std::max(cached, 1e-3), once,
        sameTree(td, ctd) && sameTree(bu, cbu) ? "yes" : "NO");
    std::printf("GUI thread: layout %.1f ms + pixels %.1f ms = %.1f ms\n", layout, render,
                layout + render);
    return sameTree(td, ctd) && sameTree(bu, cbu) ? 0 : 1;
}
