// SessionInfoModel (see session_info_model.h).
#include "session_info_model.h"

#include <QDateTime>
#include <QFileInfo>

#include "format.h"

namespace spanscope::ui {

SessionInfoModel::SessionInfoModel(QObject* parent) : QAbstractTableModel(parent) {}

QString SessionInfoModel::endDescription(const session::SessionInfo& in) {
    if (in.endReason == "recording")
        return tr("still recording (or the recorder stopped without a word)");
    if (in.endReason == "exit") return tr("exited with status %1").arg(in.exitCode);
    if (in.endReason == "signal") return tr("killed by signal %1").arg(in.signal);
    if (in.endReason == "detached") return tr("detached");
    if (in.endReason == "recorder-stopped") return tr("recording stopped");
    if (in.endReason == "stream-error")
        return tr("stream error: %1").arg(QString::fromStdString(in.streamError));
    return QString::fromStdString(in.endReason);
}

void SessionInfoModel::setSummary(const SummaryPtr& s) {
    std::vector<std::pair<QString, QString>> rows;
    if (s) {
        const auto& in = s->info;
        QStringList argv;
        for (const auto& a : in.argv) argv << QString::fromStdString(a);
        rows = {
            {tr("File"), QFileInfo(s->path).fileName()},
            {tr("Program"), QString::fromStdString(in.program)},
            {tr("Command"), argv.join(QLatin1Char(' ')).simplified()},
            {tr("PID"), QString::number(in.pid)},
            {tr("Started"),
             QDateTime::fromMSecsSinceEpoch(in.startUnixNs / 1000000).toString(Qt::ISODate)},
            {tr("Duration"), formatSeconds(in.endNs)},
            {tr("Ended"), endDescription(in)},
            {tr("Stream"), QString::fromStdString(in.streamStatus.empty() ? std::string("recording")
                                                                          : in.streamStatus)},
            {tr("Events"), formatCount(static_cast<uint64_t>(in.events))},
            {tr("Dropped"), formatCount(static_cast<uint64_t>(in.dropped))},
            {tr("Page size"), formatBytes(static_cast<uint64_t>(in.pageSize))},
            {tr("Arena size"), formatBytes(static_cast<uint64_t>(in.arenaBytes))},
            {tr("Size classes"), QString::number(s->classes.size())},
            {tr("Format"), tr("stream v%1").arg(in.formatVersion)},
        };
        // A bounded recording (--max-size/--keep) that dropped its beginning: where the kept part
        // begins (the state before it is unknown).
        if (in.keptFromNs > 0)
            rows.insert(rows.begin() + 6,
                        {tr("Kept from"), tr("%1 (older records dropped: bounded recording)")
                                              .arg(formatSeconds(in.keptFromNs))});
    }
    if (rows.size() == m_rows.size() && !rows.empty()) {
        m_rows = std::move(rows);
        emit dataChanged(index(0, 0), index(rowCount() - 1, 1));
        return;
    }
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
}

QString SessionInfoModel::value(const QString& property) const {
    for (const auto& [k, v] : m_rows)
        if (k == property) return v;
    return {};
}

int SessionInfoModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}
int SessionInfoModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : 2;
}

QVariant SessionInfoModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto& r = m_rows[static_cast<size_t>(index.row())];
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole)
        return index.column() == 0 ? r.first : r.second;
    return {};
}

QVariant SessionInfoModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o == Qt::Horizontal && role == Qt::DisplayRole)
        return section == 0 ? tr("Property") : tr("Value");
    return QAbstractTableModel::headerData(section, o, role);
}

}  // namespace spanscope::ui
