// LiveRecording (see live_recording.h).
#include "live_recording.h"

#include <unistd.h>

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

#include <csignal>
#include <sys/types.h>

namespace spanscope::ui {

LiveRecording::LiveRecording(QObject* parent) : QObject(parent) {}

LiveRecording::~LiveRecording() { stop(); }

QString LiveRecording::findCli() {
    if (const QString env = qEnvironmentVariable("SPANSCOPE_CLI"); !env.isEmpty()) return env;
    const QString here = QCoreApplication::applicationDirPath() + QStringLiteral("/spanscope-cli");
    if (QFileInfo(here).isExecutable()) return here;
    // Tests and build trees: the CLI is in app/ next to app/gui/.
    const QString up = QCoreApplication::applicationDirPath() + QStringLiteral("/../spanscope-cli");
    if (QFileInfo(up).isExecutable()) return QFileInfo(up).canonicalFilePath();
    return QStandardPaths::findExecutable(QStringLiteral("spanscope-cli"));
}

bool LiveRecording::prepareDir() {
    stop();
    m_dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/spanscope-live-XXXXXX"));
    if (!m_dir->isValid()) {
        m_error = tr("cannot create a temporary directory: %1").arg(m_dir->errorString());
        return false;
    }
    m_dir->setAutoRemove(false);  // the session stays for the user to reopen
    return true;
}

bool LiveRecording::start(const QString& cli, const QString& program, const QStringList& args,
                          const QStringList& extraEnv) {
    return prepareDir() && startIn(cli, program, args, extraEnv);
}

bool LiveRecording::startAttach(const QString& cli, qint64 pid) {
    if (!prepareDir()) return false;
    m_attached = true;
    return startProcess(cli, {QStringLiteral("attach"), QString::number(pid), QStringLiteral("-o"),
                              m_dir->filePath(QStringLiteral("live.spanscope")), QStringLiteral("--force")},
                        {});
}

bool LiveRecording::startIn(const QString& cli, const QString& program, const QStringList& args,
                            const QStringList& extraEnv, bool preload) {
    QStringList a{QStringLiteral("record"), QStringLiteral("-o"), m_dir->filePath(QStringLiteral("live.spanscope")),
                  QStringLiteral("--force")};
    if (!preload) a << QStringLiteral("--no-preload");
    a << QStringLiteral("--") << program;
    a += args;
    m_attached = false;
    return startProcess(cli, a, extraEnv);
}

bool LiveRecording::startProcess(const QString& cli, const QStringList& a, const QStringList& extraEnv) {
    if (cli.isEmpty()) {
        m_error = tr("spanscope-cli was not found next to spanscope or on PATH; cannot record.");
        return false;
    }
    m_path = m_dir->filePath(QStringLiteral("live.spanscope"));
    m_output.clear();
    m_proc = new QProcess(this);
    m_proc->setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString& kv : extraEnv) env.insert(kv.section(QLatin1Char('='), 0, 0), kv.section(QLatin1Char('='), 1));
    m_proc->setProcessEnvironment(env);
    // The recorder and the recorded program run a notch below the GUI (nice 4): on a machine whose
    // cores they keep busy, the window would otherwise wait for the scheduler for tens of ms at a
    // time (docs/BENCHMARKS.md, GUI). They lose little: the GUI thread needs a tenth of a core.
    m_proc->setChildProcessModifier([] { (void)::nice(4); });
    connect(m_proc, &QProcess::readyRead, this, [this] {
        m_output += QString::fromLocal8Bit(m_proc->readAll());
        if (m_output.size() > 20000) m_output = m_output.right(10000);
    });
    connect(m_proc, &QProcess::finished, this, [this](int code, QProcess::ExitStatus) {
        const QStringList lines = m_output.trimmed().split(QLatin1Char('\n'));
        emit finished(code, lines.isEmpty() ? QString() : lines.last());
    });
    m_proc->start(cli, a);
    if (!m_proc->waitForStarted(5000)) {
        m_error = tr("cannot start %1: %2").arg(cli, m_proc->errorString());
        return false;
    }
    return true;
}

bool LiveRecording::startDemo(const QString& cli, double seconds) {
    // The script lives in the resources; python needs a real file: next to the session.
    const QString python = QStandardPaths::findExecutable(QStringLiteral("python3"));
    if (python.isEmpty()) {
        m_error = tr("the live demo needs python3 on PATH");
        return false;
    }
    if (!prepareDir()) return false;
    const QString script = m_dir->filePath(QStringLiteral("demo_workload.py"));
    if (!QFile::copy(QStringLiteral(":/spanscope/demo_workload.py"), script)) {
        m_error = tr("cannot write %1").arg(script);
        return false;
    }
    return startIn(cli, python, {script, QString::number(seconds)}, {QStringLiteral("PYTHONMALLOC=malloc")});
}

bool LiveRecording::startScenario(const QString& cli, const QString& name, double seconds) {
    if (!prepareDir()) return false;
    return startIn(cli, cli, {QStringLiteral("demo"), name, QStringLiteral("--seconds"), QString::number(seconds)}, {},
                   false);
}

void LiveRecording::stop() {
    if (!m_proc) return;
    if (m_proc->state() != QProcess::NotRunning) {
        disconnect(m_proc, nullptr, this, nullptr);
        if (m_attached) ::kill(static_cast<pid_t>(m_proc->processId()), SIGINT);  // detach; the program runs on
        // Stop the recorded program (the recorder's children): the recorder then sees it end and
        // finishes the session as for any program that exits. Only if that fails, stop the recorder.
        const qint64 rec = m_proc->processId();
        QFile children(QStringLiteral("/proc/%1/task/%1/children").arg(rec));
        if (children.open(QIODevice::ReadOnly))
            for (const QByteArray& pid : children.readAll().split(' '))
                if (const int p = pid.trimmed().toInt(); p > 0) ::kill(p, SIGTERM);
        if (!m_proc->waitForFinished(4000)) {
            m_proc->terminate();
            if (!m_proc->waitForFinished(2000)) {
                m_proc->kill();
                m_proc->waitForFinished(1000);
            }
        }
    }
    delete m_proc;
    m_proc = nullptr;
}

}  // namespace spanscope::ui
