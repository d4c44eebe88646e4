// Exports of a session for other tools: a Perfetto / Chrome trace and CSV files
// (instrumentation/session_export.cpp; docs/session-format.md, section 5).
#pragma once
#include <string>

#include "spanscope/session.h"

namespace spanscope::session {

// Chrome's trace-event JSON (Perfetto's UI, chrome://tracing): GC cycles on the "GC cycles" track
// with their phases nested inside, stop-the-world pauses and sweep generations on tracks of their
// own, the heap series as counter tracks (HeapAlloc ... Fragmentation, HeapObjects), process and
// thread names as metadata events.
std::string perfettoTrace(SessionReader& reader);

// DIR/size_classes.csv (the size-class table with each class's figures at the session's end),
// heap_totals.csv, class_counters.csv, gc_cycles.csv, gc_phases.csv. DIR is created if missing.
bool exportCsv(SessionReader& reader, const std::string& dir, std::string* err);

// Writes text to path through a temporary file in the same directory and a rename.
bool writeFileAtomically(const std::string& path, const std::string& text, std::string* err);

}  // namespace spanscope::session
