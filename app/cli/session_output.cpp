// Where record, import and attach write their session (cli.h, SessionOutput): never over a file
// they may not replace, never leaving junk behind after a failed run.
//   FILE does not exist:   the recorder writes FILE itself (a live reader can follow it, and a
//                          recorder killed with SIGKILL leaves what it had committed); a run that
//                          records nothing removes it again.
//   FILE exists, --force:  only a regular file is replaced, and only once the new session is
//                          complete: the recorder writes FILE.tmp-PID beside it, which is renamed
//                          over FILE at the end (the old FILE-wal/-shm/-journal go just before).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli.h"

namespace spanscope::cli {

namespace {
// Removes a file we own, and the journal files SQLite may have left beside it; only regular files.
void removeSession(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        struct stat st;
        const std::string p = path + suffix;
        if (lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) unlink(p.c_str());
    }
}
}  // namespace

SessionOutput::~SessionOutput() {
    if (!m_done && !m_writePath.empty()) removeSession(m_writePath);
}

bool SessionOutput::prepare(const std::string& target, bool force, std::string* err) {
    m_target = target;
    struct stat st;
    if (lstat(target.c_str(), &st) != 0) {
        if (errno != ENOENT) {
            *err = target + ": " + std::strerror(errno);
            return false;
        }
        m_writePath = target;
        return true;
    }
    if (!force) {
        *err = target + " already exists (use --force to replace it)";
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        *err = target + " is not a regular file (--force replaces only regular files)";
        return false;
    }
    for (int n = 0; n < 100; n++) {
        std::string p =
            target + ".tmp-" + std::to_string(getpid()) + (n ? "-" + std::to_string(n) : "");
        if (lstat(p.c_str(), &st) != 0 && errno == ENOENT) {
            m_writePath = p;
            m_replacing = true;
            return true;
        }
    }
    *err = "cannot find a free temporary name beside " + target;
    return false;
}

bool SessionOutput::commit(std::string* err) {
    m_done = true;
    if (!m_replacing) return true;
    // The old session's journal files would be read as the new one's: they go first.
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
        struct stat st;
        const std::string p = m_target + suffix;
        if (lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) unlink(p.c_str());
    }
    if (rename(m_writePath.c_str(), m_target.c_str()) != 0) {
        *err = "cannot replace " + m_target + ": " + std::strerror(errno) +
               " (the new session is " + m_writePath + ")";
        return false;
    }
    return true;
}

void SessionOutput::discard() {
    if (m_done) return;
    m_done = true;
    if (!m_writePath.empty()) removeSession(m_writePath);
}

}  // namespace spanscope::cli
