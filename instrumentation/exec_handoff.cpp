// The probe's start from the environment (SPANSCOPE_STREAM) and its hand-off across exec: how a
// preloaded program, the images it execs and the children it forks find (or leave alone) the
// stream. See spanscope/stream.h and docs/session-format.md.
//
// SPANSCOPE_STREAM stays in the environment and the stream's fd stays open across exec, so that
// a program reached through wrappers (a shell script, pyenv's shims) is recorded: its new image
// has the same pid and starts a new segment of the same stream.
// SPANSCOPE_STREAM_OWNER="pid:dev:ino" tells a child process (another pid) that the stream is not
// its own: it closes its inherited copy of the descriptor (so the recorder sees end of file when
// the program exits) and records nothing.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "spanscope/detail/platform.h"
#include "spanscope/stream.h"

namespace spanscope::probe {

namespace {
void atExit() {
    stop(stream::EndReason::Exit);
}
}  // namespace

bool startFromEnvironment() {
    const char* spec = std::getenv("SPANSCOPE_STREAM");
    if (!spec || !*spec) return false;
    Options opts;
    const char* objects = std::getenv("SPANSCOPE_OBJECTS");
    opts.objectLevel = objects && *objects == '1';
    char path[4096];
    std::snprintf(path, sizeof path, "%s", spec);
    long owner = 0;
    unsigned long long ownerDev = 0, ownerIno = 0;
    if (const char* o = std::getenv("SPANSCOPE_STREAM_OWNER"))
        if (std::sscanf(o, "%ld:%llu:%llu", &owner, &ownerDev, &ownerIno) != 3) owner = 0;
    const bool isFd = !std::strncmp(path, "fd:", 3);
    long fdNum = -1;
    if (isFd) {
        char* end = nullptr;
        fdNum = std::strtol(path + 3, &end, 10);
        if (!end || *end || fdNum < 0) fdNum = -1;
    }
    if (owner && owner != static_cast<long>(getpid())) {
        struct stat st;
        if (isFd && fdNum >= 0 && fstat(static_cast<int>(fdNum), &st) == 0 &&
            st.st_dev == ownerDev && st.st_ino == ownerIno)
            ::close(static_cast<int>(fdNum));
        return false;
    }
    if (isFd) {
        if (fdNum < 0 || fcntl(static_cast<int>(fdNum), F_GETFD) < 0) {
            detail::printErr("spanscope: SPANSCOPE_STREAM=%s: not an open file descriptor\n", path);
            return false;
        }
        opts.fd = static_cast<int>(fdNum);
    } else {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
            int s = socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            const size_t plen = std::strlen(path);
            if (plen < sizeof addr.sun_path) std::memcpy(addr.sun_path, path, plen + 1);
            if (s < 0 || plen >= sizeof addr.sun_path ||
                connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
                detail::printErr("spanscope: SPANSCOPE_STREAM=%s: cannot connect\n", path);
                if (s >= 0) ::close(s);
                return false;
            }
            opts.fd = s;
        } else {
            opts.fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (opts.fd < 0) {
                detail::printErr("spanscope: SPANSCOPE_STREAM=%s: cannot open\n", path);
                return false;
            }
        }
        char fdSpec[32];
        std::snprintf(fdSpec, sizeof fdSpec, "fd:%d", opts.fd);
        setenv("SPANSCOPE_STREAM", fdSpec, 1);  // an exec'd successor continues on this descriptor
    }
    struct stat st;
    if (fstat(opts.fd, &st) == 0) {
        char ownerSpec[96];
        std::snprintf(ownerSpec, sizeof ownerSpec, "%ld:%llu:%llu", static_cast<long>(getpid()),
                      static_cast<unsigned long long>(st.st_dev),
                      static_cast<unsigned long long>(st.st_ino));
        setenv("SPANSCOPE_STREAM_OWNER", ownerSpec, 1);
    }
    char why[128];
    if (!start(opts, why, sizeof why)) {
        detail::printErr("spanscope: cannot start the probe: %s\n", why);
        return false;
    }
    std::atexit(atExit);
    return true;
}

}  // namespace spanscope::probe
