// The GUI's names for the heap's figures, each defined once: every panel's label, column header,
// legend entry and status-bar field takes its word from here, and docs/glossary.md defines the same
// words (a test checks that every term here is defined there).
#pragma once
#include <QString>
#include <cstdint>
#include <string>

namespace spanscope::ui {

enum class Term {
    Allocated,        // HeapAlloc: bytes of the objects allocated (slot sizes; large: whole pages)
    InSpans,          // HeapInuse: bytes of the pages of in-use spans
    HeapLive,         // Go's heapLive: allocated + free slots of spans cached in mcaches
    HeapSys,          // HeapSys: heap bytes mapped from the OS
    Released,         // HeapReleased: free pages returned to the OS
    FreePages,        // HeapIdle - HeapReleased: free pages kept mapped
    Waste,            // free slots + tail waste, of in-use spans
    FreeSlots,        // slots of in-use spans not holding an object
    TailWaste,        // a span's bytes past its last slot
    NextSweep,        // malloc mode: the heap live at which the next sweep generation starts
    HeapGoal,         // managed mode: the heap size at which the next GC cycle should end
    MemoryLimit,      // managed mode: GOMEMLIMIT
    SweepGeneration,  // malloc mode: sweepgen += 2; every span swept once per generation
    GcCycle,          // managed mode: one garbage collection
    Count
};

QString termLabel(Term t);    // the word shown ("allocated", "in spans", ...)
QString termMeaning(Term t);  // one line, for tooltips
const char* termLabelLatin1(Term t);

// A GC phase (gc_phases.phase: sweep-termination, mark, mark-termination, off) as every panel
// names it: "sweep termination (stop-the-world)", "mark (concurrent)", ...
QString gcPhaseLabel(const std::string& phase);

// Counts with their noun in the right number: "1 class", "3 classes" (the plural is given, so that
// "1 page"/"2 pages" and "1 class"/"2 classes" both read right).
QString countOf(uint64_t n, const char* one, const char* many);

}  // namespace spanscope::ui
