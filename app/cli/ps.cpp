// spanscope-cli ps: the processes that can be attached to (their sockets in the per-user
// directory), with program and heap size. Removes sockets left by processes that are gone.
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli.h"
#include "spanscope/stream.h"

namespace spanscope::cli {

int psCommand(int argc, char** argv) {
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
            std::puts(
                "usage: spanscope-cli ps\n\n"
                "Lists the processes you can attach to: those running with libspanscope.so and\n"
                "SPANSCOPE_ATTACH=1 under your user. Columns: pid, heap mapped, heap allocated,\n"
                "whether a client is attached, program.");
            return 0;
        }
        return usageError("ps", (std::string("unknown argument ") + argv[i]).c_str());
    }
    char dir[96], why[200];
    if (!probe::socketDir(dir, sizeof dir, false, why, sizeof why)) {
        std::printf("%7s %12s %12s %8s  %s\n", "PID", "HEAP-SYS", "HEAP-ALLOC", "ATTACHED",
                    "PROGRAM");
        return 0;  // no directory yet: nothing is attachable
    }
    std::vector<long> pids;
    if (DIR* d = opendir(dir)) {
        while (dirent* e = readdir(d)) {
            char* end = nullptr;
            long pid = std::strtol(e->d_name, &end, 10);
            if (pid > 0 && end && !std::strcmp(end, ".sock")) pids.push_back(pid);
        }
        closedir(d);
    }
    std::sort(pids.begin(), pids.end());
    std::printf("%7s %12s %12s %8s  %s\n", "PID", "HEAP-SYS", "HEAP-ALLOC", "ATTACHED", "PROGRAM");
    for (long pid : pids) {
        std::string err;
        int fd = connectToProcess(pid, &err);
        if (fd < 0) {
            if (kill(static_cast<pid_t>(pid), 0) != 0)  // gone: its socket is stale
                unlink((std::string(dir) + "/" + std::to_string(pid) + ".sock").c_str());
            continue;
        }
        char line[256] = "";
        size_t n = 0;
        if (send(fd, "STAT\n", 5, MSG_NOSIGNAL) == 5) {
            while (n + 1 < sizeof line) {
                pollfd p{fd, POLLIN, 0};
                if (poll(&p, 1, 1000) <= 0) break;
                ssize_t r = ::read(fd, line + n, sizeof line - 1 - n);
                if (r <= 0) break;
                n += static_cast<size_t>(r);
            }
        }
        line[n] = 0;
        ::close(fd);
        unsigned long long sys = 0, alloc = 0, inuse = 0;
        int attached = 0;
        std::sscanf(line, "OK heap_sys=%llu heap_alloc=%llu heap_inuse=%llu attached=%d", &sys,
                    &alloc, &inuse, &attached);
        char exe[PATH_MAX] = "?";
        ssize_t len =
            readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe - 1);
        if (len > 0) exe[len] = 0;
        std::printf("%7ld %10.1f M %10.1f M %8s  %s\n", pid, double(sys) / 1048576.0,
                    double(alloc) / 1048576.0, attached ? "yes" : "no", exe);
    }
    return 0;
}

}  // namespace spanscope::cli
