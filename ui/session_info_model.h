// Two-column model (property, value) of a session's metadata: program, command line, how it
// ended, events, page and arena size. Filled from a SessionSummary snapshot.
#pragma once
#include <QAbstractTableModel>
#include <QStringList>
#include <utility>
#include <vector>

#include "snapshots.h"

namespace spanscope::ui {

class SessionInfoModel : public QAbstractTableModel {
    Q_OBJECT
public:
    explicit SessionInfoModel(QObject* parent = nullptr);
    void setSummary(const SummaryPtr& s);  // nullptr clears
    QString value(const QString& property) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

    // How the session ended, in words ("exited with status 0", "still recording", ...).
    static QString endDescription(const session::SessionInfo& info);

private:
    std::vector<std::pair<QString, QString>> m_rows;
};

}  // namespace spanscope::ui
