// Helpers for the ui tests: a synthetic session with known spans, recorded through the real
// Recorder, and a wait-for-signal helper.
#pragma once
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QThread>
#include <functional>
#include <string>

#include "spanscope/session.h"
#include "stream_builder.h"

namespace spanscope::uitest {

// The known session (times in ns after the stream start), in the records the allocator emits
// today: a span is cached by a SpanRefill (mcache.cpp's refill) and handed back alone by a
// SpanUncache (releaseAll: a thread's exit or a new sweep generation). SpanCache, which only
// sessions recorded before SpanRefill hold, is tested as such in tests/instrumentation.
//   A  0xc000000000  class 10 (128 B, 64 slots), 1 page, partial-swept with 32 objects  (t = 50)
//   B  0xc000004000  class 5 (48 B, 170 slots), 1 page, full-swept with 170 objects    (t = 60)
//   L  0xc000100000  large, 5 pages                                                    (t = 70)
//   heap totals at t = 80: HeapSys 4 MiB (512 pages), HeapReleased 1 MiB (the top 128 pages)
//   sweep generation 1 at t = 90; the session ends at t = 100
inline constexpr uint64_t kA = 0xc000000000, kB = 0xc000004000, kL = 0xc000100000;
inline constexpr uint64_t kStart = 1000000;

inline std::string knownStream() {
    using test::makeEvent;
    auto t = [](uint64_t ns) { return kStart + ns; };
    test::StreamBuilder b(kStart);
    const uint8_t spcA = 10 << 1 | 1, spcB = 5 << 1 | 1;
    b.frame({makeEvent(t(1), static_cast<EventKind>(stream::kRundownBegin)),
             makeEvent(t(1), static_cast<EventKind>(stream::kRundownEnd)),
             makeEvent(t(10), EventKind::SpanAlloc, kA, spcA, 1, 64),
             makeEvent(t(20), EventKind::SpanRefill, kA, spcA, 1, 0, 64),
             makeEvent(t(50), EventKind::SpanUncache, kA, spcA, 1, 32, 64, 0, 0, 0),
             makeEvent(t(55), EventKind::SpanAlloc, kB, spcB, 1, 170),
             makeEvent(t(56), EventKind::SpanRefill, kB, spcB, 1, 0, 170),
             makeEvent(t(60), EventKind::SpanUncache, kB, spcB, 1, 170, 170, 0, 0, 1),
             makeEvent(t(70), EventKind::LargeAlloc, kL, 0, 5, 40000)});
    b.frame({makeEvent(t(80), static_cast<EventKind>(stream::kHeapSizes), 123456, 0, 1, 4 << 20,
                       5 << 20, 202, 6 << 20),
             makeEvent(t(80), static_cast<EventKind>(stream::kHeapCounts), 0, 0, 0, 300, 98, 60000,
                       1 << 20),
             makeEvent(t(80), EventKind::HeapTotals, 0, 0, 0, 58000, 7 * 8192, (4 << 20) - 7 * 8192,
                       1 << 20),
             makeEvent(t(90), EventKind::SweepCycle, 0, 0, 0, 4, 1 << 20, 4 << 20),
             makeEvent(t(100), EventKind::ThreadExit)});
    b.trailer();
    return b.bytes;
}

// Records any stream (test::StreamBuilder's bytes) into a session file, as the recorder does.
inline bool recordStream(const std::string& path, const std::string& bytes) {
    session::Recorder rec;
    session::RecorderOptions o;
    o.path = path;
    o.overwrite = true;
    std::string err;
    if (!rec.open(o, &err)) return false;
    rec.feed(bytes.data(), bytes.size());
    session::EndInfo end;
    end.reason = "exit";
    end.exitCode = 0;
    return rec.finish(end);
}

inline bool recordKnownSession(const std::string& path) {
    return recordStream(path, knownStream());
}

// Processes events until pred() holds or timeoutMs passes.
inline bool waitFor(const std::function<bool()>& pred, int timeoutMs = 10000) {
    QElapsedTimer t;
    t.start();
    while (!pred()) {
        if (t.elapsed() > timeoutMs) return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        QThread::msleep(2);
    }
    return true;
}

}  // namespace spanscope::uitest
