// RangeClassModel (see range_class_model.h).
#include "range_class_model.h"

#include <QColor>

#include "format.h"
#include "palette.h"
#include "size_class_model.h"

namespace spanscope::ui {

bool RangeClassModel::shown(const session::ClassRangeStats& c) {
    return c.allocObjects || c.freedObjects || c.spansAtStart || c.spansAtEnd || c.spansTaken ||
           c.spansReturned;
}

RangeClassModel::RangeClassModel(QObject* parent) : QAbstractTableModel(parent) {}

void RangeClassModel::setStats(const session::RangeStats* stats) {
    beginResetModel();
    m_rows.clear();
    if (stats)
        for (const session::ClassRangeStats& c : stats->classes)
            if (shown(c)) m_rows.push_back(c);
    endResetModel();
}

const session::ClassRangeStats* RangeClassModel::statsAt(int row) const {
    return row >= 0 && row < rowCount() ? &m_rows[size_t(row)] : nullptr;
}

int RangeClassModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RangeClassModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RangeClassModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const session::ClassRangeStats& c = m_rows[size_t(index.row())];
    switch (role) {
        case Qt::DisplayRole:
            switch (index.column()) {
                case Class:
                    return c.sizeClass == 0 ? QStringLiteral("large")
                                            : QString::number(c.sizeClass);
                case ObjectSize:
                    return c.sizeClass == 0 ? QStringLiteral("> 32 KiB") : formatBytes(c.size);
                case Allocated:
                    return formatCount(c.allocObjects);
                case Freed:
                    return formatCount(c.freedObjects);
                case BytesAllocated:
                    return formatBytes(c.allocBytes);
                case BytesFreed:
                    return formatBytes(c.freedBytes);
                case Spans:
                    return QStringLiteral("%1 → %2").arg(formatCount(c.spansAtStart),
                                                         formatCount(c.spansAtEnd));
                case TakenReturned:
                    return QStringLiteral("%1 / %2").arg(formatCount(c.spansTaken),
                                                         formatCount(c.spansReturned));
            }
            break;
        case SizeClassModel::kSortRole:
            switch (index.column()) {
                case Class:
                    return c.sizeClass;
                case ObjectSize:
                    return c.sizeClass == 0 ? qulonglong(1) << 40 : qulonglong(c.size);
                case Allocated:
                    return qulonglong(c.allocObjects);
                case Freed:
                    return qulonglong(c.freedObjects);
                case BytesAllocated:
                    return qulonglong(c.allocBytes);
                case BytesFreed:
                    return qulonglong(c.freedBytes);
                case Spans:
                    return qulonglong(c.spansAtEnd);
                case TakenReturned:
                    return qulonglong(c.spansTaken);
            }
            break;
        case SizeClassModel::kSizeClassRole:
            return c.sizeClass;
        case Qt::DecorationRole:
            if (index.column() == Class) return QColor::fromRgb(sizeClassColor(c.sizeClass));
            break;
        case Qt::TextAlignmentRole:
            return QVariant::fromValue(Qt::Alignment(index.column() == Class
                                                         ? Qt::AlignLeft | Qt::AlignVCenter
                                                         : Qt::AlignRight | Qt::AlignVCenter));
        case Qt::ToolTipRole:
            return tr("class %1 in the range: %2 objects allocated (%3), %4 freed (%5); %6 bytes "
                      "asked for; "
                      "spans in use %7 at the start, %8 at the end; %9 taken from the heap, %10 "
                      "returned to it")
                .arg(c.sizeClass)
                .arg(formatCount(c.allocObjects), formatBytes(c.allocBytes),
                     formatCount(c.freedObjects), formatBytes(c.freedBytes),
                     formatBytes(c.requestedBytes), formatCount(c.spansAtStart),
                     formatCount(c.spansAtEnd), formatCount(c.spansTaken))
                .arg(formatCount(c.spansReturned));
    }
    return {};
}

QVariant RangeClassModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o == Qt::Horizontal && role == Qt::ToolTipRole && section == TakenReturned)
        return tr("Spans of this class taken from the heap in the range / returned to it");
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, o, role);
    switch (section) {
        case Class:
            return tr("Class");
        case ObjectSize:
            return tr("Size");
        case Allocated:
            return tr("Allocated");
        case Freed:
            return tr("Freed");
        case BytesAllocated:
            return tr("Bytes alloc.");
        case BytesFreed:
            return tr("Bytes freed");
        case Spans:
            return tr("Spans");
        case TakenReturned:
            return tr("Taken / ret.");
    }
    return {};
}

}  // namespace spanscope::ui
