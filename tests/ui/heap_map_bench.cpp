// The heap map's redraw time for a 4 GiB heap (Google Benchmark). 64 arenas, 524288 pages, filled
// with spans of Go's size-class page counts (1, 2, 3, 4, 8 pages ...), large spans, free and
// released runs. A redraw is renderHeapMap at the view's size: the target is under 16 ms.
//   build/tests/ui/heap_map_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include <QGuiApplication>
#include <random>

#include "cpu_state.h"
#include "heap_map_renderer.h"

using namespace spanscope;
using namespace spanscope::ui;

namespace {
constexpr uint64_t kPage = 8192, kArena = 64ull << 20, kBase = 0xc000000000, kHeap = 4ull << 30;

std::vector<session::SpanRecord> fourGiBSpans() {
    std::mt19937_64 rng(42);
    std::vector<session::SpanRecord> v;
    const uint32_t pagesFor[] = {1, 1, 1, 1, 2, 3, 4, 8};
    uint64_t page = 0;
    const uint64_t pages = kHeap / kPage;
    while (page < pages) {
        session::SpanRecord r{};
        r.base = kBase + page * kPage;
        const uint64_t roll = rng() % 100;
        if (roll < 8) {  // a free gap
            page += 1 + rng() % 16;
            continue;
        }
        if (roll < 12) {  // a large object
            r.npages = 5 + static_cast<uint32_t>(rng() % 60);
            r.spanClass = 0;
            r.nelems = 1, r.allocCount = 1;
            r.state = uint8_t(session::SpanState::Large);
        } else {
            r.npages = pagesFor[rng() % 8];
            r.spanClass = static_cast<uint8_t>((1 + rng() % 67) << 1 | 1);
            r.nelems = 64;
            r.allocCount = static_cast<uint16_t>(rng() % 65);
            r.state = static_cast<uint8_t>(1 + rng() % 5);
        }
        if (page + r.npages > pages) break;
        v.push_back(r);
        page += r.npages;
    }
    return v;
}

const HeapScene& scene() {
    static const HeapScene s = buildHeapScene(fourGiBSpans(), kPage, kArena, kHeap, 256ull << 20);
    return s;
}

void BM_RedrawWhole4GiB(benchmark::State& st) {
    const QSize view(static_cast<int>(st.range(0)), static_cast<int>(st.range(1)));
    const HeapScene& s = scene();
    const HeapMapLayout l(s.arenas, kPage, kArena,
                          HeapMapLayout::bestArenasPerRow(s.arenas.size(), s.pagesPerArena(),
                                                          double(view.width()) / view.height()));
    const MapViewport vp = fitViewport(l, view);
    for (auto _ : st) benchmark::DoNotOptimize(renderHeapMap(s, l, vp, view));
    st.counters["tiles"] = double(s.tiles.size());
    st.counters["px_per_page"] = vp.scale;
}
BENCHMARK(BM_RedrawWhole4GiB)
    ->Args({900, 560})
    ->Args({1440, 900})
    ->Args({2560, 1440})
    ->Unit(benchmark::kMillisecond);

void BM_RedrawZoomed4GiB(benchmark::State& st) {
    const QSize view(1440, 900);
    const HeapScene& s = scene();
    const HeapMapLayout l(s.arenas, kPage, kArena, 8);
    MapViewport vp;
    vp.scale = 12;
    vp.origin = QPointF(400, 300);
    for (auto _ : st) benchmark::DoNotOptimize(renderHeapMap(s, l, vp, view));
}
BENCHMARK(BM_RedrawZoomed4GiB)->Unit(benchmark::kMillisecond);

// The worst case: 4 GiB of one-page spans (524288 tiles), the whole heap on screen.
void BM_RedrawWorstCase4GiB(benchmark::State& st) {
    static const HeapScene s = [] {
        std::vector<session::SpanRecord> v(kHeap / kPage);
        for (size_t i = 0; i < v.size(); i++) {
            v[i].base = kBase + i * kPage;
            v[i].npages = 1;
            v[i].spanClass = static_cast<uint8_t>((1 + i % 67) << 1 | 1);
            v[i].nelems = 64;
            v[i].allocCount = static_cast<uint16_t>(i % 65);
            v[i].state = 2;
        }
        return buildHeapScene(v, kPage, kArena, kHeap, 0);
    }();
    const QSize view(1440, 900);
    const HeapMapLayout l(s.arenas, kPage, kArena,
                          HeapMapLayout::bestArenasPerRow(s.arenas.size(), s.pagesPerArena(), 1.6));
    const MapViewport vp = fitViewport(l, view);
    for (auto _ : st) benchmark::DoNotOptimize(renderHeapMap(s, l, vp, view));
    st.counters["tiles"] = double(s.tiles.size());
}
BENCHMARK(BM_RedrawWorstCase4GiB)->Unit(benchmark::kMillisecond);

void BM_BuildScene4GiB(benchmark::State& st) {
    const auto spans = fourGiBSpans();
    for (auto _ : st)
        benchmark::DoNotOptimize(buildHeapScene(spans, kPage, kArena, kHeap, 256ull << 20));
    st.counters["spans"] = double(spans.size());
}
BENCHMARK(BM_BuildScene4GiB)->Unit(benchmark::kMillisecond);
}  // namespace

int main(int argc, char** argv) {
    // Arena labels are drawn with QPainter text, which needs a QGuiApplication (offscreen is fine).
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    spanscope::ui::clearAvxUpperState();  // see cpu_state.h
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
