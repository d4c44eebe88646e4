// A live recording: runs `spanscope-cli record -o FILE -- PROGRAM ARGS` as a child process (the
// same path as any recording) and reports when it ends. The built-in demo is
// resources/demo_workload.py run by python3 with PYTHONMALLOC=malloc, so that every Python object
// comes from the spanscope heap (without it pymalloc serves objects up to 512 B). Stopping sends
// SIGTERM to the recorded program (the demo exits cleanly); the recorder sees it end and finishes
// the session file as for any program.
#pragma once
#include <QObject>
#include <QProcess>
#include <QStringList>

namespace spanscope::ui {

// What a live session records: the built-in demo, a built-in scenario, a running program to attach
// to, or any program. One description, one path through LiveRecording::start and
// MainWindow::startLive.
struct LiveSource {
    enum class Kind { Demo, Scenario, Attach, Program };
    Kind kind = Kind::Demo;
    QString name;          // Scenario: its name; Program: the program
    QStringList args;      // Program: its arguments
    QStringList env;       // Program: extra NAME=VALUE
    double seconds = 120;  // Demo, Scenario: how long it runs
    qint64 pid = 0;        // Attach
    static LiveSource demo(double seconds = 120) { return {Kind::Demo, {}, {}, {}, seconds, 0}; }
    static LiveSource scenario(const QString& name, double seconds = 120) {
        return {Kind::Scenario, name, {}, {}, seconds, 0};
    }
    static LiveSource attach(qint64 pid) { return {Kind::Attach, {}, {}, {}, 0, pid}; }
    static LiveSource program(const QString& p, const QStringList& args,
                              const QStringList& env = {}) {
        return {Kind::Program, p, args, env, 0, 0};
    }
    QString describe() const;  // "the live demo", "the scenario server", "process 1234", "python3"
    QString fileStem()
        const;  // for the recording's file name: "demo", "server", "attach-1234", "python3"
};

class LiveRecording : public QObject {
    Q_OBJECT
public:
    explicit LiveRecording(QObject* parent = nullptr);
    ~LiveRecording() override;

    // $SPANSCOPE_CLI, else spanscope-cli next to this executable, else on PATH; empty if none.
    static QString findCli();
    // Where recordings made by the GUI are kept: the user's data folder (QStandardPaths'
    // AppLocalDataLocation)/recordings, not /tmp; each recording is a new file named after its
    // source and the time it started. $SPANSCOPE_RECORDINGS overrides the folder.
    static QString recordingsDir();
    // Starts recording src into a new file in recordingsDir(), through `spanscope-cli record`
    // (attach: `spanscope-cli attach`). False (and error()) if the recorder cannot be found or
    // started. Demo: resources/demo_workload.py run by python3 with PYTHONMALLOC=malloc. Scenario:
    // the demo streams its own heap, so it is recorded with --no-preload. Attach: a rundown of its
    // heap, then its events; stopping detaches (SIGINT to the client) and the program runs on.
    bool start(const QString& cli, const LiveSource& src);
    void stop();
    bool running() const { return m_proc && m_proc->state() != QProcess::NotRunning; }
    QString sessionPath() const { return m_path; }
    QString error() const { return m_error; }
    QString output() const { return m_output; }

signals:
    void finished(int exitCode, const QString& lastOutput);

private:
    bool preparePath(const LiveSource& src);
    bool startProcess(const QString& cli, const QStringList& args, const QStringList& extraEnv);
    QProcess* m_proc = nullptr;
    QString m_path, m_error, m_output;
    bool m_attached = false;
};

}  // namespace spanscope::ui
