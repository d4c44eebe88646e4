// The GUI's vocabulary (see glossary.h and docs/glossary.md).
#include "glossary.h"

#include <QCoreApplication>

#include "format.h"

namespace spanscope::ui {
namespace {
struct Entry {
    const char* label;
    const char* meaning;
};
constexpr Entry kTerms[static_cast<int>(Term::Count)] = {
    {"allocated",
     "bytes of the objects allocated (HeapAlloc): slot sizes, large objects in whole pages"},
    {"in spans", "bytes of the pages of in-use spans (HeapInuse): allocated + waste"},
    {"heap live",
     "allocated bytes plus the free slots of spans cached in an mcache (Go's heapLive)"},
    {"heap sys", "heap bytes mapped from the operating system (HeapSys)"},
    {"released", "free pages returned to the operating system (HeapReleased)"},
    {"free pages", "free pages the heap keeps mapped (HeapIdle - HeapReleased)"},
    {"waste", "bytes of in-use spans holding no object: free slots + tail waste"},
    {"free slots", "slots of in-use spans that hold no object"},
    {"tail waste", "a span's bytes past its last slot"},
    {"next sweep at", "malloc mode: the heap live at which the next sweep generation starts"},
    {"heap goal", "managed mode: the heap size at which the next GC cycle should have finished"},
    {"memory limit", "managed mode: the soft memory limit (GOMEMLIMIT)"},
    {"sweep generation", "malloc mode: one pass in which every span is swept once (sweepgen += 2)"},
    {"GC cycle", "managed mode: one garbage collection (mark, then sweep)"},
};
}  // namespace

const char* termLabelLatin1(Term t) {
    return kTerms[static_cast<int>(t)].label;
}
QString termLabel(Term t) {
    return QCoreApplication::translate("glossary", termLabelLatin1(t));
}
QString termMeaning(Term t) {
    return QCoreApplication::translate("glossary", kTerms[static_cast<int>(t)].meaning);
}

QString gcPhaseLabel(const std::string& ph) {
    auto tr = [](const char* s) { return QCoreApplication::translate("glossary", s); };
    return ph == "sweep-termination"  ? tr("sweep termination (stop-the-world)")
           : ph == "mark"             ? tr("mark (concurrent)")
           : ph == "mark-termination" ? tr("mark termination (stop-the-world)")
           : ph == "off"              ? tr("off (sweeping)")
                                      : QString::fromStdString(ph);
}

QString countOf(uint64_t n, const char* one, const char* many) {
    return QStringLiteral("%1 %2").arg(formatCount(n), QString::fromLatin1(n == 1 ? one : many));
}

}  // namespace spanscope::ui
