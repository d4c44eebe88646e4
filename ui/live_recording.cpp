// LiveRecording (see live_recording.h).
#include "live_recording.h"

#include <sys/types.h>
#include <unistd.h>

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>
#include <csignal>

namespace spanscope::ui {

LiveRecording::LiveRecording(QObject* parent) : QObject(parent) {}

LiveRecording::~LiveRecording() {
    stop();
}

QString LiveRecording::findCli() {
    if (const QString env = qEnvironmentVariable("SPANSCOPE_CLI"); !env.isEmpty()) return env;
    const QString here = QCoreApplication::applicationDirPath() + QStringLiteral("/spanscope-cli");
    if (QFileInfo(here).isExecutable()) return here;
    // Tests and build trees: the CLI is in app/ next to app/gui/.
    const QString up = QCoreApplication::applicationDirPath() + QStringLiteral("/../spanscope-cli");
    if (QFileInfo(up).isExecutable()) return QFileInfo(up).canonicalFilePath();
    return QStandardPaths::findExecutable(QStringLiteral("spanscope-cli"));
}

QString LiveSource::describe() const {
    switch (kind) {
        case Kind::Demo:
            return LiveRecording::tr("the live demo");
        case Kind::Scenario:
            return LiveRecording::tr("the scenario %1").arg(name);
        case Kind::Attach:
            return LiveRecording::tr("process %1").arg(pid);
        case Kind::Program:
            return QFileInfo(name).fileName();
    }
    return {};
}

QString LiveSource::fileStem() const {
    QString stem;
    switch (kind) {
        case Kind::Demo:
            stem = QStringLiteral("demo");
            break;
        case Kind::Scenario:
            stem = name;
            break;
        case Kind::Attach:
            stem = QStringLiteral("attach-%1").arg(pid);
            break;
        case Kind::Program:
            stem = QFileInfo(name).fileName();
            break;
    }
    stem.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")), QStringLiteral("_"));
    return stem.isEmpty() ? QStringLiteral("live") : stem;
}

QString LiveRecording::recordingsDir() {
    if (const QString env = qEnvironmentVariable("SPANSCOPE_RECORDINGS"); !env.isEmpty())
        return env;
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) +
           QStringLiteral("/recordings");
}

bool LiveRecording::preparePath(const LiveSource& src) {
    stop();
    const QString dir = recordingsDir();
    if (!QDir().mkpath(dir)) {
        m_error = tr("cannot create the recordings folder %1").arg(dir);
        return false;
    }
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    m_path = QDir(dir).filePath(QStringLiteral("%1-%2.spanscope").arg(src.fileStem(), stamp));
    for (int n = 2; QFileInfo::exists(m_path); n++)
        m_path = QDir(dir).filePath(
            QStringLiteral("%1-%2-%3.spanscope").arg(src.fileStem(), stamp).arg(n));
    return true;
}

bool LiveRecording::start(const QString& cli, const LiveSource& src) {
    if (!preparePath(src)) return false;
    QStringList a;
    QStringList env = src.env;
    m_attached = src.kind == LiveSource::Kind::Attach;
    if (m_attached)
        return startProcess(cli,
                            {QStringLiteral("attach"), QString::number(src.pid),
                             QStringLiteral("-o"), m_path, QStringLiteral("--force")},
                            {});
    a << QStringLiteral("record") << QStringLiteral("-o") << m_path << QStringLiteral("--force");
    if (src.kind == LiveSource::Kind::Scenario) a << QStringLiteral("--no-preload");
    a << QStringLiteral("--");
    switch (src.kind) {
        case LiveSource::Kind::Demo: {
            // The script lives in the resources; python needs a real file: next to the recordings.
            const QString python = QStandardPaths::findExecutable(QStringLiteral("python3"));
            if (python.isEmpty()) {
                m_error = tr("the live demo needs python3 on PATH");
                return false;
            }
            const QString script =
                QDir(recordingsDir()).filePath(QStringLiteral("demo_workload.py"));
            QFile::remove(script);
            if (!QFile::copy(QStringLiteral(":/spanscope/demo_workload.py"), script)) {
                m_error = tr("cannot write %1").arg(script);
                return false;
            }
            a << python << script << QString::number(src.seconds);
            env << QStringLiteral("PYTHONMALLOC=malloc");
            break;
        }
        case LiveSource::Kind::Scenario:
            a << cli << QStringLiteral("demo") << src.name << QStringLiteral("--seconds")
              << QString::number(src.seconds);
            break;
        case LiveSource::Kind::Program:
            a << src.name << src.args;
            break;
        case LiveSource::Kind::Attach:
            break;
    }
    return startProcess(cli, a, env);
}

bool LiveRecording::startProcess(const QString& cli, const QStringList& a,
                                 const QStringList& extraEnv) {
    if (cli.isEmpty()) {
        m_error = tr("spanscope-cli was not found next to spanscope or on PATH; cannot record.");
        return false;
    }
    m_output.clear();
    m_proc = new QProcess(this);
    m_proc->setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString& kv : extraEnv)
        env.insert(kv.section(QLatin1Char('='), 0, 0), kv.section(QLatin1Char('='), 1));
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

void LiveRecording::stop() {
    if (!m_proc) return;
    if (m_proc->state() != QProcess::NotRunning) {
        disconnect(m_proc, nullptr, this, nullptr);
        if (m_attached)
            ::kill(static_cast<pid_t>(m_proc->processId()), SIGINT);  // detach; the program runs on
        // Stop the recorded program (the recorder's children): the recorder then sees it end and
        // finishes the session as for any program that exits. Only if that fails, stop the
        // recorder.
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
