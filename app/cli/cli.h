// spanscope-cli subcommands. Each returns the process exit code: 0 ok, 1 failure, 2 bad usage.
#pragma once
#include <string>

namespace spanscope::cli {

int runCommand(int argc, char** argv);   // spanscope-cli run -- PROGRAM ARGS
int demoCommand(int argc, char** argv);  // spanscope-cli demo NAME
// Path of libspanscope.so: $SPANSCOPE_PRELOAD, or beside this executable, or ../lib.
std::string findPreloadLibrary();
int usageError(const char* cmd, const char* msg);

}  // namespace spanscope::cli
