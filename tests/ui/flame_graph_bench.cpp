// The flame graph's cost on a large profile (issue 14's budget: 100k distinct stacks drawn in under
// 100 ms, off the GUI thread where it must be). Builds a synthetic heap profile of N distinct stacks
// (depth 8..40 over 4,000 functions, shared prefixes as real programs have), then times the worker's
// part (both call trees) and the GUI thread's part (layout and pixels at 1920x1000), median of 5.
// Or a recorded session's profile at its end (read as the worker reads it, timed too).
// Run by hand: flame_graph_bench [STACKS | SESSION]; figures in docs/BENCHMARKS.md.
#include <QApplication>
#include <QElapsedTimer>
#include <algorithm>
#include <cstdio>
#include <random>
#include <string>

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
    for (uint64_t f = 0; f < kFunctions; f++)
        p.locations[0x1000 + f] = session::ProfileLocation{
            0x1000 + f, 0, {{"function_" + std::to_string(f), "/src/file" + std::to_string(f % 300) + ".c", int(f % 900)}}};
    // Callers chosen from a narrowing set near the root (main, a few dispatchers), wide below.
    for (size_t i = 0; i < stacks; i++) {
        session::ProfileStack s;
        s.id = i + 1;
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

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    const std::string arg = argc > 1 ? argv[1] : "100000";
    session::HeapProfile p;
    size_t n = 0;
    if (!arg.empty() && arg.find_first_not_of("0123456789") == std::string::npos) {
        n = size_t(std::strtoul(arg.c_str(), nullptr, 10));
        p = makeProfile(n);
    } else {
        std::string err;
        const double read = medianMs([&] {
            if (!session::loadHeapProfile(arg, 0, -1, false, &p, &err)) {
                std::fprintf(stderr, "flame_graph_bench: %s\n", err.c_str());
                std::exit(1);
            }
        });
        n = p.stacks.size();
        std::printf("%s: read the profile (%llu samples) in %.1f ms\n", arg.c_str(),
                    static_cast<unsigned long long>(p.samples), read);
    }
    ProfileTree td, bu;
    const double build = medianMs([&] {
        td = buildProfileTree(p, false);
        bu = buildProfileTree(p, true);
    });
    std::vector<FlameBox> boxes;
    QFont font;
    font.setPixelSize(12);
    const int row = QFontMetrics(font).height() + 6;
    const double layout = medianMs([&] { boxes = layoutFlameGraph(td, ProfileMetric::InuseBytes, 0, 1920, row); });
    FlameRenderOptions o;
    o.font = font;
    QImage img;
    const double render = medianMs([&] { img = renderFlameGraph(td, boxes, QSize(1920, row * (td.maxDepth() + 1)), o); });
    std::printf("%zu stacks: %zu top-down nodes, %zu bottom-up nodes, depth %d, %zu boxes at 1920 px\n", n,
                td.nodes.size(), bu.nodes.size(), td.maxDepth(), boxes.size());
    std::printf("worker (both trees): %.1f ms; GUI thread: layout %.1f ms + pixels %.1f ms = %.1f ms\n", build, layout,
                render, layout + render);
    return 0;
}
