// The recent sessions of the session panel: each file with the program it recorded, when, for how
// long and its size on disk. The files are opened by a worker thread with a reader of its own (a
// session is SQLite: never read on the GUI thread); the model only swaps in its immutable answer.
// A file that is gone or unreadable stays listed, greyed, with the reason as its tooltip.
#pragma once
#include <QAbstractTableModel>
#include <QDateTime>
#include <QStringList>
#include <QThread>
#include <atomic>
#include <memory>
#include <vector>

namespace spanscope::ui {

struct RecentSession {
    QString path;
    bool ok = false;
    QString error;  // why not ok (missing, not a session, ...)
    QString
        program;  // the recorded program: its file name and arguments ("demo NAME ..." for a demo)
    QString command;    // the whole command line
    QDateTime started;  // when the recording began (local time)
    int64_t durationNs = 0;
    qint64 bytes = 0;  // the file's size on disk
};
using RecentSessionList = std::shared_ptr<const std::vector<RecentSession>>;

// Reads the facts above for a list of files, on its own thread; only the latest request answers.
class RecentSessionsLoader : public QObject {
    Q_OBJECT
public:
    explicit RecentSessionsLoader(QObject* parent = nullptr);
    ~RecentSessionsLoader() override;
    void request(const QStringList& files);
    static RecentSession read(const QString& path);  // one file (what the worker runs)

signals:
    void loaded(spanscope::ui::RecentSessionList sessions);

private:
    QThread m_thread;
    QObject* m_context;  // lives on m_thread
    std::shared_ptr<std::atomic<uint64_t>> m_latest;
};

class RecentSessionsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Session, Program, Recorded, Duration, Size, ColumnCount };
    explicit RecentSessionsModel(QObject* parent = nullptr);
    // Lists the files at once (names only), then fills the rest when the loader answers.
    void setFiles(const QStringList& files);
    QString pathAt(int row) const;
    // "3 Dec 14:05" in the current year (of `now`), else "3 Dec 2025": short enough for a side
    // panel.
    static QString formatDate(const QDateTime& t,
                              const QDateTime& now = QDateTime::currentDateTime());
    const RecentSessionList& sessions() const { return m_sessions; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

signals:
    void loaded();  // the rows carry the loader's answer

private:
    RecentSessionsLoader m_loader;
    RecentSessionList m_sessions;
    QStringList m_files;
    bool m_filled = false;  // m_sessions holds the loader's answer for m_files
};

}  // namespace spanscope::ui

Q_DECLARE_METATYPE(spanscope::ui::RecentSessionList)
