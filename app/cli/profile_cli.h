// The heap-profile commands' shared option: the window (--at T or --range A..B). top.cpp parses it.
#pragma once
#include <cstdint>

namespace spanscope::cli {

struct ProfileWindowArgs {
    int64_t fromNs = 0;
    int64_t atNs = -1;  // -1: the session's end
    bool ranged = false;
};
// If argv[*i] is --at or --range, consumes it and its value and returns true; on a bad value sets
// *rc to the usage error's exit code.
bool parseProfileWindow(const char* cmd, int argc, char** argv, int* i, ProfileWindowArgs* w,
                        int* rc);

int topCommand(int argc, char** argv);    // spanscope-cli top FILE [--at T | --range A..B]
int pprofCommand(int argc, char** argv);  // spanscope-cli pprof FILE [--at T] -o heap.pb.gz

}  // namespace spanscope::cli
