// spanscope-cli run: exec a program with libspanscope.so in LD_PRELOAD.
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cli.h"

namespace spanscope::cli {

int usageError(const char* cmd, const char* msg) {
    std::fprintf(stderr, "spanscope-cli %s: %s (try 'spanscope-cli %s --help')\n", cmd, msg, cmd);
    return 2;
}

bool parseSeconds(const char* text, double* out) {
    if (!text || !*text) return false;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text, &end);
    // !(v >= 0 && v <= max) also refuses NaN; strtod reads "inf" and "nan" as numbers.
    if (!end || *end || errno == ERANGE || !(v >= 0 && v <= kMaxSeconds)) return false;
    *out = v;
    return true;
}

std::string findPreloadLibrary() {
    if (const char* e = std::getenv("SPANSCOPE_PRELOAD")) return e;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return {};
    exe[n] = 0;
    std::string dir(exe);
    dir.resize(dir.rfind('/'));
    for (const char* rel :
         {"/libspanscope.so", "/../lib/libspanscope.so", "/../app/libspanscope.so"}) {
        std::string p = dir + rel;
        if (access(p.c_str(), R_OK) == 0) return p;
    }
    return {};
}

int runCommand(int argc, char** argv) {
    int i = 1;
    if (i < argc && (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h"))) {
        std::puts(
            "usage: spanscope-cli run [--] PROGRAM [ARGS...]\n\n"
            "Runs PROGRAM with libspanscope.so preloaded, so that every malloc, free and\n"
            "operator new of the program goes to the Go-style allocator. The exit status is\n"
            "the program's. SPANSCOPE_PRELOAD overrides the library's path.");
        return 0;
    }
    if (i < argc && !std::strcmp(argv[i], "--")) i++;
    if (i >= argc) return usageError("run", "missing PROGRAM");
    std::string lib = findPreloadLibrary();
    if (lib.empty() || access(lib.c_str(), R_OK) != 0) {
        std::fprintf(stderr,
                     "spanscope-cli run: cannot find libspanscope.so (set SPANSCOPE_PRELOAD)\n");
        return 1;
    }
    std::string preload = lib;
    if (const char* old = std::getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
    setenv("LD_PRELOAD", preload.c_str(), 1);
    execvp(argv[i], argv + i);
    std::fprintf(stderr, "spanscope-cli run: cannot run '%s': %s\n", argv[i], std::strerror(errno));
    return 127;
}

}  // namespace spanscope::cli
