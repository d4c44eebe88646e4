// The attach client's side of the listener (listener.cpp): connecting to a process's socket and
// listing the attachable processes of this user with their STAT line. `spanscope-cli ps`, `attach`
// and the GUI's session browser use it. See docs/session-format.md section 1.6.
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "spanscope/live_processes.h"
#include "spanscope/stream.h"

namespace spanscope::session {

int connectToProcess(long pid, std::string* err) {
    char dir[96], why[200];
    if (!probe::socketDir(dir, sizeof dir, false, why, sizeof why)) {
        *err = why;
        return -1;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%ld.sock", dir, pid);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        *err = std::string("process ") + std::to_string(pid) + " is not attachable (" +
               std::strerror(errno) +
               "; is it running with libspanscope.so preloaded, without SPANSCOPE_ATTACH=0?)";
        if (fd >= 0) ::close(fd);
        return -1;
    }
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != getuid() && cred.uid != 0)) {
        *err = "the socket of process " + std::to_string(pid) + " belongs to another user";
        ::close(fd);
        return -1;
    }
    return fd;
}

namespace {
// Sends STAT and reads the one-line answer (at most a second).
bool statProcess(int fd, LiveProcess* p) {
    char line[256] = "";
    size_t n = 0;
    if (send(fd, "STAT\n", 5, MSG_NOSIGNAL) != 5) return false;
    while (n + 1 < sizeof line) {
        pollfd pfd{fd, POLLIN, 0};
        if (poll(&pfd, 1, 1000) <= 0) break;
        ssize_t r = ::read(fd, line + n, sizeof line - 1 - n);
        if (r <= 0) break;
        n += static_cast<size_t>(r);
        if (std::memchr(line, '\n', n)) break;
    }
    line[n] = 0;
    unsigned long long sys = 0, alloc = 0, inuse = 0;
    int attached = 0;
    if (std::sscanf(line, "OK heap_sys=%llu heap_alloc=%llu heap_inuse=%llu attached=%d", &sys,
                    &alloc, &inuse, &attached) != 4)
        return false;
    p->heapSys = sys, p->heapAlloc = alloc, p->heapInuse = inuse, p->attached = attached != 0;
    return true;
}
}  // namespace

std::vector<LiveProcess> listLiveProcesses() {
    std::vector<LiveProcess> out;
    char dir[96], why[200];
    if (!probe::socketDir(dir, sizeof dir, false, why, sizeof why)) return out;  // none yet
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
    for (long pid : pids) {
        std::string err;
        int fd = connectToProcess(pid, &err);
        if (fd < 0) {
            if (kill(static_cast<pid_t>(pid), 0) != 0)  // gone: its socket is stale
                unlink((std::string(dir) + "/" + std::to_string(pid) + ".sock").c_str());
            continue;
        }
        LiveProcess p;
        p.pid = pid;
        p.answered = statProcess(fd, &p);
        ::close(fd);
        char exe[PATH_MAX] = "?";
        ssize_t len =
            readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe - 1);
        if (len > 0) exe[len] = 0;
        p.program = exe;
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace spanscope::session
