// The session browser panel: recent session files (double-click opens), a "Browse…" button, and the
// open session's metadata (SessionInfoModel).
#pragma once
#include <QListWidget>
#include <QTableView>
#include <QWidget>

#include "session_info_model.h"

namespace spanscope::ui {

class SessionPanel : public QWidget {
    Q_OBJECT
public:
    explicit SessionPanel(QWidget* parent = nullptr);
    void setRecentFiles(const QStringList& files);
    void setSummary(const SummaryPtr& s) { m_info->setSummary(s); }
    SessionInfoModel* infoModel() { return m_info; }

signals:
    void openRequested(const QString& path);
    void browseRequested();

private:
    QListWidget* m_recent;
    QTableView* m_table;
    SessionInfoModel* m_info;
};

}  // namespace spanscope::ui
