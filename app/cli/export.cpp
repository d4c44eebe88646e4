// spanscope-cli export FILE --perfetto OUT.json | --csv DIR: a session for other tools, through
// spanscope/session_export.h (Chrome trace-event JSON for Perfetto; CSV of every table the
// timeline and the size-class table show).
#include <cstdio>
#include <string>

#include "cli.h"
#include "spanscope/session_export.h"

namespace spanscope::cli {

using namespace spanscope::session;

int exportCommand(int argc, char** argv) {
    std::string path, perfetto, csvDir;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::puts(
                "usage: spanscope-cli export FILE [--perfetto OUT.json] [--csv DIR]\n\n"
                "--perfetto: Chrome trace-event JSON for Perfetto's UI or\n"
                "  chrome://tracing: GC cycles with their phases, stop-the-world pauses and sweep\n"
                "  generations as slices, the heap series (HeapAlloc, HeapInuse, ..., "
                "Fragmentation)\n"
                "  as counter tracks, the program's threads by id.\n"
                "--csv: DIR/size_classes.csv (the size-class table at the session's end),\n"
                "  heap_totals.csv, class_counters.csv, gc_cycles.csv and gc_phases.csv (every\n"
                "  timeline series); DIR is created if missing.");
            return 0;
        }
        if (a == "--perfetto" || a == "--csv") {
            if (i + 1 >= argc) return usageError("export", (a + " needs a file name").c_str());
            (a == "--perfetto" ? perfetto : csvDir) = argv[++i];
        } else if (!a.empty() && a[0] == '-') {
            return usageError("export", ("unknown option " + a).c_str());
        } else if (path.empty()) {
            path = a;
        } else {
            return usageError("export", "more than one FILE");
        }
    }
    if (path.empty()) return usageError("export", "missing FILE");
    if (perfetto.empty() && csvDir.empty())
        return usageError("export", "nothing to do: give --perfetto or --csv");
    std::string err;
    auto r = SessionReader::open(path, &err);
    if (!r) {
        std::fprintf(stderr, "spanscope-cli export: %s\n", err.c_str());
        return 1;
    }
    if (!perfetto.empty() && !writeFileAtomically(perfetto, perfettoTrace(*r), &err)) {
        std::fprintf(stderr, "spanscope-cli export: %s\n", err.c_str());
        return 1;
    }
    if (!csvDir.empty() && !exportCsv(*r, csvDir, &err)) {
        std::fprintf(stderr, "spanscope-cli export: %s\n", err.c_str());
        return 1;
    }
    return 0;
}

}  // namespace spanscope::cli
