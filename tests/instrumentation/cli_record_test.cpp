// End-to-end tests of spanscope-cli record, import, report, ps and attach: real programs recorded
// through libspanscope.so, programs and recorders killed with SIGKILL, and bad input files.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "spanscope/events_table.h"
#include "spanscope/session.h"

using namespace spanscope::session;

namespace {
const std::string kCli = SPANSCOPE_CLI;
const std::string kWorkload = SPANSCOPE_WORKLOAD;

class CliTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/spanscope-cli-XXXXXX";
        m_dir = mkdtemp(tmpl);
    }
    void TearDown() override { std::system(("rm -rf " + m_dir).c_str()); }
    std::string path(const std::string& name) const { return m_dir + "/" + name; }
    std::string slurp(const std::string& name) const {
        std::ifstream f(path(name));
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }
    // Runs a shell command with stdout and stderr to files; returns the exit status.
    int run(const std::string& args) {
        int st = std::system((args + " >" + path("out") + " 2>" + path("err")).c_str());
        out = slurp("out");
        err = slurp("err");
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    // Starts 'record' in the background; returns its pid.
    pid_t spawnRecord(const std::string& session, std::vector<std::string> program) {
        pid_t pid = fork();
        if (pid == 0) {
            freopen("/dev/null", "w", stdout);
            freopen((m_dir + "/bg-err").c_str(), "w", stderr);
            std::vector<std::string> args = {kCli, "record", "-o", session, "--"};
            args.insert(args.end(), program.begin(), program.end());
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(kCli.c_str(), argv.data());
            _exit(127);
        }
        return pid;
    }
    // Waits until the session shows the program's pid and some committed records.
    int64_t waitForRecords(const std::string& session) {
        for (int i = 0; i < 200; i++) {
            std::string e;
            if (auto r = SessionReader::open(session, &e); r && r->info().events > 50)
                return r->info().pid;
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        return 0;
    }
    std::string m_dir, out, err;
};

int waitStatus(pid_t pid) {
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
}  // namespace

TEST_F(CliTest, RecordsAProgramThenReports) {
    const std::string s = path("w.db");
    EXPECT_EQ(run(kCli + " record -o " + s + " -- " + kWorkload + " --seconds 0.3 --exit 3"), 3)
        << err;
    EXPECT_NE(out.find("alloc_workload done"), std::string::npos);
    EXPECT_NE(err.find("exited with status 3"), std::string::npos) << err;

    std::string e;
    auto r = SessionReader::open(s, &e);
    ASSERT_TRUE(r) << e;
    EXPECT_EQ(r->info().endReason, "exit");
    EXPECT_EQ(r->info().exitCode, 3);
    EXPECT_EQ(r->info().streamStatus, "complete");
    EXPECT_NE(r->info().program.find("alloc_workload"), std::string::npos);
    EXPECT_GT(r->info().events, 100);
    EXPECT_FALSE(r->heapSeries(0, INT64_MAX).empty());
    auto totals = r->classTotalsAt(r->info().endNs);
    uint64_t mallocs = 0;
    for (const auto& c : totals) mallocs += c.mallocs;
    EXPECT_GT(mallocs, 1000u);

    // The rebuilt span table is consistent at every moment: no two spans overlap, no span holds
    // more objects than slots (what a wrong event order or a lost record would break).
    for (int k = 0; k <= 10; k++) {
        const int64_t t = r->info().endNs * k / 10;
        auto spans = r->spansAt(t);
        for (size_t i = 0; i < spans.size(); i++) {
            EXPECT_LE(spans[i].allocCount, spans[i].nelems) << "t=" << t;
            if (i + 1 < spans.size()) {
                EXPECT_LE(spans[i].base + uint64_t(spans[i].npages) * 8192, spans[i + 1].base)
                    << "overlap at t=" << t;
            }
        }
    }

    ASSERT_EQ(run(kCli + " report " + s), 0) << err;
    EXPECT_NE(out.find("exited with status 3"), std::string::npos) << out;
    EXPECT_NE(out.find("MemStats at"), std::string::npos);
    EXPECT_NE(out.find("Size classes at"), std::string::npos);
    ASSERT_EQ(run(kCli + " report --json " + s), 0) << err;
    EXPECT_NE(out.find("\"end_reason\": \"exit\""), std::string::npos) << out;
    EXPECT_NE(out.find("\"classes\": ["), std::string::npos);
    // Valid JSON: python's parser agrees (python3 is on every machine the project runs on).
    std::ofstream(path("j.json")) << out;
    EXPECT_EQ(run("python3 -c 'import json,sys; json.load(open(sys.argv[1]))' " + path("j.json")),
              0)
        << err;
}

TEST_F(CliTest, ProgramKilledWithSigkill) {
    const std::string s = path("k.db");
    pid_t rec = spawnRecord(s, {kWorkload, "--forever"});
    int64_t pid = waitForRecords(s);
    ASSERT_GT(pid, 0);
    kill(static_cast<pid_t>(pid), SIGKILL);
    EXPECT_EQ(waitStatus(rec), 128 + SIGKILL);
    std::string e;
    auto r = SessionReader::open(s, &e);
    ASSERT_TRUE(r) << e;
    EXPECT_EQ(r->info().endReason, "signal");
    EXPECT_EQ(r->info().signal, SIGKILL);
    EXPECT_EQ(r->info().streamStatus, "truncated");
    EXPECT_GT(r->info().events, 50);
    EXPECT_FALSE(r->spansAt(r->info().endNs).empty());
    ASSERT_EQ(run(kCli + " report " + s), 0) << err;
    EXPECT_NE(out.find("killed by signal 9"), std::string::npos) << out;
}

TEST_F(CliTest, RecorderKilledWithSigkill) {
    const std::string s = path("r.db");
    pid_t rec = spawnRecord(s, {kWorkload, "--forever"});
    int64_t pid = waitForRecords(s);
    ASSERT_GT(pid, 0);
    kill(rec, SIGKILL);
    EXPECT_EQ(waitStatus(rec), 128 + SIGKILL);
    // The program loses its reader: its probe stops on EPIPE and it runs on.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(kill(static_cast<pid_t>(pid), 0), 0) << "the program should survive its recorder";
    kill(static_cast<pid_t>(pid), SIGKILL);
    std::string e;
    auto r = SessionReader::open(s, &e);
    ASSERT_TRUE(r) << e;
    EXPECT_TRUE(r->info().interrupted());
    EXPECT_GT(r->info().events, 50);
    ASSERT_EQ(run(kCli + " report " + s), 0) << err;
    EXPECT_NE(out.find("interrupted"), std::string::npos) << out;
}

TEST_F(CliTest, ReportRefusesBadFilesWithOneLine) {
    auto oneLine = [](const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; };
    EXPECT_EQ(run(kCli + " report " + path("missing.db")), 1);
    EXPECT_TRUE(oneLine(err)) << err;
    EXPECT_NE(err.find("No such file"), std::string::npos) << err;

    std::ofstream(path("notes.txt")) << "hello\n";
    EXPECT_EQ(run(kCli + " report " + path("notes.txt")), 1);
    EXPECT_TRUE(oneLine(err)) << err;
    EXPECT_NE(err.find("not a spanscope session"), std::string::npos) << err;

    sqlite3* db = nullptr;
    sqlite3_open(path("other.db").c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    EXPECT_EQ(run(kCli + " report " + path("other.db")), 1);
    EXPECT_TRUE(oneLine(err)) << err;
    EXPECT_NE(err.find("another application"), std::string::npos) << err;

    ASSERT_EQ(run(kCli + " record -o " + path("v.db") + " -- " + kWorkload + " --seconds 0.05"), 0)
        << err;
    sqlite3_open(path("v.db").c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 7", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    EXPECT_EQ(run(kCli + " report " + path("v.db")), 1);
    EXPECT_TRUE(oneLine(err)) << err;
    EXPECT_NE(err.find("newer"), std::string::npos) << err;

    EXPECT_EQ(run(kCli + " report"), 2);
    EXPECT_EQ(run(kCli + " record -o " + path("v.db") + " -- " + kWorkload), 1);  // exists
    EXPECT_NE(err.find("already exists"), std::string::npos) << err;
}

TEST_F(CliTest, ImportOfATruncatedStreamFails) {
    const std::string stream = path("x.stream");
    // Record to a file through the environment, as a user would without the CLI.
    ASSERT_EQ(
        run("SPANSCOPE_STREAM=" + stream + " " + kCli + " run -- " + kWorkload + " --seconds 0.1"),
        0)
        << err;
    ASSERT_EQ(run(kCli + " import " + stream + " -o " + path("ok.db")), 0) << err;
    std::string e;
    auto r = SessionReader::open(path("ok.db"), &e);
    ASSERT_TRUE(r) << e;
    EXPECT_EQ(r->info().streamStatus, "complete");

    ASSERT_EQ(truncate(stream.c_str(), 3000), 0);
    EXPECT_EQ(run(kCli + " import " + stream + " -o " + path("cut.db")), 1);
    EXPECT_NE(err.find("truncated"), std::string::npos) << err;
    EXPECT_EQ(run(kCli + " import " + path("nothere") + " -o " + path("n.db")), 1);
    std::ofstream(path("text")) << "not a stream at all\n";
    EXPECT_EQ(run(kCli + " import " + path("text") + " -o " + path("t.db")), 1);
    EXPECT_NE(err.find("not a spanscope stream"), std::string::npos) << err;
}

TEST_F(CliTest, AttachPsDetachAndAlreadyAttached) {
    // A private socket directory for this test: XDG_RUNTIME_DIR=<tmp> -> <tmp>/spanscope.
    setenv("XDG_RUNTIME_DIR", m_dir.c_str(), 1);
    pid_t prog = fork();
    if (prog == 0) {
        freopen("/dev/null", "w", stdout);
        unsetenv("SPANSCOPE_ATTACH");  // attachable by default
        execl(kCli.c_str(), kCli.c_str(), "run", "--", kWorkload.c_str(), "--forever", "--threads",
              "1", nullptr);
        _exit(127);
    }
    const std::string sock = m_dir + "/spanscope/" + std::to_string(prog) + ".sock";
    for (int i = 0; i < 200 && access(sock.c_str(), F_OK) != 0; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(access(sock.c_str(), F_OK), 0) << "no socket " << sock;
    struct stat st;
    ASSERT_EQ(stat((m_dir + "/spanscope").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);

    ASSERT_EQ(run(kCli + " ps"), 0) << err;
    EXPECT_NE(out.find(std::to_string(prog)), std::string::npos) << out;
    EXPECT_NE(out.find("alloc_workload"), std::string::npos) << out;

    const std::string s = path("a.db");
    pid_t client = fork();
    if (client == 0) {
        freopen((m_dir + "/attach-err").c_str(), "w", stderr);
        execl(kCli.c_str(), kCli.c_str(), "attach", std::to_string(prog).c_str(), "-o", s.c_str(),
              nullptr);
        _exit(127);
    }
    ASSERT_EQ(waitForRecords(s), prog);
    EXPECT_EQ(run(kCli + " attach " + std::to_string(prog) + " -o " + path("b.db")), 1);
    EXPECT_NE(err.find("already attached"), std::string::npos) << err;

    kill(client, SIGINT);  // detach
    EXPECT_EQ(waitStatus(client), 0) << slurp("attach-err");
    std::string e;
    auto r = SessionReader::open(s, &e);
    ASSERT_TRUE(r) << e;
    EXPECT_EQ(r->info().endReason, "detached");
    EXPECT_EQ(r->info().streamStatus, "complete");
    // The rundown: every span as it was when we attached, before any event. Only the first
    // rundown's SpanState records (they share its time): on a loaded machine the probe may drop
    // records and send the span table again (a resync rundown), whose records count too otherwise.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(s.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(spanscope::session::registerSessionTables(db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(
        db,
        "SELECT count(*), t_ns FROM events WHERE kind = 257 GROUP BY t_ns ORDER BY t_ns LIMIT 1",
        -1, &q, nullptr);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    const int64_t rundownSpans = sqlite3_column_int64(q, 0), rundownT = sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
    EXPECT_GT(rundownSpans, 0);
    EXPECT_EQ(r->spansAt(rundownT).size(), size_t(rundownSpans));
    EXPECT_EQ(kill(prog, 0), 0) << "the program runs on after a detach";

    // Attach again, then the program dies under us: the session keeps what came, exit status 1.
    const std::string s2 = path("a2.db");
    client = fork();
    if (client == 0) {
        freopen((m_dir + "/attach-err2").c_str(), "w", stderr);
        execl(kCli.c_str(), kCli.c_str(), "attach", std::to_string(prog).c_str(), "-o", s2.c_str(),
              nullptr);
        _exit(127);
    }
    ASSERT_EQ(waitForRecords(s2), prog);
    kill(prog, SIGKILL);
    waitpid(prog, nullptr, 0);
    EXPECT_EQ(waitStatus(client), 1);
    EXPECT_NE(slurp("attach-err2").find("truncated"), std::string::npos) << slurp("attach-err2");
    r = SessionReader::open(s2, &e);
    ASSERT_TRUE(r) << e;
    EXPECT_EQ(r->info().endReason, "lost");
    EXPECT_GT(r->info().events, 50);
    unsetenv("XDG_RUNTIME_DIR");
}

// Every process running with spanscope listens, the demos too (they link the allocator), unless
// SPANSCOPE_ATTACH=0.
TEST_F(CliTest, AttachIsOnByDefaultAndCanBeTurnedOff) {
    setenv("XDG_RUNTIME_DIR", m_dir.c_str(), 1);
    auto start = [&](bool off, std::vector<std::string> args) {
        pid_t pid = fork();
        if (pid == 0) {
            freopen("/dev/null", "w", stdout);
            if (off)
                setenv("SPANSCOPE_ATTACH", "0", 1);
            else
                unsetenv("SPANSCOPE_ATTACH");
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(args[0].c_str(), argv.data());
            _exit(127);
        }
        return pid;
    };
    auto sockOf = [&](pid_t p) { return m_dir + "/spanscope/" + std::to_string(p) + ".sock"; };
    const pid_t demo = start(false, {kCli, "demo", "server", "--seconds", "30", "--interval", "5"});
    const pid_t quiet = start(true, {kCli, "run", "--", kWorkload, "--forever", "--threads", "1"});
    for (int i = 0; i < 300 && access(sockOf(demo).c_str(), F_OK) != 0; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(access(sockOf(demo).c_str(), F_OK), 0) << "the demo does not listen";
    ASSERT_EQ(run(kCli + " ps"), 0) << err;
    EXPECT_NE(out.find(std::to_string(demo)), std::string::npos) << out;
    EXPECT_EQ(out.find(std::to_string(quiet)), std::string::npos) << out;
    EXPECT_NE(access(sockOf(quiet).c_str(), F_OK), 0) << "SPANSCOPE_ATTACH=0 still listens";
    EXPECT_EQ(kill(quiet, 0), 0) << "the program should still run";
    // Attach to the managed-heap demo: its rundown and its GC cycles come through.
    const std::string s = path("demo-attach.db");
    pid_t client = fork();
    if (client == 0) {
        freopen("/dev/null", "w", stderr);
        execl(kCli.c_str(), kCli.c_str(), "attach", std::to_string(demo).c_str(), "-o", s.c_str(),
              nullptr);
        _exit(127);
    }
    ASSERT_EQ(waitForRecords(s), demo);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    kill(client, SIGINT);
    EXPECT_EQ(waitStatus(client), 0);
    kill(demo, SIGKILL);
    kill(quiet, SIGKILL);
    waitpid(demo, nullptr, 0);
    waitpid(quiet, nullptr, 0);
    std::string e;
    auto r = SessionReader::open(s, &e);
    ASSERT_TRUE(r) << e;
    EXPECT_EQ(r->info().endReason, "detached");
    EXPECT_FALSE(r->gcCycles(0, INT64_MAX).empty()) << "no GC cycle seen while attached";
    unsetenv("XDG_RUNTIME_DIR");
}

TEST_F(CliTest, RecordFollowsExecButNotChildren) {
    // sh execs the workload: the same process, a new image, a new stream segment.
    const std::string s = path("exec.db");
    ASSERT_EQ(run(kCli + " record -o " + s + " -- sh -c 'exec " + kWorkload + " --seconds 0.1'"), 0)
        << err;
    std::string e;
    auto r = SessionReader::open(s, &e);
    ASSERT_TRUE(r) << e;
    EXPECT_NE(r->info().program.find("alloc_workload"), std::string::npos) << r->info().program;
    EXPECT_EQ(r->info().streamStatus, "complete");
    EXPECT_GT(r->info().events, 100);
    // sh runs the workload as a child: only sh is recorded, and the stream ends when sh does.
    const std::string c = path("child.db");
    run(kCli + " record -o " + c + " -- sh -c '" + kWorkload + " --seconds 0.1; exit 4'");
    r = SessionReader::open(c, &e);
    ASSERT_TRUE(r) << e;
    EXPECT_EQ(r->info().exitCode, 4);
    EXPECT_EQ(r->info().program.find("alloc_workload"), std::string::npos) << r->info().program;
}

TEST_F(CliTest, RecordsTheDemoWithoutPreload) {
    // The GUI's path for demos: spanscope-cli demo runs the probe on its own heap.
    const std::string s = path("demo.db");
    ASSERT_EQ(run(kCli + " record -o " + s + " --no-preload -- " + kCli +
                  " demo live --seconds 0.3 --interval 0.1"),
              0)
        << err;
    std::string e;
    auto r = SessionReader::open(s, &e);
    ASSERT_TRUE(r) << e;
    EXPECT_NE(r->info().program.find("spanscope-cli"), std::string::npos);
    EXPECT_EQ(r->info().streamStatus, "complete");
    EXPECT_GT(r->info().events, 1000);
    EXPECT_FALSE(r->spansAt(r->info().endNs).empty() && r->heapSeries(0, INT64_MAX).empty());
}

// --min-gc: a managed demo runs past its seconds until that many collections have finished (a
// recording that must hold N cycles however slowly the machine runs it); it is refused where no
// collection can run.
TEST_F(CliTest, DemoRunsUntilItsMinimumOfCollections) {
    const std::string s = path("gc.db");
    ASSERT_EQ(run(kCli + " demo binary-trees --seconds 0.01 --min-gc 4 -o " + s), 0) << err;
    std::string e;
    auto r = SessionReader::open(s, &e);
    ASSERT_TRUE(r) << e;
    int markTerminations = 0;
    for (const auto& ph : r->gcPhases(0, INT64_MAX))
        markTerminations += ph.phase == "mark-termination";
    EXPECT_GE(markTerminations, 4);

    EXPECT_EQ(run(kCli + " demo live --seconds 0.1 --min-gc 2"), 2);
    EXPECT_NE(err.find("--min-gc goes with a managed-heap workload"), std::string::npos) << err;
    EXPECT_EQ(run("GOGC=off " + kCli + " demo binary-trees --seconds 0.1 --min-gc 2"), 2);
    EXPECT_NE(err.find("no collection ever runs"), std::string::npos) << err;
    EXPECT_EQ(run(kCli + " demo binary-trees --min-gc many"), 2);
    // Refused before anything is recorded: no session is left behind.
    const std::string none = path("none.db");
    EXPECT_EQ(run(kCli + " demo no-such-workload -o " + none), 2);
    EXPECT_NE(err.find("unknown workload 'no-such-workload'"), std::string::npos) << err;
    EXPECT_EQ(run(kCli + " demo live --min-gc 2 -o " + none), 2);
    EXPECT_NE(access(none.c_str(), F_OK), 0) << "a refused demo left a session file";
}

// The memory limit reaches the session: each GC cycle's gc_cycles.memory_limit is the limit the
// program ran under (GOMEMLIMIT here), and 0 where none is set.
TEST_F(CliTest, MemoryLimitIsRecordedPerCycle) {
    const std::string limited = path("memlimit.db"), free = path("nolimit.db");
    ASSERT_EQ(
        run("GOMEMLIMIT=48MiB " + kCli + " demo memlimit --seconds 0.2 --min-gc 3 -o " + limited),
        0)
        << err;
    ASSERT_EQ(run("GOMEMLIMIT=off " + kCli + " demo server --seconds 0.2 --min-gc 2 -o " + free), 0)
        << err;
    std::string e;
    auto r = SessionReader::open(limited, &e);
    ASSERT_TRUE(r) << e;
    int cycles = 0;
    for (const auto& c : r->gcCycles(0, INT64_MAX))
        if (c.kind == "gc") {
            cycles++;
            EXPECT_EQ(c.memoryLimit, uint64_t{48} << 20) << "cycle " << c.cycle;
        }
    EXPECT_GE(cycles, 3);
    auto n = SessionReader::open(free, &e);
    ASSERT_TRUE(n) << e;
    cycles = 0;
    for (const auto& c : n->gcCycles(0, INT64_MAX))
        if (c.kind == "gc") {
            cycles++;
            EXPECT_EQ(c.memoryLimit, 0u) << "cycle " << c.cycle;
        }
    EXPECT_GE(cycles, 2);
}

// The teaching scenario records object-level events: the span inspector's slots (free,
// allocated; white, grey, black while marking) rebuild from them, and agree with the span table.
TEST_F(CliTest, TeachingSessionRebuildsObjectSlots) {
    const std::string s = path("teach.db");
    ASSERT_EQ(run(kCli + " demo teaching --seconds 1.5 --interval 0.5 -o " + s), 0) << err;
    std::string e;
    auto r = SessionReader::open(s, &e);
    ASSERT_TRUE(r) << e;
    EXPECT_TRUE(r->info().flags & spanscope::stream::kFlagObjectLevel);

    // A moment inside a mark phase (between mark and mark termination) and its end.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(s.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(
        db,
        "SELECT m.t_ns, t.t_ns FROM gc_phases m JOIN gc_phases t ON t.cycle = m.cycle "
        "WHERE m.phase = 'mark' AND t.phase = 'mark-termination' ORDER BY m.cycle LIMIT 1 OFFSET 1",
        -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW) << "no second GC cycle recorded";
    const int64_t markNs = sqlite3_column_int64(st, 0), termNs = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    // Requested bytes are counted, and never exceed the slot bytes they were served from.
    sqlite3_prepare_v2(db,
                       "SELECT count(*), sum(requested_bytes > 0), sum(requested_bytes > "
                       "slot_bytes) FROM class_counters c "
                       "WHERE class > 0 AND mallocs > 0 AND t_ns = (SELECT max(t_ns) FROM "
                       "class_counters WHERE class = c.class)",
                       -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_GT(sqlite3_column_int64(st, 0), 0);
    EXPECT_EQ(sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 0));
    EXPECT_EQ(sqlite3_column_int64(st, 2), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);

    auto tally = [&](int64_t t, bool expectMarking, size_t counts[5]) {
        size_t checked = 0;
        for (const SpanRecord& sp : r->spansAt(t)) {
            if ((sp.spanClass >> 1) == 0 || sp.allocCount == 0) continue;
            SpanObjects o;
            ASSERT_TRUE(r->spanObjectsAt(sp.base + 8, t, &o));  // any address inside the span
            EXPECT_EQ(o.span.base, sp.base);
            ASSERT_TRUE(o.bitsKnown);
            EXPECT_EQ(o.marking, expectMarking);
            ASSERT_EQ(o.slotStates.size(), sp.nelems);
            size_t used = 0;
            for (SlotState x : o.slotStates) {
                counts[static_cast<int>(x)]++;
                used += x != SlotState::Free;
            }
            // A span in its mcentral holds exactly the objects its table entry says.
            if (sp.state != static_cast<uint8_t>(SpanState::Cached)) {
                EXPECT_EQ(used, sp.allocCount) << std::hex << sp.base;
                checked++;
            }
        }
        EXPECT_GT(checked, 0u);
    };
    size_t inMark[5] = {}, atTerm[5] = {}, after[5] = {};
    tally(markNs + (termNs - markNs) / 2, true, inMark);
    tally(termNs, true, atTerm);
    tally(termNs + (r->info().endNs - termNs) / 2 > termNs + 50000000 ? termNs + 50000000
                                                                      : r->info().endNs,
          false, after);
    const auto W = static_cast<int>(SlotState::White), G = static_cast<int>(SlotState::Grey),
               B = static_cast<int>(SlotState::Black), A = static_cast<int>(SlotState::Allocated);
    EXPECT_GT(inMark[B] + inMark[G], 0u);  // marking under way
    EXPECT_EQ(inMark[A], 0u);              // while marking, every object is white, grey or black
    EXPECT_GT(atTerm[B], 0u);              // the live set, marked
    EXPECT_GT(atTerm[W], 0u);              // garbage: what the sweep will free
    EXPECT_EQ(atTerm[G], 0u);              // no grey object survives mark termination
    EXPECT_GT(after[A], 0u);
    EXPECT_EQ(after[W] + after[G] + after[B], 0u);
}

// _exit skips atexit: libspanscope.so intercepts it so the stream still ends with its trailer
// (and the status), and nothing buffered is lost.
TEST_F(CliTest, ProgramEndingWithUnderscoreExitKeepsItsTrailer) {
    const std::string s = path("quick.db");
    EXPECT_EQ(
        run(kCli + " record -o " + s +
            " -- python3 -c \"import os; keep = [bytes(200) for _ in range(20000)]; os._exit(3)\""),
        3)
        << err;
    std::string e;
    auto r = SessionReader::open(s, &e);
    ASSERT_TRUE(r) << e;
    EXPECT_EQ(r->info().streamStatus, "complete") << r->info().streamError;
    EXPECT_EQ(r->info().endReason, "exit");
    EXPECT_EQ(r->info().exitCode, 3);
    EXPECT_GT(r->info().events, 100);
}

// The attach socket belongs to the process that made it: a forked child that exits through
// exit() (atexit handlers run) leaves its parent's socket alone, and a program that ends with
// _exit removes its own.
TEST_F(CliTest, AttachSocketSurvivesAForkedChildAndGoesWithUnderscoreExit) {
    setenv("XDG_RUNTIME_DIR", m_dir.c_str(), 1);
    const std::string script =
        "import os, sys\n"
        "sock = os.path.join(os.environ['XDG_RUNTIME_DIR'], 'spanscope', '%d.sock' % os.getpid())\n"
        "before = os.path.exists(sock)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    sys.exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print(os.getpid(), before, os.path.exists(sock), flush=True)\n"
        "os._exit(0)\n";
    {
        std::ofstream f(path("fork.py"));
        f << script;
    }
    ASSERT_EQ(run(kCli + " run -- python3 " + path("fork.py")), 0) << err;
    std::istringstream in(out);
    long pid = 0;
    std::string before, after;
    in >> pid >> before >> after;
    EXPECT_EQ(before, "True") << out;
    EXPECT_EQ(after, "True") << "the child's exit removed its parent's socket: " << out;
    EXPECT_NE(access((m_dir + "/spanscope/" + std::to_string(pid) + ".sock").c_str(), F_OK), 0)
        << "_exit left the socket behind";
    unsetenv("XDG_RUNTIME_DIR");
}
