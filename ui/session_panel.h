// The session browser panel: recent session files with their program, date, duration and size
// (RecentSessionsModel; double-click opens), a "Browse…" button, the
// open session's metadata (SessionInfoModel), and the live processes one can attach to
// (LiveProcessModel, refreshed every 2 s while the panel is visible) with Attach and Detach.
#pragma once
#include <QTableView>
#include <QWidget>

#include "live_process_model.h"
#include "recent_sessions.h"
#include "session_info_model.h"

class QPushButton;

namespace spanscope::ui {

class SessionPanel : public QWidget {
    Q_OBJECT
public:
    explicit SessionPanel(QWidget* parent = nullptr);
    void setRecentFiles(const QStringList& files);
    void setSummary(const SummaryPtr& s) { m_info->setSummary(s); }
    SessionInfoModel* infoModel() { return m_info; }
    LiveProcessModel* processModel() { return m_procs; }
    LiveProcessWatcher* processWatcher() { return m_watcher; }
    QTableView* processView() { return m_procView; }
    RecentSessionsModel* recentModel() { return m_recentModel; }
    QTableView* recentView() { return m_recent; }
    // The process this window records by attach (0: none): marked in the list, Detach enabled.
    void setAttachedPid(qint64 pid);

signals:
    void openRequested(const QString& path);
    void browseRequested();
    void attachRequested(qint64 pid);
    void detachRequested();

protected:
    void showEvent(QShowEvent*) override;
    void hideEvent(QHideEvent*) override;

private:
    QTableView* m_recent;
    RecentSessionsModel* m_recentModel;
    QTableView* m_table;
    SessionInfoModel* m_info;
    LiveProcessModel* m_procs;
    LiveProcessWatcher* m_watcher;
    QTableView* m_procView;
    QPushButton* m_attach;
    QPushButton* m_detach;
    qint64 m_attachedPid = 0;
    void updateButtons();
};

}  // namespace spanscope::ui
