// spanscope-cli frames FILE --from A --to B --fps N -o DIR: heap-map frames for slides, drawn by
// the viewer's pure heap-map renderer (ui/frame_export.h) without a window; with --video OUT and
// Debian's ffmpeg on the PATH, also a video of them.
#include <QDir>
#include <QGuiApplication>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli.h"
#include "cpu_state.h"
#include "frame_export.h"

namespace spanscope::cli {

namespace {
int makeVideo(const std::string& dir, double fps, const std::string& video) {
    if (std::system("command -v ffmpeg >/dev/null 2>&1") != 0) {
        std::fprintf(stderr,
                     "spanscope-cli frames: --video needs ffmpeg (apt-get install ffmpeg); the "
                     "frames are in %s\n",
                     dir.c_str());
        return 1;
    }
    const std::string cmd = "ffmpeg -loglevel error -y -framerate " + std::to_string(fps) +
                            " -i '" + dir + "/frame_%05d.png' -pix_fmt yuv420p '" + video + "'";
    if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "spanscope-cli frames: ffmpeg failed to write %s\n", video.c_str());
        return 1;
    }
    return 0;
}
}  // namespace

int framesCommand(int argc, char** argv) {
    std::string path, dir, video;
    double from = 0, to = -1, fps = 10;
    int width = 1280, height = 720;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::puts(
                "usage: spanscope-cli frames FILE -o DIR [--from S] [--to S] [--fps N] [--size "
                "WxH]\n"
                "                            [--video OUT.mp4]\n\n"
                "Writes the heap map at evenly spaced moments as DIR/frame_00000.png, ...:\n"
                "(to - from) x fps frames (default: the whole session at 10 frames a second,\n"
                "1280x720). --video also encodes them with ffmpeg, when it is installed.");
            return 0;
        }
        const bool needsValue = a == "--from" || a == "--to" || a == "--fps" || a == "-o" ||
                                a == "--size" || a == "--video";
        if (needsValue && i + 1 >= argc)
            return usageError("frames", (a + " needs a value").c_str());
        if (a == "-o")
            dir = argv[++i];
        else if (a == "--video")
            video = argv[++i];
        else if (a == "--from" && !parseSeconds(argv[++i], &from))
            return usageError("frames", "bad --from");
        else if (a == "--to" && !parseSeconds(argv[++i], &to))
            return usageError("frames", "bad --to");
        else if (a == "--fps" && (!parseSeconds(argv[++i], &fps) || fps <= 0 || fps > 1000))
            return usageError("frames", "--fps must be a number in (0, 1000]");
        else if (a == "--size" && (std::sscanf(argv[++i], "%dx%d", &width, &height) != 2 ||
                                   width < 64 || height < 64 || width > 8192 || height > 8192))
            return usageError("frames", "--size must be WxH, each 64 .. 8192");
        else if (!needsValue && !a.empty() && a[0] == '-')
            return usageError("frames", ("unknown option " + a).c_str());
        else if (!needsValue && path.empty())
            path = a;
        else if (!needsValue)
            return usageError("frames", "more than one FILE");
    }
    if (path.empty()) return usageError("frames", "missing FILE");
    if (dir.empty()) return usageError("frames", "missing -o DIR");
    std::string err;
    auto r = session::SessionReader::open(path, &err);
    if (!r) {
        std::fprintf(stderr, "spanscope-cli frames: %s\n", err.c_str());
        return 1;
    }
    const double end = double(r->info().endNs) / 1e9;
    if (to < 0) to = end;
    if (from > to || from > end)
        return usageError("frames", "--from must be before --to and inside the session");
    if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    int qargc = 1;
    char name[] = "spanscope-cli";
    char* qargv[] = {name, nullptr};
    QGuiApplication app(qargc, qargv);    // fonts for the captions; no window is opened
    spanscope::ui::clearAvxUpperState();  // see cpu_state.h
    if (!QDir().mkpath(QString::fromStdString(dir))) {
        std::fprintf(stderr, "spanscope-cli frames: cannot create %s\n", dir.c_str());
        return 1;
    }
    ui::FrameOptions opts;
    opts.fromNs = static_cast<int64_t>(from * 1e9);
    opts.toNs = static_cast<int64_t>(std::min(to, end) * 1e9);
    opts.fps = fps;
    opts.size = QSize(width, height);
    QString qerr;
    if (!ui::exportFrames(*r, opts, QString::fromStdString(dir), &qerr)) {
        std::fprintf(stderr, "spanscope-cli frames: %s\n", qPrintable(qerr));
        return 1;
    }
    std::printf("%d frames in %s\n", ui::frameCount(opts), dir.c_str());
    return video.empty() ? 0 : makeVideo(dir, fps, video);
}

}  // namespace spanscope::cli
