// Heap-map frames for slides and videos: the heap map at evenly spaced moments of a session,
// drawn by the pure renderer (heap_map_renderer.h) with one layout for every frame so that pages
// stay put, and a caption with the time. Used by `spanscope-cli frames` and the GUI's export.
#pragma once
#include <QImage>
#include <QSize>
#include <QString>
#include <cstdint>
#include <functional>

#include "spanscope/session.h"

namespace spanscope::ui {

struct FrameOptions {
    int64_t fromNs = 0, toNs = 0;  // the moments covered; frame i is at fromNs + i / fps
    double fps = 10;
    QSize size{1280, 720};
};

// duration x fps, rounded, at least 1 (from == to: one frame).
int frameCount(const FrameOptions& opts);

// Writes DIR/frame_00000.png ... (DIR must exist). progress(i, n) after each frame; returning
// false from it stops early. False with *err on a write error or a bad range.
bool exportFrames(session::SessionReader& reader, const FrameOptions& opts, const QString& dir,
                  QString* err, const std::function<bool(int, int)>& progress = {});

}  // namespace spanscope::ui
