// Presenter mode's narration: one plain sentence for one recorded record (the kinds of
// allocator/spanscope/events.h and the probe's records of spanscope/stream.h). Pure: an event, the
// session's size-class table and a little context in, a QString out; tests call it directly.
#pragma once
#include <QString>
#include <vector>

#include "spanscope/session.h"

namespace spanscope::ui {

// What the worker adds for the records that need more than their own fields.
struct NarrationContext {
    // GCPhase: the phases of the same cycle recorded before this one (gctrace's heap0 is the
    // sweep-termination row's heapLive).
    std::vector<session::GcPhase> cyclePhases;
    int64_t sweepCycle = 0;  // SweepCycle: the generation's number in gc_cycles (0: unknown)
    // A record about a span holding sampled allocations (the heap profile, profile_tree.h's
    // spanFilledBy): the site that allocated most of them, "json_decode (parser.c:120)", and how
    // many other sites have samples there. Empty: none known.
    QString filledBy;
    size_t filledByOthers = 0;
};

QString narrate(const Event& e, const std::vector<stream::ClassEntry>& classes,
                const NarrationContext& ctx = {});

// "12 MB"-style sizes for a spoken sentence: decimal units, two significant digits past 10.
QString spokenBytes(uint64_t bytes);

}  // namespace spanscope::ui
