// The session browser's live processes: LiveProcessModel under QAbstractItemModelTester (rows
// inserted, updated and removed by pid), and against a real program started with
// SPANSCOPE_ATTACH=1 in a private socket directory: the watcher lists it, the window attaches
// (marked "this window"), detaches (the session says "detached", the program runs on), and the
// row goes when the program exits.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <csignal>

#include "live_process_model.h"
#include "main_window.h"
#include "ui_test_util.h"

using namespace spanscope;
using namespace spanscope::ui;
using namespace spanscope::uitest;

namespace {
int s_testerFailures = 0;
void countFailures(QtMsgType type, const QMessageLogContext&, const QString& msg) {
    if (type != QtDebugMsg && msg.contains(QLatin1String("FAIL"))) {
        s_testerFailures++;
        ADD_FAILURE() << msg.toStdString();
    }
}

session::LiveProcess proc(long pid, uint64_t heap, bool attached = false) {
    session::LiveProcess p;
    p.pid = pid;
    p.program = "/usr/bin/prog" + std::to_string(pid);
    p.heapSys = heap;
    p.heapAlloc = heap / 2;
    p.attached = attached;
    p.answered = true;
    return p;
}

// Sets an environment variable for one test and puts it back.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const QByteArray& value)
        : m_name(name), m_had(qEnvironmentVariableIsSet(name)) {
        m_old = qgetenv(name);
        qputenv(name, value);
    }
    ~ScopedEnv() {
        if (m_had)
            qputenv(m_name, m_old);
        else
            qunsetenv(m_name);
    }

private:
    const char* m_name;
    bool m_had;
    QByteArray m_old;
};
}  // namespace

TEST(LiveProcessModel, PassesTheModelTesterAndKeepsRowsByPid) {
    s_testerFailures = 0;
    const QtMessageHandler prev = qInstallMessageHandler(countFailures);
    LiveProcessModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Warning);
    m.setProcesses({proc(300, 1 << 20), proc(100, 2 << 20)});
    ASSERT_EQ(m.rowCount(), 2);
    EXPECT_EQ(m.data(m.index(0, LiveProcessModel::Pid), Qt::DisplayRole).toLongLong(),
              100);  // by pid
    EXPECT_EQ(m.data(m.index(0, LiveProcessModel::Program), Qt::DisplayRole).toString(),
              QStringLiteral("prog100"));
    EXPECT_EQ(m.data(m.index(0, LiveProcessModel::Heap), Qt::DisplayRole).toString(),
              QStringLiteral("2.00 MiB"));
    EXPECT_EQ(m.data(m.index(0, LiveProcessModel::Attached), Qt::DisplayRole).toString(),
              QStringLiteral("no"));

    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted),
        removed(&m, &QAbstractItemModel::rowsRemoved),
        changed(&m, &QAbstractItemModel::dataChanged), reset(&m, &QAbstractItemModel::modelReset);
    m.setProcesses({proc(100, 2 << 20), proc(200, 1 << 20), proc(300, 3 << 20, true)});
    EXPECT_EQ(inserted.count(), 1);
    EXPECT_EQ(changed.count(), 1);  // 300 grew and got a client
    EXPECT_EQ(removed.count(), 0);
    EXPECT_EQ(m.rowOf(200), 1);
    EXPECT_EQ(m.data(m.index(2, LiveProcessModel::Attached), Qt::DisplayRole).toString(),
              QStringLiteral("yes"));
    m.setOwnPid(300);
    EXPECT_EQ(m.data(m.index(2, LiveProcessModel::Attached), Qt::DisplayRole).toString(),
              QStringLiteral("this window"));
    m.setProcesses({proc(200, 1 << 20)});
    EXPECT_EQ(removed.count(), 2);
    EXPECT_EQ(reset.count(), 0);  // a selection survives the refresh
    EXPECT_EQ(m.rowCount(), 1);
    session::LiveProcess silent;
    silent.pid = 50;
    silent.program = "?";
    m.setProcesses({silent});
    EXPECT_EQ(m.data(m.index(0, LiveProcessModel::Heap), Qt::DisplayRole).toString(),
              QStringLiteral("?"));
    m.setProcesses({});
    EXPECT_EQ(m.rowCount(), 0);
    qInstallMessageHandler(prev);
    EXPECT_EQ(s_testerFailures, 0);
}

TEST(LiveProcessModel, ListsARealProcessAttachesAndDetaches) {
    QTemporaryDir runtime;  // a private socket directory: <runtime>/spanscope
    ScopedEnv xdg("XDG_RUNTIME_DIR", runtime.path().toUtf8());
    ScopedEnv cli("SPANSCOPE_CLI", SPANSCOPE_CLI);  // the window's attach client
    QProcess prog;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("SPANSCOPE_ATTACH"), QStringLiteral("1"));
    prog.setProcessEnvironment(env);
    prog.setStandardOutputFile(QProcess::nullDevice());
    prog.start(QStringLiteral(SPANSCOPE_CLI),
               {QStringLiteral("run"), QStringLiteral("--"), QStringLiteral(SPANSCOPE_WORKLOAD),
                QStringLiteral("--forever"), QStringLiteral("--threads"), QStringLiteral("1")});
    ASSERT_TRUE(prog.waitForStarted());
    const qint64 pid = prog.processId();  // `run` execs the program
    const QString sock = runtime.filePath(QStringLiteral("spanscope/%1.sock").arg(pid));
    ASSERT_TRUE(waitFor([&] { return QFile::exists(sock); }, 10000))
        << "no socket " << sock.toStdString();

    // The watcher, on its own thread, finds it as `spanscope-cli ps` does.
    LiveProcessWatcher watcher(nullptr, 200);
    LiveProcessModel model;
    QObject::connect(&watcher, &LiveProcessWatcher::updated, &model,
                     [&model](const LiveProcessList& l) { model.setProcesses(*l); });
    watcher.setActive(true);
    ASSERT_TRUE(waitFor([&] { return model.rowOf(long(pid)) >= 0; }, 10000));
    const int row = model.rowOf(long(pid));
    EXPECT_EQ(model.data(model.index(row, LiveProcessModel::Program), Qt::DisplayRole).toString(),
              QStringLiteral("alloc_workload"));
    EXPECT_TRUE(model.processAt(row)->answered);
    EXPECT_GT(model.processAt(row)->heapSys, 0u);
    EXPECT_EQ(model.data(model.index(row, LiveProcessModel::Attached), Qt::DisplayRole).toString(),
              QStringLiteral("no"));

    // The window attaches from its session panel, and detaches.
    {
        MainWindow w;
        w.resize(1280, 800);
        w.show();
        SessionPanel* panel = w.sessionPanel();
        panel->show();
        ASSERT_TRUE(waitFor([&] { return panel->processModel()->rowOf(long(pid)) >= 0; }, 10000));
        panel->processView()->selectRow(panel->processModel()->rowOf(long(pid)));
        emit panel->attachRequested(pid);  // what the Attach button sends for the selected row
        EXPECT_EQ(w.attachedPid(), pid);
        ASSERT_TRUE(waitFor(
            [&] { return w.moment() != nullptr && w.summary() && w.summary()->live; }, 20000));
        ASSERT_TRUE(
            waitFor([&] { return model.processAt(model.rowOf(long(pid)))->attached; }, 10000));
        const int prow = panel->processModel()->rowOf(long(pid));
        EXPECT_EQ(
            panel->processModel()->data(
                panel->processModel()->index(prow, LiveProcessModel::Attached), Qt::DisplayRole),
            QStringLiteral("this window"));

        ASSERT_TRUE(w.detach());
        EXPECT_EQ(w.attachedPid(), 0);
        EXPECT_TRUE(w.bannerText().contains(QLatin1String("Detached")))
            << w.bannerText().toStdString();
        ASSERT_TRUE(waitFor(
            [&] { return w.summary() && w.summary()->info.endReason == "detached"; }, 20000));
        EXPECT_TRUE(w.bannerText().contains(QLatin1String("detached")))
            << w.bannerText().toStdString();
        EXPECT_TRUE(w.moment() != nullptr);  // still browsable
        EXPECT_FALSE(w.detach());            // nothing attached any more
    }
    EXPECT_EQ(prog.state(), QProcess::Running);  // the program runs on
    ASSERT_TRUE(waitFor([&] { return !model.processAt(model.rowOf(long(pid)))->attached; }, 10000));

    prog.terminate();
    ASSERT_TRUE(prog.waitForFinished(10000));
    ASSERT_TRUE(waitFor([&] { return model.rowOf(long(pid)) < 0; }, 10000));
}
