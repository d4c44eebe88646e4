// spanscope-cli: the command-line tool. Dispatches to one file per subcommand.
#include <cstdio>
#include <cstring>

#include "cli.h"
#include "profile_cli.h"

namespace {
void printHelp(FILE* out) {
    std::fputs(
        "usage: spanscope-cli COMMAND [ARGS]\n"
        "\n"
        "commands:\n"
        "  run -- PROGRAM [ARGS]   run PROGRAM with the spanscope allocator preloaded\n"
        "  demo [NAME]             run a built-in allocation workload and print a live\n"
        "                          per-size-class report ('demo --list' lists them)\n"
#ifdef SPANSCOPE_HAVE_INSTRUMENTATION
        "  record -o FILE -- PROGRAM [ARGS]\n"
        "                          run PROGRAM preloaded and record its heap into a session\n"
        "  import STREAM -o FILE   record a stream saved to a file into a session\n"
        "  report FILE [--json]    summarise a session (--from A --to B: a time range)\n"
        "  top FILE [--at T]       the heaviest allocation sites (heap profile)\n"
        "  pprof FILE -o OUT.pb.gz the heap profile for 'go tool pprof'\n"
        "  check FILE              check a session for damage (what the viewer would skip)\n"
        "  ps                      list running programs you can attach to\n"
        "  attach PID -o FILE      record a running program (spanscope-cli ps) until Ctrl-C\n"
        "  diff A B [--json]       compare two sessions (per size class, GC, peak heap)\n"
        "  export FILE --perfetto OUT.json | --csv DIR\n"
        "                          a session as a Perfetto trace or as CSV files\n"
        "  sql FILE \"SELECT ...\"   run read-only SQL on a session (table events: one row a "
        "record)\n"
        "  upgrade FILE            convert a session of an older schema version\n"
#endif
#ifdef SPANSCOPE_HAVE_UI
        "  frames FILE -o DIR      heap-map frames (PNG) of a time range, for slides\n"
#endif
        "\n"
        "'spanscope-cli COMMAND --help' describes a command.\n",
        out);
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        printHelp(stderr);
        return 2;
    }
    const char* cmd = argv[1];
    if (!std::strcmp(cmd, "--help") || !std::strcmp(cmd, "-h") || !std::strcmp(cmd, "help")) {
        printHelp(stdout);
        return 0;
    }
    if (!std::strcmp(cmd, "--version")) {
        std::printf("spanscope-cli %s\n", SPANSCOPE_VERSION);
        return 0;
    }
    if (!std::strcmp(cmd, "run")) return spanscope::cli::runCommand(argc - 1, argv + 1);
#ifdef SPANSCOPE_HAVE_INSTRUMENTATION
    if (!std::strcmp(cmd, "demo")) {
        for (int i = 2; i < argc; i++)
            if (spanscope::cli::gcScenarioWantsObjects(argv[i]))
                setenv("SPANSCOPE_OBJECTS", "1", 1);
        spanscope::cli::startInProcessProbe();
        if (!spanscope::probe::running())
            spanscope::probe::startListenerFromEnvironment();  // attachable
    }
#endif
    if (!std::strcmp(cmd, "demo")) return spanscope::cli::demoCommand(argc - 1, argv + 1);
#ifdef SPANSCOPE_HAVE_INSTRUMENTATION
    if (!std::strcmp(cmd, "record")) return spanscope::cli::recordCommand(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "import")) return spanscope::cli::importCommand(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "report")) return spanscope::cli::reportCommand(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "top")) return spanscope::cli::topCommand(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "pprof")) return spanscope::cli::pprofCommand(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "check")) return spanscope::cli::checkCommand(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "ps")) return spanscope::cli::psCommand(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "attach")) return spanscope::cli::attachCommand(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "diff")) return spanscope::cli::diffCommand(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "export")) return spanscope::cli::exportCommand(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "sql")) return spanscope::cli::sqlCommand(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "upgrade")) return spanscope::cli::upgradeCommand(argc - 1, argv + 1);
#endif
#ifdef SPANSCOPE_HAVE_UI
    if (!std::strcmp(cmd, "frames")) return spanscope::cli::framesCommand(argc - 1, argv + 1);
#endif
    std::fprintf(stderr, "spanscope-cli: unknown command '%s' (try --help)\n", cmd);
    return 2;
}
