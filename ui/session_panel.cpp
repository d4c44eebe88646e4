// SessionPanel (see session_panel.h).
#include "session_panel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace spanscope::ui {

SessionPanel::SessionPanel(QWidget* parent)
    : QWidget(parent),
      m_recent(new QTableView(this)),
      m_recentModel(new RecentSessionsModel(this)),
      m_table(new QTableView(this)),
      m_info(new SessionInfoModel(this)),
      m_procs(new LiveProcessModel(this)),
      m_watcher(new LiveProcessWatcher(this)),
      m_procView(new QTableView(this)),
      m_attach(new QPushButton(tr("Attach"), this)),
      m_detach(new QPushButton(tr("Detach"), this)) {
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(2, 2, 2, 2);
    m_table->setModel(m_info);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_table->setWordWrap(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    lay->addWidget(m_table, 5);
    auto* recentLabel = new QLabel(tr("Recent sessions (double-click to open)"), this);
    lay->addWidget(recentLabel);
    m_recent->setModel(m_recentModel);
    m_recent->verticalHeader()->hide();
    m_recent->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_recent->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_recent->horizontalHeader()->setSectionResizeMode(RecentSessionsModel::Program,
                                                       QHeaderView::Stretch);
    m_recent->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_recent->setSelectionMode(QAbstractItemView::SingleSelection);
    m_recent->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_recent->setWordWrap(false);
    m_recent->setTextElideMode(Qt::ElideRight);  // the program and its first arguments
    m_recent->setMaximumHeight(fontMetrics().height() * 9);
    lay->addWidget(m_recent, 3);
    auto* browse = new QPushButton(tr("Open a session file…"), this);
    lay->addWidget(browse);
    connect(browse, &QPushButton::clicked, this, &SessionPanel::browseRequested);

    auto* liveLabel = new QLabel(tr("Live processes (run with SPANSCOPE_ATTACH=1)"), this);
    liveLabel->setToolTip(
        tr("Programs of yours running with libspanscope.so and SPANSCOPE_ATTACH=1, as "
           "'spanscope-cli ps' lists them; refreshed every 2 s."));
    lay->addWidget(liveLabel);
    m_procView->setModel(m_procs);
    m_procView->verticalHeader()->hide();
    m_procView->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_procView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_procView->horizontalHeader()->setSectionResizeMode(LiveProcessModel::Program,
                                                         QHeaderView::Stretch);
    m_procView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_procView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_procView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_procView->setWordWrap(false);
    m_procView->setMaximumHeight(fontMetrics().height() * 8);
    lay->addWidget(m_procView, 1);
    // Each table may shrink to three lines (a scroll area's own minimum is about five): with the
    // presenter's large type on a 640-pixel stage this dock, tabbed with the others, set the
    // window's minimum height above the screen's.
    for (QTableView* t : {m_table, m_recent, m_procView})
        t->setMinimumHeight(fontMetrics().height() * 3);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_attach);
    buttons->addWidget(m_detach);
    lay->addLayout(buttons);
    m_attach->setToolTip(
        tr("Record the selected process live (a rundown of its heap, then its events)"));
    m_detach->setToolTip(
        tr("Stop recording the attached process; it runs on, and the session stays open"));
    connect(m_watcher, &LiveProcessWatcher::updated, this, [this](const LiveProcessList& l) {
        m_procs->setProcesses(*l);
        updateButtons();
    });
    connect(m_procView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &SessionPanel::updateButtons);
    connect(m_procView, &QAbstractItemView::activated, this, [this](const QModelIndex& i) {
        if (const auto* p = m_procs->processAt(i.row()); p && !p->attached)
            emit attachRequested(p->pid);
    });
    connect(m_attach, &QPushButton::clicked, this, [this] {
        const QModelIndexList rows = m_procView->selectionModel()->selectedRows();
        if (const auto* p = rows.isEmpty() ? nullptr : m_procs->processAt(rows.first().row()))
            emit attachRequested(p->pid);
    });
    connect(m_detach, &QPushButton::clicked, this, &SessionPanel::detachRequested);
    updateButtons();
    connect(m_recent, &QAbstractItemView::activated, this,
            [this](const QModelIndex& i) { emit openRequested(m_recentModel->pathAt(i.row())); });
}

void SessionPanel::setAttachedPid(qint64 pid) {
    m_attachedPid = pid;
    m_procs->setOwnPid(pid);
    updateButtons();
    if (isVisible()) m_watcher->refreshNow();  // the attached column changes at once
}

void SessionPanel::updateButtons() {
    const QModelIndexList rows = m_procView->selectionModel()->selectedRows();
    const auto* p = rows.isEmpty() ? nullptr : m_procs->processAt(rows.first().row());
    m_attach->setEnabled(p && !p->attached && p->pid != m_attachedPid);
    m_detach->setEnabled(m_attachedPid != 0);
}

void SessionPanel::showEvent(QShowEvent* e) {
    QWidget::showEvent(e);
    m_watcher->setActive(true);
}

void SessionPanel::hideEvent(QHideEvent* e) {
    QWidget::hideEvent(e);
    m_watcher->setActive(false);
}

void SessionPanel::setRecentFiles(const QStringList& files) {
    m_recentModel->setFiles(files);
}

}  // namespace spanscope::ui
