// spanscope-cli subcommands. Each returns the process exit code: 0 ok, 1 failure, 2 bad usage.
#pragma once
#include <atomic>
#include <string>

#ifdef SPANSCOPE_HAVE_INSTRUMENTATION  // not in an allocator-only build (run and demo only)
#include "spanscope/session.h"
#endif

namespace spanscope::cli {

int runCommand(int argc, char** argv);     // spanscope-cli run -- PROGRAM ARGS
int demoCommand(int argc, char** argv);    // spanscope-cli demo NAME
int recordCommand(int argc, char** argv);  // spanscope-cli record -o FILE -- PROGRAM ARGS
int importCommand(int argc, char** argv);  // spanscope-cli import STREAM -o FILE
int reportCommand(int argc, char** argv);  // spanscope-cli report FILE [--json]
// report FILE --from A --to B (range_report.cpp): a time range's figures; < 0: the session's edge.
int rangeReport(const std::string& path, double fromSeconds, double toSeconds, bool json);
int attachCommand(int argc, char** argv);  // spanscope-cli attach PID -o FILE
int psCommand(int argc, char** argv);      // spanscope-cli ps
int diffCommand(int argc, char** argv);    // spanscope-cli diff A B [--json]
int exportCommand(int argc, char** argv);  // spanscope-cli export FILE --perfetto OUT | --csv DIR
int framesCommand(int argc, char** argv);  // spanscope-cli frames FILE -o DIR (with the ui library)
// --max-size SIZE / --keep DURATION at argv[i] (bounded.cpp): 0 if argv[i] is neither, -1 after
// a usage message, else the arguments it took.
#ifdef SPANSCOPE_HAVE_INSTRUMENTATION
int boundOption(const char* cmd, int argc, char** argv, int i, session::RecorderOptions* opts);
// When the probe dropped records: one line on stderr saying how many, in how many gaps
// (record.cpp).
void printDrops(const char* cmd, const session::RecorderStats& st);
#endif
extern const char* const kBoundHelp;
int sqlCommand(int argc, char** argv);      // spanscope-cli sql FILE "SELECT ..." (sql.cpp)
int upgradeCommand(int argc, char** argv);  // spanscope-cli upgrade FILE (sql.cpp)
int checkCommand(int argc, char** argv);    // spanscope-cli check FILE
// With SPANSCOPE_STREAM set and no preload library, streams this process's own heap (demo).
void startInProcessProbe();
// Connects to a process's attach socket (peer uid checked); -1 with a one-line reason.
#ifdef SPANSCOPE_HAVE_INSTRUMENTATION
using session::connectToProcess;
#endif
// Path of libspanscope.so: $SPANSCOPE_PRELOAD, or beside this executable, or ../lib.
std::string findPreloadLibrary();
int usageError(const char* cmd, const char* msg);
// A number of seconds: finite, 0 <= v <= kMaxSeconds (a time in ns fits in int64), all of text.
inline constexpr double kMaxSeconds = 1e9;
bool parseSeconds(const char* text, double* out);

// Where a session goes (session_output.cpp): the target itself if it does not exist, else (with
// --force, a regular file only) a temporary file beside it, renamed over it by commit(). A
// SessionOutput destroyed without commit() removes what was written.
class SessionOutput {
public:
    ~SessionOutput();
    bool prepare(const std::string& target, bool force, std::string* err);
    const std::string& writePath() const { return m_writePath; }
    bool commit(std::string* err);  // the recorder must be closed first
    void discard();                 // nothing worth keeping: remove what was written

private:
    std::string m_target, m_writePath;
    bool m_replacing = false, m_done = false;
};

// Managed-heap (garbage-collected) scenarios of `demo` (gcdemo.cpp).
bool isGcScenario(const char* name);
bool gcScenarioWantsObjects(const char* name);  // a teaching scenario: object-level events
void listGcScenarios();
// Runs a managed-heap scenario for `seconds` (0: until interrupted), and past them until at least
// minGC collections have finished (0: no such floor), so that a recording for a test or a slide
// holds the cycles it needs however slowly the machine runs it.
int runGcScenario(const char* name, double seconds, double interval, uint64_t minGC, bool gctrace,
                  const std::atomic<bool>& interrupted);

}  // namespace spanscope::cli
