// A live recording: runs `spanscope-cli record -o FILE -- PROGRAM ARGS` as a child process (the
// same path as any recording) and reports when it ends. The built-in demo is
// resources/demo_workload.py run by python3 with PYTHONMALLOC=malloc, so that every Python object
// comes from the spanscope heap. Stopping sends SIGTERM to the recorded program (the demo exits
// cleanly); the recorder sees it end and finishes the session file as for any program.
#pragma once
#include <QObject>
#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>
#include <memory>

namespace spanscope::ui {

class LiveRecording : public QObject {
    Q_OBJECT
public:
    explicit LiveRecording(QObject* parent = nullptr);
    ~LiveRecording() override;

    // $SPANSCOPE_CLI, else spanscope-cli next to this executable, else on PATH; empty if none.
    static QString findCli();
    // Starts recording program+args into a new file in a temporary directory. False (and error())
    // if the recorder cannot be found or started.
    bool start(const QString& cli, const QString& program, const QStringList& args,
               const QStringList& extraEnv = {});
    // The built-in demo: python3 demo_workload.py SECONDS.
    bool startDemo(const QString& cli, double seconds = 120);
    // A built-in scenario (`spanscope-cli demo NAME`, malloc mode or the garbage collector): the
    // demo streams its own heap, so it is recorded with --no-preload.
    bool startScenario(const QString& cli, const QString& name, double seconds = 120);
    // Attaches to a running program (`spanscope-cli attach PID`): a rundown of its heap, then its
    // events. Stopping detaches (SIGINT to the client); the program runs on.
    bool startAttach(const QString& cli, qint64 pid);
    void stop();
    bool running() const { return m_proc && m_proc->state() != QProcess::NotRunning; }
    QString sessionPath() const { return m_path; }
    QString error() const { return m_error; }
    QString output() const { return m_output; }

signals:
    void finished(int exitCode, const QString& lastOutput);

private:
    bool prepareDir();
    bool startIn(const QString& cli, const QString& program, const QStringList& args, const QStringList& extraEnv,
                 bool preload = true);
    bool startProcess(const QString& cli, const QStringList& args, const QStringList& extraEnv);
    std::unique_ptr<QTemporaryDir> m_dir;
    QProcess* m_proc = nullptr;
    QString m_path, m_error, m_output;
    bool m_attached = false;
};

}  // namespace spanscope::ui
