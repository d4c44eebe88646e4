// spanscope-cli ps: the processes that can be attached to (their sockets in the per-user
// directory), with program and heap size (session::listLiveProcesses, which also removes sockets
// left by processes that are gone).
#include <cstdio>
#include <cstring>
#include <string>

#include "cli.h"
#include "spanscope/session.h"

namespace spanscope::cli {

int psCommand(int argc, char** argv) {
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
            std::puts(
                "usage: spanscope-cli ps\n\n"
                "Lists the processes you can attach to: those of your user running with\n"
                "libspanscope.so (or spanscope-cli demo), unless started with SPANSCOPE_ATTACH=0.\n"
                "Columns: pid, heap mapped, heap allocated,\n"
                "whether a client is attached, program. A process that does not answer within a\n"
                "second (stopped, paused in a debugger) is listed as \"not responding\".");
            return 0;
        }
        return usageError("ps", (std::string("unknown argument ") + argv[i]).c_str());
    }
    std::printf("%7s %12s %12s %8s  %s\n", "PID", "HEAP-SYS", "HEAP-ALLOC", "ATTACHED", "PROGRAM");
    for (const session::LiveProcess& p : session::listLiveProcesses()) {
        if (!p.answered) {  // stopped, paused in a debugger, or too busy to answer within a second
            std::printf("%7ld %12s %12s %8s  %s\n", p.pid, "-", "-", "?",
                        (p.program + " (not responding)").c_str());
            continue;
        }
        std::printf("%7ld %10.1f M %10.1f M %8s  %s\n", p.pid, double(p.heapSys) / 1048576.0,
                    double(p.heapAlloc) / 1048576.0, p.attached ? "yes" : "no", p.program.c_str());
    }
    return 0;
}

}  // namespace spanscope::cli
