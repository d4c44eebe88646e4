// RecentSessionsLoader and RecentSessionsModel (see recent_sessions.h).
#include "recent_sessions.h"

#include <QBrush>
#include <QFileInfo>
#include <QLocale>

#include "format.h"
#include "spanscope/session_reader.h"

namespace spanscope::ui {

RecentSessionsLoader::RecentSessionsLoader(QObject* parent)
    : QObject(parent),
      m_context(new QObject),
      m_latest(std::make_shared<std::atomic<uint64_t>>(0)) {
    qRegisterMetaType<RecentSessionList>();
    m_context->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_context, &QObject::deleteLater);
    m_thread.start();
}

RecentSessionsLoader::~RecentSessionsLoader() {
    m_latest->store(UINT64_MAX);  // a queued request returns at once
    m_thread.quit();
    m_thread.wait();
}

RecentSession RecentSessionsLoader::read(const QString& path) {
    RecentSession r;
    r.path = path;
    const QFileInfo fi(path);
    if (!fi.exists()) {
        r.error = QObject::tr("no longer exists");
        return r;
    }
    r.bytes = fi.size();
    std::string err;
    auto reader = session::SessionReader::open(path.toStdString(), &err);
    if (!reader) {
        r.error = QString::fromStdString(err);
        return r;
    }
    const session::SessionInfo& info = reader->info();
    // The program as it was started: its file name and arguments (a demo's argv[0] is
    // /proc/self/exe; the program column names the binary). A built-in demo is named by its
    // scenario ("demo gogc50 ..."): in a narrow side panel "spanscope-cli" would be all one sees.
    QStringList words{QFileInfo(QString::fromStdString(info.program)).fileName()};
    for (size_t i = 1; i < info.argv.size(); i++) words << QString::fromStdString(info.argv[i]);
    r.command = words.join(QLatin1Char(' '));
    if (words.size() > 1 && words[0] == QLatin1String("spanscope-cli") &&
        words[1] == QLatin1String("demo"))
        words.removeFirst();
    r.program = words.join(QLatin1Char(' '));
    if (info.startUnixNs > 0)
        r.started = QDateTime::fromMSecsSinceEpoch(info.startUnixNs / 1000000);
    r.durationNs = info.endNs;
    r.ok = true;
    return r;
}

void RecentSessionsLoader::request(const QStringList& files) {
    const uint64_t token = m_latest->fetch_add(1) + 1;
    auto latest = m_latest;
    QMetaObject::invokeMethod(
        m_context,
        [this, latest, token, files] {
            if (latest->load() != token) return;  // superseded
            auto list = std::make_shared<std::vector<RecentSession>>();
            for (const QString& f : files) list->push_back(read(f));
            RecentSessionList answer = std::move(list);
            QMetaObject::invokeMethod(
                this,
                [this, latest, token, answer] {
                    if (latest->load() == token) emit loaded(answer);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

RecentSessionsModel::RecentSessionsModel(QObject* parent)
    : QAbstractTableModel(parent), m_sessions(std::make_shared<std::vector<RecentSession>>()) {
    connect(&m_loader, &RecentSessionsLoader::loaded, this, [this](const RecentSessionList& l) {
        QStringList paths;
        for (const RecentSession& s : *l) paths << s.path;
        if (paths != m_files) return;  // an answer for an older list
        beginResetModel();
        m_sessions = l;
        m_filled = true;
        endResetModel();
        emit loaded();
    });
}

void RecentSessionsModel::setFiles(const QStringList& files) {
    beginResetModel();
    m_files = files;
    auto names = std::make_shared<std::vector<RecentSession>>();
    for (const QString& f : files) names->push_back(RecentSession{f});
    m_sessions = std::move(names);
    m_filled = false;
    endResetModel();
    m_loader.request(files);
}

QString RecentSessionsModel::formatDate(const QDateTime& t, const QDateTime& now) {
    const QLocale c = QLocale::c();  // month names as the rest of the GUI's words: English
    return t.date().year() == now.date().year() ? c.toString(t, QStringLiteral("d MMM HH:mm"))
                                                : c.toString(t, QStringLiteral("d MMM yyyy"));
}

QString RecentSessionsModel::pathAt(int row) const {
    return row >= 0 && size_t(row) < m_sessions->size() ? (*m_sessions)[size_t(row)].path
                                                        : QString();
}

int RecentSessionsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_sessions->size());
}

int RecentSessionsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RecentSessionsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || size_t(index.row()) >= m_sessions->size()) return {};
    const RecentSession& s = (*m_sessions)[size_t(index.row())];
    if (role == Qt::ToolTipRole) {
        if (index.column() == Program && s.ok) return s.command;
        return s.ok || !m_filled ? s.path : s.path + QStringLiteral(": ") + s.error;
    }
    if (role == Qt::ForegroundRole && m_filled && !s.ok) return QBrush(Qt::gray);
    if (role == Qt::TextAlignmentRole && index.column() >= Duration)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
        case Session:
            return QFileInfo(s.path).fileName();
        case Program:
            return s.ok ? s.program : m_filled ? s.error : QString();
        case Recorded:
            return s.started.isValid() ? formatDate(s.started) : QString();
        case Duration:
            return s.ok ? formatSeconds(s.durationNs) : QString();
        case Size:
            return s.ok || s.bytes ? formatBytes(uint64_t(s.bytes)) : QString();
        default:
            return {};
    }
}

QVariant RecentSessionsModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* const kTitles[ColumnCount] = {"Session", "Program", "Recorded", "Duration",
                                                     "Size"};
    return section >= 0 && section < ColumnCount ? tr(kTitles[section]) : QVariant();
}

}  // namespace spanscope::ui
