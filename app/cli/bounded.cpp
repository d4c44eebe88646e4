// The bounded-recording options shared by record, attach and demo -o: --max-size SIZE and
// --keep DURATION (see session::RecorderOptions::maxBytes/keepNs and docs/session-format.md).
#include <cstdio>
#include <string>

#include "cli.h"

namespace spanscope::cli {

int boundOption(const char* cmd, int argc, char** argv, int i, session::RecorderOptions* opts) {
    const std::string a = argv[i];
    if (a != "--max-size" && a != "--keep") return 0;
    if (i + 1 >= argc) {
        usageError(cmd, (a + " needs a value").c_str());
        return -1;
    }
    const std::string v = argv[i + 1];
    if (a == "--max-size" ? !session::parseSize(v, &opts->maxBytes)
                          : !session::parseDuration(v, &opts->keepNs)) {
        usageError(cmd, (a == "--max-size" ? "bad size '" + v + "' (e.g. 20M, 2G)"
                                           : "bad duration '" + v + "' (e.g. 30s, 10m, 2h)")
                            .c_str());
        return -1;
    }
    if (a == "--max-size" && opts->maxBytes < (1u << 20)) {
        usageError(cmd, "--max-size must be at least 1M");
        return -1;
    }
    return 2;
}

const char* const kBoundHelp =
    "  --max-size SIZE  keep the session under about SIZE (e.g. 20M, 2G) by dropping its\n"
    "                   oldest part (whole blocks and keyframes: what remains still seeks)\n"
    "  --keep DURATION  keep only the last DURATION (e.g. 30s, 10m, 2h) of the recording\n";

}  // namespace spanscope::cli
