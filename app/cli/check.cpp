// spanscope-cli check: validates a session file (session::checkSession: schema, required tables,
// value ranges, every keyframe and record) and prints what is wrong, one line per damaged part.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli.h"
#include "spanscope/session_check.h"

namespace spanscope::cli {

int checkCommand(int argc, char** argv) {
    std::string path;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::puts(
                "usage: spanscope-cli check FILE\n\n"
                "Checks a session: schema version, required tables, the session's metadata,\n"
                "the derived tables' values, every keyframe (sizes against the session's header,\n"
                "each span) and every record (kinds, times, page counts). Prints one line per\n"
                "damaged part. Exit status: 0 sound, 1 damaged but browsable (the viewer and\n"
                "report skip the damaged parts), 2 usage, 3 not a session that can be opened.");
            return 0;
        }
        if (!a.empty() && a[0] == '-') return usageError("check", ("unknown option " + a).c_str());
        if (!path.empty()) return usageError("check", "more than one FILE");
        path = a;
    }
    if (path.empty()) return usageError("check", "missing FILE");
    const auto problems = session::checkSession(path);
    bool fatal = false;
    for (const session::SessionProblem& p : problems) {
        fatal = fatal || p.fatal;
        std::printf("%s: %s: %s\n", p.fatal ? "error" : "warning", p.part.c_str(), p.what.c_str());
    }
    if (problems.empty()) std::printf("%s: ok\n", path.c_str());
    return fatal ? 3 : problems.empty() ? 0 : 1;
}

}  // namespace spanscope::cli
