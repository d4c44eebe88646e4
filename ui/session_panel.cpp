// SessionPanel (see session_panel.h).
#include "session_panel.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace spanscope::ui {

SessionPanel::SessionPanel(QWidget* parent)
    : QWidget(parent), m_recent(new QListWidget(this)), m_table(new QTableView(this)),
      m_info(new SessionInfoModel(this)) {
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
    m_recent->setMaximumHeight(fontMetrics().height() * 7);
    lay->addWidget(m_recent, 1);
    auto* browse = new QPushButton(tr("Open a session file…"), this);
    lay->addWidget(browse);
    connect(browse, &QPushButton::clicked, this, &SessionPanel::browseRequested);
    connect(m_recent, &QListWidget::itemActivated, this,
            [this](QListWidgetItem* it) { emit openRequested(it->data(Qt::UserRole).toString()); });
}

void SessionPanel::setRecentFiles(const QStringList& files) {
    m_recent->clear();
    for (const QString& f : files) {
        auto* it = new QListWidgetItem(QFileInfo(f).fileName(), m_recent);
        it->setData(Qt::UserRole, f);
        it->setToolTip(f);
        if (!QFileInfo::exists(f)) it->setForeground(Qt::gray);
    }
}

}  // namespace spanscope::ui
