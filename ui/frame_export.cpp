// exportFrames: the heap map at evenly spaced moments, one PNG each (frame_export.h).
#include "frame_export.h"

#include <QDir>
#include <QPainter>
#include <algorithm>
#include <cmath>
#include <set>

#include "format.h"
#include "heap_map_layout.h"
#include "heap_map_renderer.h"
#include "heap_scene.h"

namespace spanscope::ui {

namespace {
constexpr int kCaptionHeight = 28;

HeapScene sceneAt(session::SessionReader& r, int64_t t) {
    const auto& info = r.info();
    session::HeapSample heap;
    const bool have = r.heapAt(t, &heap);
    return buildHeapScene(r.spansAt(t), static_cast<uint64_t>(info.pageSize ? info.pageSize : 8192),
                          static_cast<uint64_t>(info.arenaBytes), have ? heap.heapSys : 0,
                          have ? heap.heapReleased : 0);
}
}  // namespace

int frameCount(const FrameOptions& opts) {
    const double seconds = double(std::max<int64_t>(0, opts.toNs - opts.fromNs)) / 1e9;
    return std::max(1, static_cast<int>(std::lround(seconds * opts.fps)));
}

bool exportFrames(session::SessionReader& reader, const FrameOptions& opts, const QString& dir,
                  QString* err, const std::function<bool(int, int)>& progress) {
    if (opts.fps <= 0 || opts.toNs < opts.fromNs || opts.size.width() < 16 ||
        opts.size.height() < 16 + kCaptionHeight) {
        *err = QStringLiteral("bad frame range, rate or size");
        return false;
    }
    const int n = frameCount(opts);
    // One layout for all frames: every arena shown at the first or the last moment (the heap
    // only grows into new arenas, so the last frame's arenas include the earlier ones).
    std::set<uint64_t> arenas;
    for (int64_t t : {opts.fromNs, opts.toNs})
        for (uint64_t a : sceneAt(reader, t).arenas) arenas.insert(a);
    const auto& info = reader.info();
    const uint64_t pageSize = static_cast<uint64_t>(info.pageSize ? info.pageSize : 8192);
    const uint64_t arenaBytes = static_cast<uint64_t>(info.arenaBytes ? info.arenaBytes : 64 << 20);
    const QSize mapSize(opts.size.width(), opts.size.height() - kCaptionHeight);
    const int perRow =
        HeapMapLayout::bestArenasPerRow(std::max<size_t>(1, arenas.size()), arenaBytes / pageSize,
                                        double(mapSize.width()) / mapSize.height());
    const HeapMapLayout layout(std::vector<uint64_t>(arenas.begin(), arenas.end()), pageSize,
                               arenaBytes, perRow);
    const MapViewport vp = fitViewport(layout, mapSize);
    const QString program = QString::fromStdString(info.program).section(QLatin1Char('/'), -1);
    for (int i = 0; i < n; i++) {
        const int64_t t =
            opts.fromNs + static_cast<int64_t>(std::llround(double(i) * 1e9 / opts.fps));
        HeapScene scene = sceneAt(reader, std::min(t, opts.toNs));
        scene.arenas = layout.arenas();
        QImage frame(opts.size, QImage::Format_RGB32);
        frame.fill(QColor(250, 250, 250));
        QPainter p(&frame);
        p.drawImage(0, kCaptionHeight, renderHeapMap(scene, layout, vp, mapSize));
        p.setPen(QColor(30, 30, 30));
        QFont f = p.font();
        f.setPixelSize(16);
        p.setFont(f);
        p.drawText(QRect(8, 0, opts.size.width() - 16, kCaptionHeight),
                   Qt::AlignVCenter | Qt::AlignLeft,
                   QStringLiteral("%1   t = %2").arg(program, formatSeconds(t)));
        p.end();
        const QString file =
            QDir(dir).filePath(QStringLiteral("frame_%1.png").arg(i, 5, 10, QLatin1Char('0')));
        if (!frame.save(file, "PNG")) {
            *err = file + QStringLiteral(": cannot write");
            return false;
        }
        if (progress && !progress(i + 1, n)) break;
    }
    return true;
}

}  // namespace spanscope::ui
