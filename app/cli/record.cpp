// spanscope-cli record: run a program with the preload library and its event stream on a pipe,
// and record the stream into a session file (the same Recorder the GUI runs). Also 'import',
// which records a stream saved to a file (SPANSCOPE_STREAM=PATH).
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "cli.h"
#include "spanscope/session.h"

namespace spanscope::cli {

void printDrops(const char* cmd, const session::RecorderStats& st) {
    if (!st.dropped) return;
    std::fprintf(stderr,
                 "spanscope-cli %s: %llu records dropped in %llu gap(s): the probe drops records "
                 "rather than make the program wait for the recorder; the session marks each gap "
                 "(spanscope-cli report FILE lists them)\n",
                 cmd, (unsigned long long)st.dropped, (unsigned long long)st.gaps);
}

namespace {
std::atomic<int> g_interrupts{0};
std::atomic<bool> g_stopRecorder{false};
void onInterrupt(int) {
    // First Ctrl-C reaches the program too (same process group): record until it exits.
    // A second one stops the recorder.
    if (g_interrupts.fetch_add(1) >= 1) g_stopRecorder.store(true);
}

double secondsSince(const timespec& t0) {
    timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return double(t1.tv_sec - t0.tv_sec) + double(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

// programCpu: the recorded program's CPU seconds (its threads, the probe's drain and sampler),
// from wait4; negative when unknown (import, or a program left running).
void printSummary(const char* cmd, const session::Recorder& rec, double secs,
                  const std::string& path, double programCpu = -1) {
    auto st = rec.stats();
    // The recorder's own CPU (this process: decoding, blocks, SQLite), not the program's.
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double cpu = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    std::fprintf(stderr,
                 "spanscope-cli %s: %llu records in %.2f s (%.0f records/s), %llu keyframes -> %s; "
                 "recorder CPU %.3f s (%.3f us/record)",
                 cmd, (unsigned long long)st.events, secs,
                 secs > 0 ? double(st.events) / secs : 0.0, (unsigned long long)st.keyframes,
                 path.c_str(), cpu, st.events ? cpu * 1e6 / double(st.events) : 0.0);
    if (programCpu >= 0) std::fprintf(stderr, "; program CPU %.3f s", programCpu);
    std::fputc('\n', stderr);
    printDrops(cmd, st);
    if (st.late)
        std::fprintf(stderr,
                     "spanscope-cli %s: %llu records arrived after newer ones (a thread held off "
                     "the CPU for over a second between stamping and publishing them); they are "
                     "stored in arrival order\n",
                     cmd, (unsigned long long)st.late);
}
}  // namespace

int recordCommand(int argc, char** argv) {
    std::string out;
    bool force = false, objects = false, preload = true;
    session::RecorderOptions bound;
    int i = 1;
    for (; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::printf(
                "usage: spanscope-cli record -o FILE [--force] [--objects] -- PROGRAM [ARGS...]\n\n"
                "Runs PROGRAM with libspanscope.so preloaded and its allocator events streamed\n"
                "over a pipe, and records them into the session FILE (SQLite; see\n"
                "docs/session-format.md). Reports how the program ended and exits with its\n"
                "status (128+N if killed by signal N). The first Ctrl-C goes to the program;\n"
                "a second one stops recording.\n\n"
                "  -o FILE     the session file to create\n"
                "  --force     replace FILE if it exists\n"
                "%s"
                "  --objects   object-level events too (alloc, mark, free of the managed heap,\n"
                "              as in the teaching demo; small heaps only)\n"
                "  --no-preload  do not preload libspanscope.so: PROGRAM runs the probe itself\n"
                "              (spanscope-cli demo does: record --no-preload -- spanscope-cli "
                "demo)\n",
                kBoundHelp);
            return 0;
        }
        if (a == "--") {
            i++;
            break;
        }
        if (a == "-o") {
            if (i + 1 >= argc) return usageError("record", "-o needs a file name");
            out = argv[++i];
        } else if (a == "--force") {
            force = true;
        } else if (a == "--objects") {
            objects = true;
        } else if (a == "--no-preload") {
            preload = false;
        } else if (const int took = boundOption("record", argc, argv, i, &bound)) {
            if (took < 0) return 2;
            i += took - 1;
        } else if (!a.empty() && a[0] == '-') {
            return usageError("record", ("unknown option " + a).c_str());
        } else {
            break;
        }
    }
    if (out.empty()) return usageError("record", "missing -o FILE");
    if (i >= argc) return usageError("record", "missing PROGRAM");
    std::string lib = preload ? findPreloadLibrary() : std::string();
    if (preload && (lib.empty() || access(lib.c_str(), R_OK) != 0)) {
        std::fprintf(stderr,
                     "spanscope-cli record: cannot find libspanscope.so (set SPANSCOPE_PRELOAD)\n");
        return 1;
    }

    std::string err;
    SessionOutput output;
    if (!output.prepare(out, force, &err)) {
        std::fprintf(stderr, "spanscope-cli record: %s\n", err.c_str());
        return 1;
    }
    auto recPtr = std::make_unique<session::Recorder>();
    session::Recorder& rec = *recPtr;
    session::RecorderOptions opts;
    opts.path = output.writePath();
    opts.maxBytes = bound.maxBytes, opts.keepNs = bound.keepNs;
    if (!rec.open(opts, &err)) {
        std::fprintf(stderr, "spanscope-cli record: %s\n", err.c_str());
        return 1;  // output's destructor removes what open() left (a file without a schema)
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        std::fprintf(stderr, "spanscope-cli record: pipe: %s\n", std::strerror(errno));
        return 1;
    }
    fcntl(fds[0], F_SETPIPE_SZ,
          1 << 20);  // room for a whole frame: fewer stalls of the drain thread
    timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t child = fork();
    if (child < 0) {
        std::fprintf(stderr, "spanscope-cli record: fork: %s\n", std::strerror(errno));
        return 1;
    }
    if (child == 0) {
        ::close(fds[0]);
        fcntl(fds[1], F_SETFD,
              0);  // the write end survives exec; the probe marks it close-on-exec again
        if (preload) {
            std::string list = lib;
            if (const char* old = std::getenv("LD_PRELOAD"); old && *old)
                list += std::string(":") + old;
            setenv("LD_PRELOAD", list.c_str(), 1);
        }
        setenv("SPANSCOPE_STREAM", ("fd:" + std::to_string(fds[1])).c_str(), 1);
        if (objects) setenv("SPANSCOPE_OBJECTS", "1", 1);
        execvp(argv[i], argv + i);
        std::fprintf(stderr, "spanscope-cli record: cannot run '%s': %s\n", argv[i],
                     std::strerror(errno));
        _exit(127);
    }
    ::close(fds[1]);
    struct sigaction sa {};
    sa.sa_handler = onInterrupt;
    sigaction(SIGINT, &sa, nullptr);  // no SA_RESTART: poll() wakes up
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);

    bool streamOk = rec.pump(fds[0], &g_stopRecorder);
    const bool stopped = g_stopRecorder.load();
    std::string streamError = streamOk ? "" : rec.error();
    ::close(fds[0]);  // a program still writing gets EPIPE: its probe stops, the program runs on

    int status = 0;
    rusage childRu{};
    double programCpu = -1;
    session::EndInfo end;
    int exitCode = 1;
    if (stopped) {
        end.reason = "recorder-stopped";
        exitCode = 130;
        std::fprintf(stderr,
                     "spanscope-cli record: recording stopped; '%s' (pid %d) keeps running\n",
                     argv[i], (int)child);
    } else {
        pid_t got;
        while ((got = wait4(child, &status, 0, &childRu)) < 0 && errno == EINTR) {
        }
        if (got == child)
            programCpu = double(childRu.ru_utime.tv_sec + childRu.ru_stime.tv_sec) +
                         double(childRu.ru_utime.tv_usec + childRu.ru_stime.tv_usec) / 1e6;
        if (WIFEXITED(status)) {
            end.reason = "exit";
            end.exitCode = WEXITSTATUS(status);
            exitCode = end.exitCode;
            std::fprintf(stderr, "spanscope-cli record: %s exited with status %d\n", argv[i],
                         end.exitCode);
        } else if (WIFSIGNALED(status)) {
            end.reason = "signal";
            end.signal = WTERMSIG(status);
            exitCode = 128 + end.signal;
            std::fprintf(stderr, "spanscope-cli record: %s was killed by signal %d (%s)\n", argv[i],
                         end.signal, strsignal(end.signal));
        }
    }
    const bool finished = rec.finish(end);
    const bool writeFailed = rec.writeFailedOnDisk();
    if (!finished && !writeFailed) {
        std::fprintf(stderr, "spanscope-cli record: cannot complete %s: %s\n", out.c_str(),
                     rec.error().c_str());
        return exitCode ? exitCode : 1;
    }
    std::string problem = rec.decoder().checkComplete();
    const bool corrupt = rec.decoder().corrupt() || !streamError.empty();
    if (!streamError.empty()) problem = streamError;
    if (!rec.headerSeen()) {
        recPtr.reset();  // nothing was recorded: leave no empty session behind
        output.discard();
        if (end.exitCode == 127)
            std::fprintf(stderr, "spanscope-cli record: nothing recorded; %s not written\n",
                         out.c_str());
        else
            std::fprintf(stderr,
                         "spanscope-cli record: %s sent no stream (was libspanscope.so preloaded? "
                         "a static or "
                         "setuid program ignores LD_PRELOAD); %s not written\n",
                         argv[i], out.c_str());
        // The program ran (and may have exec'd an image without the preload): its status is
        // the answer; the message says that nothing was recorded.
        return exitCode;
    }
    printSummary("record", rec, secondsSince(t0), out, programCpu);
    recPtr.reset();  // closed: a replacement is renamed into place complete
    if (!output.commit(&err)) {
        std::fprintf(stderr, "spanscope-cli record: %s\n", err.c_str());
        return exitCode ? exitCode : 1;
    }
    if (writeFailed) {
        // The disk filled (or failed): the session keeps what was written before, and says so;
        // the program's own status is still the exit status.
        std::fprintf(stderr, "spanscope-cli record: %s: recording stopped early: %s\n", out.c_str(),
                     streamError.empty() ? "write failed" : streamError.c_str());
        return exitCode;
    }
    if (!problem.empty()) {
        const bool expected = end.reason == "signal" || stopped;
        // A program that exited normally with its stream cut short exec'd an image that does not
        // record (no preload: a static or setuid program, or LD_PRELOAD cleared): the session
        // holds everything before that, and the exit status stays the program's.
        const bool lastImageUnrecorded = end.reason == "exit" && !corrupt;
        std::fprintf(stderr, "spanscope-cli record: %s%s\n", problem.c_str(),
                     expected              ? " (expected: the program did not exit normally)"
                     : lastImageUnrecorded ? " (the program's last image did not record: exec'd "
                                             "without libspanscope.so?)"
                                           : "");
        if (exitCode == 0 && !lastImageUnrecorded) exitCode = 1;
    }
    return exitCode;
}

void startInProcessProbe() {
    if (!std::getenv("SPANSCOPE_STREAM")) return;
    // With libspanscope.so preloaded, its own probe already has the stream (and observes malloc).
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&malloc), &info) && info.dli_fname &&
        std::strstr(info.dli_fname, "libspanscope"))
        return;
    probe::startFromEnvironment();
}

int importCommand(int argc, char** argv) {
    std::string out, in;
    bool force = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::puts(
                "usage: spanscope-cli import STREAM -o FILE [--force]\n\n"
                "Records a stream saved to a file (a program run with SPANSCOPE_STREAM=PATH and\n"
                "libspanscope.so preloaded) into the session FILE. A truncated or corrupt stream\n"
                "is recorded up to the damage, reported, and the exit status is 1.");
            return 0;
        }
        if (a == "-o") {
            if (i + 1 >= argc) return usageError("import", "-o needs a file name");
            out = argv[++i];
        } else if (a == "--force") {
            force = true;
        } else if (!a.empty() && a[0] == '-') {
            return usageError("import", ("unknown option " + a).c_str());
        } else if (in.empty()) {
            in = a;
        } else {
            return usageError("import", "more than one STREAM");
        }
    }
    if (in.empty()) return usageError("import", "missing STREAM");
    if (out.empty()) return usageError("import", "missing -o FILE");
    int fd = ::open(in.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        std::fprintf(stderr, "spanscope-cli import: %s: %s\n", in.c_str(), std::strerror(errno));
        return 1;
    }
    std::string err;
    SessionOutput output;
    if (!output.prepare(out, force, &err)) {
        std::fprintf(stderr, "spanscope-cli import: %s\n", err.c_str());
        ::close(fd);
        return 1;
    }
    auto recPtr = std::make_unique<session::Recorder>();
    session::Recorder& rec = *recPtr;
    session::RecorderOptions opts;
    opts.path = output.writePath();
    if (!rec.open(opts, &err)) {
        std::fprintf(stderr, "spanscope-cli import: %s\n", err.c_str());
        ::close(fd);
        return 1;
    }
    timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool ok = rec.pump(fd, nullptr);
    ::close(fd);
    std::string problem = ok ? rec.decoder().checkComplete() : rec.error();
    session::EndInfo end;
    end.reason = problem.empty() ? "exit" : "stream-error";
    const bool finished = rec.finish(end);
    if (!rec.headerSeen()) {  // an empty or foreign stream: nothing to keep
        recPtr.reset();
        output.discard();
        std::fprintf(stderr, "spanscope-cli import: %s: %s; %s not written\n", in.c_str(),
                     problem.empty() ? "holds no stream" : problem.c_str(), out.c_str());
        return 1;
    }
    if (!finished) std::fprintf(stderr, "spanscope-cli import: %s\n", rec.error().c_str());
    if (!finished && !rec.writeFailedOnDisk()) return 1;  // output removes what was written
    if (finished) printSummary("import", rec, secondsSince(t0), out);
    recPtr.reset();  // closed: a replacement is renamed into place complete
    if (!output.commit(&err)) {
        std::fprintf(stderr, "spanscope-cli import: %s\n", err.c_str());
        return 1;
    }
    if (!problem.empty()) {
        std::fprintf(stderr, "spanscope-cli import: %s: %s\n", in.c_str(), problem.c_str());
        return 1;
    }
    return finished ? 0 : 1;
}

}  // namespace spanscope::cli
