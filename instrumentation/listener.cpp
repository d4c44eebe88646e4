// The attach listener: a Unix socket per process in a per-user directory. A client of the same uid
// sends one command line: "STAT" (a one-line heap summary) or "ATTACH" (the probe starts on the
// connection: header, rundown, then events until the client shuts its side or the process exits).
// A second ATTACH gets "ERR already attached". See spanscope/stream.h and docs/session-format.md.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "spanscope/allocator.h"
#include "spanscope/detail/platform.h"
#include "spanscope/stream.h"

namespace spanscope::probe {

namespace {
void removeSocket();
}

// Removes this process's attach socket (only the process that made it: a forked child that exits
// must not remove its parent's). Called at exit, and by libspanscope.so's _exit.
void removeListenerSocket() { removeSocket(); }

namespace {
int g_listenFd = -1;
char g_socketPath[108];
pthread_t g_listenThread;
std::atomic<bool> g_listening{false};
std::atomic<pid_t> g_listenPid{0};  // the process that owns the socket (a forked child does not)
int g_attachedFd = -1;  // the connection the probe streams to, or -1

void say(int fd, const char* line) {
    (void)!send(fd, line, std::strlen(line), MSG_NOSIGNAL);
}

bool peerIsUs(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
           (cred.uid == getuid() || cred.uid == 0);
}

// Reads one command line (at most 31 bytes) within a second.
bool readCommand(int fd, char* out, size_t cap) {
    size_t n = 0;
    while (n + 1 < cap) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 1000) <= 0) return false;
        ssize_t r = ::read(fd, out + n, 1);
        if (r <= 0) return false;
        if (out[n] == '\n') break;
        n++;
    }
    out[n] = 0;
    return true;
}

void handleClient(int fd) {
    char cmd[32];
    if (!peerIsUs(fd)) {
        say(fd, "ERR permission denied (another user)\n");
        ::close(fd);
        return;
    }
    if (!readCommand(fd, cmd, sizeof cmd)) {
        ::close(fd);
        return;
    }
    if (!std::strcmp(cmd, "STAT")) {
        MemStats st;
        readMemStats(&st);
        if (MemStats managed; readManagedMemStats(&managed) && managed.HeapSys > st.HeapSys) st = managed;
        char line[256];
        std::snprintf(line, sizeof line,
                      "OK heap_sys=%llu heap_alloc=%llu heap_inuse=%llu attached=%d\n",
                      (unsigned long long)st.HeapSys, (unsigned long long)st.HeapAlloc,
                      (unsigned long long)st.HeapInuse, running() ? 1 : 0);
        say(fd, line);
        ::close(fd);
        return;
    }
    if (std::strcmp(cmd, "ATTACH") != 0) {
        say(fd, "ERR unknown command\n");
        ::close(fd);
        return;
    }
    if (running()) {
        say(fd, "ERR already attached\n");
        ::close(fd);
        return;
    }
    Options opts;
    opts.fd = fd;
    opts.closeFd = true;
    opts.attached = true;
    char why[128];
    if (!start(opts, why, sizeof why)) {
        char line[160];
        std::snprintf(line, sizeof line, "ERR %s\n", why);
        say(fd, line);
        ::close(fd);
        return;
    }
    g_attachedFd = fd;
}

void removeSocket() {
    if (g_listening.load() && g_listenPid.load() == getpid()) unlink(g_socketPath);
}

void* listenMain(void*) {
    for (;;) {
        pollfd p[2] = {{g_listenFd, POLLIN, 0}, {g_attachedFd, POLLRDHUP, 0}};
        const nfds_t n = g_attachedFd >= 0 ? 2 : 1;
        int rc = poll(p, n, g_attachedFd >= 0 ? 200 : -1);
        if (rc < 0 && errno != EINTR) return nullptr;
        if (g_attachedFd >= 0 &&
            (!running() || (rc > 0 && (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR))))) {
            // The client shut its side (detach) or went away: trailer, then back to counters only.
            stop(stream::EndReason::Detached);
            g_attachedFd = -1;
        }
        if (rc > 0 && (p[0].revents & POLLIN)) {
            int c = accept4(g_listenFd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c >= 0) handleClient(c);
        }
        if (rc > 0 && (p[0].revents & (POLLERR | POLLNVAL)))
            return nullptr;  // the program closed our socket
    }
}

void listenerAtExit() {
    stop(stream::EndReason::Exit);
    removeSocket();
}
}  // namespace

bool socketDir(char* out, size_t cap, bool create, char* why, size_t whyCap) {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    int n = xdg && *xdg
                ? std::snprintf(out, cap, "%s/spanscope", xdg)
                : std::snprintf(out, cap, "/tmp/spanscope-%u", static_cast<unsigned>(getuid()));
    if (n < 0 || static_cast<size_t>(n) >= cap) {
        if (why) std::snprintf(why, whyCap, "socket directory name too long");
        return false;
    }
    if (create && mkdir(out, 0700) != 0 && errno != EEXIST) {
        if (why) std::snprintf(why, whyCap, "cannot create %s: %s", out, std::strerror(errno));
        return false;
    }
    struct stat st;
    if (lstat(out, &st) != 0) {
        if (why) std::snprintf(why, whyCap, "%s: %s", out, std::strerror(errno));
        return false;
    }
    // Somebody else's directory, or one others can enter, is not ours to trust.
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) {
        if (why)
            std::snprintf(why, whyCap, "%s is not a private directory of this user (mode 0700)",
                          out);
        return false;
    }
    return true;
}

bool startListener(char* why, size_t cap) {
    if (g_listening.load()) return true;
    char dir[80];
    if (!socketDir(dir, sizeof dir, true, why, cap)) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%d.sock", dir,
                  static_cast<int>(getpid()));
    std::memcpy(g_socketPath, addr.sun_path, sizeof g_socketPath);
    unlink(addr.sun_path);  // a stale socket of an earlier process with our pid
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(fd, 4) != 0) {
        if (why)
            std::snprintf(why, cap, "cannot listen on %s: %s", addr.sun_path, std::strerror(errno));
        if (fd >= 0) ::close(fd);
        return false;
    }
    g_listenFd = fd;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&g_listenThread, nullptr, listenMain, nullptr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (rc != 0) {
        ::close(fd);
        unlink(g_socketPath);
        if (why) std::snprintf(why, cap, "cannot start the listener thread");
        return false;
    }
    pthread_detach(g_listenThread);
    g_listenPid.store(getpid());
    g_listening.store(true);
    std::atexit(listenerAtExit);
    return true;
}

// On by default: every process running with spanscope is attachable. SPANSCOPE_ATTACH=0 turns it
// off; with SPANSCOPE_ATTACH=1 a failure to listen is reported (otherwise it is silent, so that a
// preloaded program's output stays its own).
bool startListenerFromEnvironment() {
    const char* e = std::getenv("SPANSCOPE_ATTACH");
    if (e && !std::strcmp(e, "0")) return false;
    if (running()) return false;  // already streaming (SPANSCOPE_STREAM): not attachable
    char why[200];
    if (!startListener(why, sizeof why)) {
        if (e && !std::strcmp(e, "1")) detail::printErr("spanscope: attach disabled: %s\n", why);
        return false;
    }
    return true;
}

}  // namespace spanscope::probe
