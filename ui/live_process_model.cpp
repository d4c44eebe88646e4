// LiveProcessModel and LiveProcessWatcher (see live_process_model.h).
#include "live_process_model.h"

#include <QFileInfo>
#include <QTimer>
#include <algorithm>
#include <set>

#include "format.h"

namespace spanscope::ui {

LiveProcessModel::LiveProcessModel(QObject* parent) : QAbstractTableModel(parent) {}

void LiveProcessModel::setProcesses(const std::vector<session::LiveProcess>& in) {
    std::vector<session::LiveProcess> list = in;
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
    std::set<long> pids;
    for (const auto& p : list) pids.insert(p.pid);
    for (int r = static_cast<int>(m_rows.size()) - 1; r >= 0; r--) {
        if (pids.count(m_rows[static_cast<size_t>(r)].pid)) continue;
        beginRemoveRows({}, r, r);
        m_rows.erase(m_rows.begin() + r);
        endRemoveRows();
    }
    for (const auto& p : list) {
        const auto it =
            std::lower_bound(m_rows.begin(), m_rows.end(), p.pid,
                             [](const session::LiveProcess& x, long pid) { return x.pid < pid; });
        const int r = static_cast<int>(it - m_rows.begin());
        if (it != m_rows.end() && it->pid == p.pid) {
            const bool same = it->program == p.program && it->heapSys == p.heapSys &&
                              it->heapAlloc == p.heapAlloc && it->heapInuse == p.heapInuse &&
                              it->attached == p.attached && it->answered == p.answered;
            if (!same) {
                *it = p;
                emit dataChanged(index(r, 0), index(r, ColumnCount - 1));
            }
            continue;
        }
        beginInsertRows({}, r, r);
        m_rows.insert(it, p);
        endInsertRows();
    }
}

void LiveProcessModel::setOwnPid(qint64 pid) {
    if (pid == m_ownPid) return;
    m_ownPid = pid;
    if (!m_rows.empty()) emit dataChanged(index(0, Attached), index(rowCount() - 1, Attached));
}

const session::LiveProcess* LiveProcessModel::processAt(int row) const {
    return row >= 0 && row < rowCount() ? &m_rows[static_cast<size_t>(row)] : nullptr;
}

int LiveProcessModel::rowOf(long pid) const {
    for (size_t i = 0; i < m_rows.size(); i++)
        if (m_rows[i].pid == pid) return static_cast<int>(i);
    return -1;
}

int LiveProcessModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int LiveProcessModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LiveProcessModel::data(const QModelIndex& index, int role) const {
    const session::LiveProcess* p = index.isValid() ? processAt(index.row()) : nullptr;
    if (!p || index.column() < 0 || index.column() >= ColumnCount) return {};
    const QString program = QString::fromStdString(p->program);
    const bool ours = m_ownPid && p->pid == m_ownPid;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case Pid:
                return QVariant::fromValue<qlonglong>(p->pid);
            case Program:
                return QFileInfo(program).fileName();
            case Heap:
                return p->answered ? formatBytes(p->heapSys) : tr("?");
            case Attached:
                return ours ? tr("this window") : p->attached ? tr("yes") : tr("no");
        }
    } else if (role == Qt::ToolTipRole) {
        if (!p->answered) return tr("%1 (pid %2) did not answer STAT").arg(program).arg(p->pid);
        return tr("%1 (pid %2)\nheap: %3 mapped, %4 allocated, %5 in spans%6")
            .arg(program)
            .arg(p->pid)
            .arg(formatBytes(p->heapSys), formatBytes(p->heapAlloc), formatBytes(p->heapInuse))
            .arg(p->attached
                     ? (ours ? tr("\nattached to this window") : tr("\nanother client is attached"))
                     : QString());
    } else if (role == Qt::TextAlignmentRole) {
        if (index.column() == Pid || index.column() == Heap)
            return int(Qt::AlignRight | Qt::AlignVCenter);
    } else if (role == Qt::UserRole) {
        return QVariant::fromValue<qlonglong>(p->pid);
    }
    return {};
}

QVariant LiveProcessModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case Pid:
            return tr("PID");
        case Program:
            return tr("Program");
        case Heap:
            return tr("Heap");
        case Attached:
            return tr("Attached");
    }
    return {};
}

// ---- LiveProcessWatcher ----------------------------------------------------------------------

LiveProcessWatcher::LiveProcessWatcher(QObject* parent, int intervalMs)
    : QObject(parent), m_worker(new QObject), m_intervalMs(intervalMs) {
    qRegisterMetaType<LiveProcessList>();
    m_thread.setObjectName(QStringLiteral("spanscope-ps"));
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start();
}

LiveProcessWatcher::~LiveProcessWatcher() {
    m_thread.quit();
    m_thread.wait();
}

void LiveProcessWatcher::refreshNow() {
    QMetaObject::invokeMethod(
        m_worker,
        [this] {
            auto list = std::make_shared<const std::vector<session::LiveProcess>>(
                session::listLiveProcesses());
            emit updated(list);  // queued to the watcher's thread (the GUI's)
        },
        Qt::QueuedConnection);
}

void LiveProcessWatcher::setActive(bool on) {
    if (on == m_active) return;
    m_active = on;
    const int interval = m_intervalMs;
    QMetaObject::invokeMethod(
        m_worker,
        [this, on, interval] {
            auto* timer = m_worker->findChild<QTimer*>();
            if (!timer) {
                timer = new QTimer(m_worker);
                connect(timer, &QTimer::timeout, m_worker, [this] {
                    emit updated(std::make_shared<const std::vector<session::LiveProcess>>(
                        session::listLiveProcesses()));
                });
            }
            if (on)
                timer->start(interval);
            else
                timer->stop();
        },
        Qt::QueuedConnection);
    if (on) refreshNow();
}

}  // namespace spanscope::ui
