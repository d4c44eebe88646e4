// Table model of the size classes over a time range (the size-class table while a range is
// selected): per class, objects and bytes allocated and freed in the range, spans in use at its
// start and end, and spans taken from and returned to the heap in it. The rows and figures are the
// range's session::RangeStats, the same the range panel and `spanscope-cli report --from --to`
// show. Columns mirror SizeClassModel's roles (kSortRole, kSizeClassRole) so one view serves both.
#pragma once
#include <QAbstractTableModel>
#include <vector>

#include "spanscope/session_range.h"

namespace spanscope::ui {

class RangeClassModel : public QAbstractTableModel {
    Q_OBJECT
public:
    // TakenReturned: "taken / returned" in one column (the table fits a 700-pixel-wide dock); it
    // sorts by spans taken.
    enum Column {
        Class,
        ObjectSize,
        Allocated,
        Freed,
        BytesAllocated,
        BytesFreed,
        Spans,
        TakenReturned,
        ColumnCount
    };
    // Classes with nothing in the range (no allocation, free, span or span change) are left out.
    static bool shown(const session::ClassRangeStats& c);

    explicit RangeClassModel(QObject* parent = nullptr);
    void setStats(const session::RangeStats* stats);  // nullptr: empty
    const session::ClassRangeStats* statsAt(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

private:
    std::vector<session::ClassRangeStats> m_rows;
};

}  // namespace spanscope::ui
