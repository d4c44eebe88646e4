// SizeClassModel (see size_class_model.h).
#include "size_class_model.h"

#include <QColor>

#include "format.h"
#include "glossary.h"
#include "palette.h"

namespace spanscope::ui {

namespace {
QString capitalized(QString s) {
    if (!s.isEmpty()) s[0] = s[0].toUpper();
    return s;
}
}  // namespace

SizeClassModel::SizeClassModel(QObject* parent) : QAbstractTableModel(parent) {}

void SizeClassModel::setTotals(const std::vector<session::ClassTotals>& totals) {
    std::vector<session::ClassTotals> rows;
    for (const auto& t : totals)
        if (t.spans > 0) rows.push_back(t);
    if (rows.size() == m_rows.size() && !rows.empty()) {
        bool sameClasses = true;
        for (size_t i = 0; i < rows.size(); i++)
            sameClasses &= rows[i].sizeClass == m_rows[i].sizeClass;
        if (sameClasses) {  // values only: keep the selection and scroll position
            m_rows = std::move(rows);
            emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
            return;
        }
    }
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
}

const session::ClassTotals* SizeClassModel::totalsAt(int row) const {
    return row >= 0 && row < rowCount() ? &m_rows[static_cast<size_t>(row)] : nullptr;
}

int SizeClassModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int SizeClassModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant SizeClassModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto& t = m_rows[static_cast<size_t>(index.row())];
    const uint64_t waste = t.freeSlotBytes + t.tailWaste;
    const double wastePct = t.spanBytes ? 100.0 * double(waste) / double(t.spanBytes) : 0.0;
    switch (role) {
        case Qt::DisplayRole:
            switch (index.column()) {
                case Class:
                    return t.sizeClass == 0 ? QStringLiteral("large")
                                            : QString::number(t.sizeClass);
                case ObjectSize:
                    return t.sizeClass == 0 ? QStringLiteral("> 32 KiB") : formatBytes(t.size);
                case Spans:
                    return formatCount(t.spans);
                case Objects:
                    return formatCount(t.objects);
                case BytesInUse:
                    return formatBytes(t.bytesInUse);
                case SpanBytes:
                    return formatBytes(t.spanBytes);
                // The share only (the bytes are in the tooltip and the total above): the table
                // fits a 1024-pixel-wide window.
                case Waste:
                    return QStringLiteral("%1%").arg(wastePct, 0, 'f', wastePct < 10 ? 1 : 0);
            }
            break;
        case kSortRole:
            switch (index.column()) {
                case Class:
                    return t.sizeClass;
                case ObjectSize:
                    return t.sizeClass == 0 ? qulonglong(1) << 40 : qulonglong(t.size);
                case Spans:
                    return qulonglong(t.spans);
                case Objects:
                    return qulonglong(t.objects);
                case BytesInUse:
                    return qulonglong(t.bytesInUse);
                case SpanBytes:
                    return qulonglong(t.spanBytes);
                case Waste:
                    return qulonglong(waste);
            }
            break;
        case kSizeClassRole:
            return t.sizeClass;
        case Qt::DecorationRole:
            if (index.column() == Class) return QColor::fromRgb(sizeClassColor(t.sizeClass));
            break;
        case Qt::TextAlignmentRole:
            return QVariant::fromValue(Qt::Alignment(index.column() == Class
                                                         ? Qt::AlignLeft | Qt::AlignVCenter
                                                         : Qt::AlignRight | Qt::AlignVCenter));
        case Qt::ToolTipRole:
            return tr("class %1: %2, %3 (%4 %5), %6 %7, %8 %9, %10 %11")
                .arg(t.sizeClass)
                .arg(countOf(t.spans, "span", "spans"), countOf(t.objects, "object", "objects"),
                     formatBytes(t.bytesInUse), termLabel(Term::Allocated),
                     formatBytes(t.freeSlotBytes), termLabel(Term::FreeSlots),
                     formatBytes(t.tailWaste), termLabel(Term::TailWaste))
                .arg(formatBytes(waste), termLabel(Term::Waste));
    }
    return {};
}

QVariant SizeClassModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, o, role);
    switch (section) {
        case Class:
            return tr("Class");
        case ObjectSize:
            return tr("Size");
        case Spans:
            return tr("Spans");
        case Objects:
            return tr("Objects");
        case BytesInUse:
            return capitalized(termLabel(Term::Allocated));
        case SpanBytes:
            return capitalized(termLabel(Term::InSpans));
        case Waste:
            return capitalized(termLabel(Term::Waste));
    }
    return {};
}

}  // namespace spanscope::ui
