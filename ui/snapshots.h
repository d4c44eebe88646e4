// Immutable snapshots that the session worker sends to the GUI thread (std::shared_ptr<const T> by
// queued signal). Models and views swap them in; nothing here touches SQLite.
#pragma once
#include <QMetaType>
#include <QString>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "heap_scene.h"
#include "narration.h"
#include "profile_tree.h"
#include "spanscope/session.h"

namespace spanscope::ui {

struct SessionSummary {
    QString path;
    session::SessionInfo info;
    std::vector<stream::ClassEntry> classes;  // index = size class; 0 = large
    bool live = false;                        // still being recorded (end_reason = recording)
};

// The state of the heap at one moment: what every panel shows.
struct MomentSnapshot {
    uint64_t token = 0;
    int64_t tNs = 0;
    HeapScene scene;
    std::vector<session::ClassTotals> classes;  // one per size class, index = class
    bool hasHeap = false;
    session::HeapSample heap;               // the latest sample at or before t
    std::optional<session::GcCycle> cycle;  // the cycle running at t, else the last one before
    bool cycleRunning = false;
    std::string gcPhase;    // managed: the cycle's phase at t (gc_phases), or empty
    uint64_t replayed = 0;  // events replayed after the keyframe
    double readMs = 0;      // time the worker spent reading
};

// One span's object slots at one moment, for the span inspector (SessionReader::spanObjectsAt).
struct SpanObjectsSnapshot {
    uint64_t token = 0;
    uint64_t addr = 0;  // the address asked about
    int64_t tNs = 0;
    bool found = false;  // a span held addr at tNs
    session::SpanObjects objects;
    double readMs = 0;
};
using SpanObjectsPtr = std::shared_ptr<const SpanObjectsSnapshot>;

// Series over [t0, t1], decimated to at most a few thousand points for drawing.
struct SeriesSnapshot {
    uint64_t token = 0;
    int64_t t0 = 0, t1 = 0;
    std::vector<session::HeapSample> heap;
    std::vector<session::GcCycle> cycles;
    std::vector<session::GcPhase> phases;  // managed sessions: each cycle's phase edges, by time
    size_t rawSamples = 0;
};

// The answer to a presenter step: the record found (if any) and what its narration needs.
struct EventSnapshot {
    uint64_t token = 0;
    bool found = false;
    session::EventRow row;
    NarrationContext context;
};

// The heap profile at a moment (in use there, allocated up to it) or over a range [fromNs, tNs]
// (allocated in it, and of that what is live at tNs), folded into both call trees.
struct ProfileSnapshot {
    uint64_t token = 0;
    int64_t tNs = 0, fromNs = 0;
    bool ranged = false;
    bool available = false;  // false: error says why (no heap profile in this session, ...)
    QString error;
    session::HeapProfile profile;
    ProfileTree topDown, bottomUp;
    double readMs = 0;
};

using SummaryPtr = std::shared_ptr<const SessionSummary>;
using MomentPtr = std::shared_ptr<const MomentSnapshot>;
using SeriesPtr = std::shared_ptr<const SeriesSnapshot>;
using EventPtr = std::shared_ptr<const EventSnapshot>;
using ProfilePtr = std::shared_ptr<const ProfileSnapshot>;

// Keeps at most maxPoints samples: for each time bucket, the per-field maximum (an envelope, so
// that no peak disappears), stamped with the bucket's last time. Samples must be in time order.
std::vector<session::HeapSample> decimate(const std::vector<session::HeapSample>& in,
                                          size_t maxPoints);

// The heap's part of a moment at t from the spans at t (as SessionReader::spansAt returns them):
// the scene, the heap sample and the per-class totals with their counters. The seek and the range
// worker (the heap at a range's two ends) build their moments with it.
void fillMomentHeap(session::SessionReader& reader, int64_t t,
                    const std::vector<session::SpanRecord>& spans, MomentSnapshot* m);

// Per size class totals from the spans at one moment (the span part of
// SessionReader::classTotalsAt, computed from spans already read, so a seek replays once).
std::vector<session::ClassTotals> computeClassTotals(const std::vector<session::SpanRecord>& spans,
                                                     const std::vector<stream::ClassEntry>& classes,
                                                     uint64_t pageSize);

}  // namespace spanscope::ui

Q_DECLARE_METATYPE(spanscope::ui::SummaryPtr)
Q_DECLARE_METATYPE(spanscope::ui::MomentPtr)
Q_DECLARE_METATYPE(spanscope::ui::SpanObjectsPtr)
Q_DECLARE_METATYPE(spanscope::ui::SeriesPtr)
Q_DECLARE_METATYPE(spanscope::ui::EventPtr)
Q_DECLARE_METATYPE(spanscope::ui::ProfilePtr)
