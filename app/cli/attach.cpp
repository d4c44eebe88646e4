// spanscope-cli attach: connect to a running program's spanscope socket and record its heap
// (full-state rundown, then events) until Ctrl-C (detach) or the program exits.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "cli.h"
#include "spanscope/session.h"

namespace spanscope::cli {

namespace {
std::atomic<bool> g_detach{false};
std::atomic<bool> g_giveUp{false};
void onDetach(int) {
    if (g_detach.exchange(true)) g_giveUp.store(true);
}
}  // namespace

int attachCommand(int argc, char** argv) {
    std::string out;
    long pid = 0;
    bool force = false;
    session::RecorderOptions bound;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::printf(
                "usage: spanscope-cli attach PID -o FILE [--force] [--max-size SIZE] [--keep "
                "DURATION]\n\n"
                "Records a running program (one running with libspanscope.so preloaded or a\n"
                "demo; 'spanscope-cli ps' lists them) into the session FILE: a full-state\n"
                "rundown of its heap, then its events, until Ctrl-C (detach; the program runs on)\n"
                "or the program exits. One client at a time.\n\n%s",
                kBoundHelp);
            return 0;
        }
        if (a == "-o") {
            if (i + 1 >= argc) return usageError("attach", "-o needs a file name");
            out = argv[++i];
        } else if (a == "--force") {
            force = true;
        } else if (const int took = boundOption("attach", argc, argv, i, &bound)) {
            if (took < 0) return 2;
            i += took - 1;
        } else if (!a.empty() && a[0] == '-') {
            return usageError("attach", ("unknown option " + a).c_str());
        } else {
            char* end = nullptr;
            pid = std::strtol(a.c_str(), &end, 10);
            if (!end || *end || pid <= 0)
                return usageError("attach", ("bad PID '" + a + "'").c_str());
        }
    }
    if (!pid) return usageError("attach", "missing PID");
    if (out.empty()) return usageError("attach", "missing -o FILE");
    std::string err;
    SessionOutput output;
    if (!output.prepare(out, force, &err)) {
        std::fprintf(stderr, "spanscope-cli attach: %s\n", err.c_str());
        return 1;
    }
    int fd = connectToProcess(pid, &err);
    if (fd < 0) {
        std::fprintf(stderr, "spanscope-cli attach: %s\n", err.c_str());
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (send(fd, "ATTACH\n", 7, MSG_NOSIGNAL) != 7) {
        std::fprintf(stderr, "spanscope-cli attach: process %ld: %s\n", pid, std::strerror(errno));
        return 1;
    }
    // The first bytes say it: a stream starts with its magic, a refusal with "ERR ".
    char first[128];
    size_t have = 0;
    while (have < 8) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0) break;
        ssize_t n = ::read(fd, first + have, sizeof first - 1 - have);
        if (n <= 0) break;
        have += static_cast<size_t>(n);
    }
    if (have >= 4 && !std::memcmp(first, "ERR ", 4)) {
        first[have] = 0;
        if (char* nl = std::strchr(first, '\n')) *nl = 0;
        std::fprintf(stderr, "spanscope-cli attach: process %ld: %s\n", pid, first + 4);
        return 1;
    }
    if (have < 8) {
        std::fprintf(stderr,
                     "spanscope-cli attach: process %ld is not responding (nothing within 5 s: "
                     "stopped, or paused in a debugger?)\n",
                     pid);
        return 1;
    }
    auto recPtr = std::make_unique<session::Recorder>();
    session::Recorder& rec = *recPtr;
    session::RecorderOptions opts;
    opts.path = output.writePath();
    opts.maxBytes = bound.maxBytes, opts.keepNs = bound.keepNs;
    if (!rec.open(opts, &err)) {
        std::fprintf(stderr, "spanscope-cli attach: %s\n", err.c_str());
        return 1;
    }
    struct sigaction sa {};
    sa.sa_handler = onDetach;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::fprintf(stderr, "spanscope-cli attach: recording process %ld into %s; Ctrl-C detaches\n",
                 pid, out.c_str());
    bool ok = rec.feed(first, have) && rec.pump(fd, &g_detach);
    if (ok && g_detach.load()) {
        // Detach: shut our side; the process sends its trailer and closes. Give it 3 s.
        shutdown(fd, SHUT_WR);
        std::thread([] {
            std::this_thread::sleep_for(std::chrono::seconds(3));
            g_giveUp.store(true);
        }).detach();
        ok = rec.pump(fd, &g_giveUp);
    }
    ::close(fd);
    const bool complete = rec.decoder().ended();
    const uint32_t reason = complete ? rec.decoder().trailer().reason : 0;
    session::EndInfo end;
    end.reason = !ok                                                            ? "stream-error"
                 : reason == static_cast<uint32_t>(stream::EndReason::Detached) ? "detached"
                 : reason == static_cast<uint32_t>(stream::EndReason::Exit) ||
                         reason == static_cast<uint32_t>(stream::EndReason::QuickExit)
                     ? "exit"
                 : g_giveUp.load() ? "recorder-stopped"
                                   : "lost";
    if (reason == static_cast<uint32_t>(stream::EndReason::QuickExit))
        end.exitCode = rec.decoder().trailer().status;  // _exit's status rides in the trailer
    const bool finished = rec.finish(end);
    if (!finished) std::fprintf(stderr, "spanscope-cli attach: %s\n", rec.error().c_str());
    if (!rec.headerSeen() || (!finished && !rec.writeFailedOnDisk()))
        return 1;  // output removes what was written
    auto st = rec.stats();
    const std::string why = ok ? rec.decoder().checkComplete() : rec.error();
    recPtr.reset();  // closed: a replacement is renamed into place complete
    if (!output.commit(&err)) {
        std::fprintf(stderr, "spanscope-cli attach: %s\n", err.c_str());
        return 1;
    }
    if (!finished) return 1;
    if (!ok || !complete) {
        std::fprintf(stderr, "spanscope-cli attach: process %ld: %s; %llu records kept in %s\n",
                     pid, why.c_str(), (unsigned long long)st.events, out.c_str());
        return 1;
    }
    std::fprintf(stderr, "spanscope-cli attach: %s; %llu records -> %s\n",
                 end.reason == "detached" ? "detached" : "the process exited",
                 (unsigned long long)st.events, out.c_str());
    printDrops("attach", st);
    return 0;
}

}  // namespace spanscope::cli
