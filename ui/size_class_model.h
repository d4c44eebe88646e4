// Table model of the size classes at the chosen moment: class, object size, spans, objects in use,
// bytes in use, span bytes, waste (free slots + tail, with its share of the span bytes). Only
// classes with spans are rows. data() reads the snapshot in memory; sort through a
// QSortFilterProxyModel on kSortRole.
#pragma once
#include <QAbstractTableModel>
#include <vector>

#include "spanscope/session.h"

namespace spanscope::ui {

class SizeClassModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Class, ObjectSize, Spans, Objects, BytesInUse, SpanBytes, Waste, ColumnCount };
    static constexpr int kSortRole = Qt::UserRole;  // numbers, for sorting
    static constexpr int kSizeClassRole = Qt::UserRole + 1;

    explicit SizeClassModel(QObject* parent = nullptr);
    void setTotals(const std::vector<session::ClassTotals>& totals);
    const session::ClassTotals* totalsAt(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

private:
    std::vector<session::ClassTotals> m_rows;
};

}  // namespace spanscope::ui
