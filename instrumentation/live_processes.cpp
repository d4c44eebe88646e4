// The attach client's side of the listener (listener.cpp): connecting to a process's socket and
// listing the attachable processes of this user with their STAT line. `spanscope-cli ps`, `attach`
// and the GUI's session browser use it. See docs/session-format.md section 1.6.
#include "spanscope/live_processes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "spanscope/stream.h"

namespace spanscope::session {

namespace {
// How long a client waits for a process's listener: to accept, and for each answer.
constexpr int kTimeoutMs = 1000;

// A non-blocking connect: a listener whose backlog is full (a stopped process) refuses at once
// (EAGAIN) instead of making us wait.
int connectWithin(const sockaddr_un& addr) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int soErr = 0;
        socklen_t len = sizeof soErr;
        if (poll(&p, 1, kTimeoutMs) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soErr, &len) == 0 && soErr == 0)
            rc = 0;
        else
            errno = soErr ? soErr : ETIMEDOUT;
    }
    if (rc != 0) {
        const int e = errno;
        ::close(fd);
        errno = e;
        return -1;
    }
    // Blocking again for the caller (attach reads the stream), with timeouts on both directions.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{kTimeoutMs / 1000, (kTimeoutMs % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}
}  // namespace

int connectToProcess(long pid, std::string* err) {
    char dir[96], why[200];
    if (!probe::socketDir(dir, sizeof dir, false, why, sizeof why)) {
        *err = why;
        return -1;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%ld.sock", dir, pid);
    int fd = connectWithin(addr);
    if (fd < 0) {
        const int e = errno;
        *err = e == EAGAIN || e == ETIMEDOUT
                   ? "process " + std::to_string(pid) +
                         " is not responding (stopped, or paused in a debugger?)"
                   : std::string("process ") + std::to_string(pid) + " is not attachable (" +
                         std::strerror(e) +
                         "; is it running with libspanscope.so preloaded, without "
                         "SPANSCOPE_ATTACH=0?)";
        errno = e;  // the caller tells "not responding" from "gone" by it
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
        if (poll(&pfd, 1, kTimeoutMs) <= 0) break;
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
        const int connectErr = errno;
        const bool alive = kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
        if (fd < 0 && !alive) {  // gone: its socket is stale
            unlink((std::string(dir) + "/" + std::to_string(pid) + ".sock").c_str());
            continue;
        }
        if (fd < 0 && connectErr != EAGAIN && connectErr != ETIMEDOUT) continue;
        LiveProcess p;
        p.pid = pid;
        p.answered = fd >= 0 && statProcess(fd, &p);  // false: listed as not responding
        if (fd >= 0) ::close(fd);
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
