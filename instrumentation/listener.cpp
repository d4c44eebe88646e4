// The attach listener: a Unix socket per process in a per-user directory. A client of the same uid
// sends one command line: "STAT" (a one-line heap summary) or "ATTACH" (the probe starts on the
// connection: header, rundown, then events until the client shuts its side or the process exits).
// A second ATTACH gets "ERR already attached". See spanscope/stream.h and docs/session-format.md.
// One poll-driven thread serves every client at once, each with a buffer and a deadline: no
// client can make another wait, and none can make the program wait (see docs/guarantees).
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
void removeListenerSocket() {
    removeSocket();
}

namespace {
int g_listenFd = -1;
char g_socketPath[108];
pthread_t g_listenThread;
std::atomic<bool> g_listening{false};
std::atomic<pid_t> g_listenPid{0};  // the process that owns the socket (a forked child does not)
int g_attachedFd = -1;              // the connection the probe streams to, or -1

// A client still sending its command line: served by poll, never waited for. Each has one second
// from its connection to send a complete line; a client that sends garbage, sends slowly, never
// sends or never reads costs one slot until then (or until a newer client needs the slot), and the
// listener serves the others meanwhile.
constexpr int kMaxClients = 16;
constexpr uint64_t kCommandDeadlineNs = 1000000000;
struct Client {
    int fd = -1;
    uint8_t n = 0;
    char line[32] = {};
    uint64_t deadline = 0;
};
// constinit: set before any code runs. The listener can start from the program's first malloc,
// before this library's dynamic initializers; a table still zero then held fd 0 in every slot,
// and the first client to connect closed the program's stdin.
constinit Client g_clients[kMaxClients];

// Answers are one short line into an empty socket buffer: never blocks (MSG_DONTWAIT).
void say(int fd, const char* line) {
    (void)!send(fd, line, std::strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
}

bool peerIsUs(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
           (cred.uid == getuid() || cred.uid == 0);
}

// Runs a complete command. Returns true if fd now belongs to the probe (ATTACH).
bool runCommand(int fd, const char* cmd) {
    if (!std::strcmp(cmd, "STAT")) {
        MemStats st;
        readMemStats(&st);
        if (MemStats managed; readManagedMemStats(&managed) && managed.HeapSys > st.HeapSys)
            st = managed;
        char line[256];
        std::snprintf(line, sizeof line,
                      "OK heap_sys=%llu heap_alloc=%llu heap_inuse=%llu attached=%d\n",
                      (unsigned long long)st.HeapSys, (unsigned long long)st.HeapAlloc,
                      (unsigned long long)st.HeapInuse, running() ? 1 : 0);
        say(fd, line);
        return false;
    }
    if (std::strcmp(cmd, "ATTACH") != 0) {
        say(fd, "ERR unknown command\n");
        return false;
    }
    if (running()) {
        say(fd, "ERR already attached\n");
        return false;
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
        return false;
    }
    g_attachedFd = fd;
    return true;
}

void dropClient(Client& c) {
    ::close(c.fd);
    c = Client();
}

// Reads what the client has sent; runs its command once the line is complete.
void serveClient(Client& c) {
    ssize_t r = ::read(c.fd, c.line + c.n, sizeof c.line - 1 - c.n);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (r <= 0) return dropClient(c);
    c.n = static_cast<uint8_t>(c.n + r);
    char* nl = static_cast<char*>(std::memchr(c.line, '\n', c.n));
    if (!nl && c.n + 1u < sizeof c.line) return;  // more to come
    if (!nl) {
        say(c.fd, "ERR unknown command\n");
        return dropClient(c);
    }
    *nl = 0;
    if (runCommand(c.fd, c.line)) {
        c = Client();  // the probe owns the descriptor now
        return;
    }
    dropClient(c);
}

void acceptClients(uint64_t now) {
    for (;;) {
        int fd = accept4(g_listenFd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) return;
        if (!peerIsUs(fd)) {
            say(fd, "ERR permission denied (another user)\n");
            ::close(fd);
            continue;
        }
        // A free slot, else the oldest client's: a crowd that connects and holds cannot lock out
        // a client that speaks.
        Client* slot = &g_clients[0];
        for (Client& c : g_clients) {
            if (c.fd < 0) {
                slot = &c;
                break;
            }
            if (c.deadline < slot->deadline) slot = &c;
        }
        if (slot->fd >= 0) dropClient(*slot);
        *slot = Client();
        slot->fd = fd;
        slot->deadline = now + kCommandDeadlineNs;
    }
}

void removeSocket() {
    if (g_listening.load() && g_listenPid.load() == getpid()) unlink(g_socketPath);
}

// One thread, poll-driven: the listening socket, the attached client's connection (to notice a
// detach) and every client still sending its command.
void* listenMain(void*) {
    pollfd p[2 + kMaxClients];
    Client* of[2 + kMaxClients];
    for (;;) {
        nfds_t n = 0;
        p[n++] = {g_listenFd, POLLIN, 0};
        const bool attached = g_attachedFd >= 0;
        if (attached) p[n++] = {g_attachedFd, POLLRDHUP, 0};
        const nfds_t firstClient = n;
        uint64_t now = detail::nanotime(), next = UINT64_MAX;
        for (Client& c : g_clients) {
            if (c.fd < 0) continue;
            if (now >= c.deadline) {
                dropClient(c);
                continue;
            }
            if (c.deadline < next) next = c.deadline;
            of[n] = &c;
            p[n++] = {c.fd, POLLIN, 0};
        }
        int timeout = attached ? 200 : -1;
        if (next != UINT64_MAX) {
            const int ms = static_cast<int>((next - now) / 1000000 + 1);
            if (timeout < 0 || ms < timeout) timeout = ms;
        }
        int rc = poll(p, n, timeout);
        if (rc < 0 && errno != EINTR) return nullptr;
        if (attached &&
            (!running() || (rc > 0 && (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR))))) {
            // The client shut its side (detach) or went away: trailer, then back to counters only.
            stop(stream::EndReason::Detached);
            g_attachedFd = -1;
        }
        if (rc <= 0) continue;
        for (nfds_t i = firstClient; i < n; i++)
            if (p[i].revents) serveClient(*of[i]);
        if (p[0].revents & POLLIN) acceptClients(detail::nanotime());
        if (p[0].revents & (POLLERR | POLLNVAL)) return nullptr;  // the program closed our socket
    }
}

void listenerAtExit() {
    stop(stream::EndReason::Exit);
    removeSocket();
}
}  // namespace

namespace {
bool g_dirRefused = false;  // socketDir found a directory that is not ours to trust
}

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
            std::snprintf(why, whyCap,
                          "%s is not a private directory of this user (mode 0700)%s; remove it, "
                          "or set XDG_RUNTIME_DIR",
                          out, st.st_uid != getuid() ? ": another user made it" : "");
        g_dirRefused = true;
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
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(fd, 64) != 0) {
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
// preloaded program's output stays its own), except a socket directory that another user made or
// can enter: that one is always reported, so that nobody can turn attach off unnoticed.
bool startListenerFromEnvironment() {
    const char* e = std::getenv("SPANSCOPE_ATTACH");
    if (e && !std::strcmp(e, "0")) return false;
    if (running()) return false;  // already streaming (SPANSCOPE_STREAM): not attachable
    char why[200];
    if (!startListener(why, sizeof why)) {
        if ((e && !std::strcmp(e, "1")) || g_dirRefused)
            detail::printErr("spanscope: attach disabled: %s\n", why);
        return false;
    }
    return true;
}

}  // namespace spanscope::probe
