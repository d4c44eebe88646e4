// The session browser's live processes: programs of this user that can be attached to (started
// with SPANSCOPE_ATTACH=1; session::listLiveProcesses, as `spanscope-cli ps`). LiveProcessWatcher
// lists them every 2 s on a thread of its own (a silent process can take a second to answer);
// LiveProcessModel shows the latest list, one row per pid, updated in place.
#pragma once
#include <QAbstractTableModel>
#include <QThread>
#include <memory>
#include <vector>

#include "spanscope/session.h"

namespace spanscope::ui {

using LiveProcessList = std::shared_ptr<const std::vector<session::LiveProcess>>;

class LiveProcessModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Pid, Program, Heap, Attached, ColumnCount };
    explicit LiveProcessModel(QObject* parent = nullptr);

    // Rows are kept by pid: gone ones removed, new ones inserted in pid order, others updated.
    void setProcesses(const std::vector<session::LiveProcess>& list);
    void setOwnPid(qint64 pid);  // the process this window is attached to ("this window")
    const session::LiveProcess* processAt(int row) const;
    int rowOf(long pid) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

private:
    std::vector<session::LiveProcess> m_rows;  // by pid
    qint64 m_ownPid = 0;
};

class LiveProcessWatcher : public QObject {
    Q_OBJECT
public:
    explicit LiveProcessWatcher(QObject* parent = nullptr, int intervalMs = 2000);
    ~LiveProcessWatcher() override;
    void setActive(bool on);  // polls only while on (the panel is visible)
    bool active() const { return m_active; }
    void refreshNow();

signals:
    void updated(spanscope::ui::LiveProcessList list);

private:
    QThread m_thread;
    QObject* m_worker;  // lives on m_thread: its timer and its listing
    bool m_active = false;
    int m_intervalMs;
};

}  // namespace spanscope::ui

Q_DECLARE_METATYPE(spanscope::ui::LiveProcessList)
