// The size-class panel: a sortable QTableView over SizeClassModel (through a proxy sorting on the
// model's numeric kSortRole), with a one-line total above it. While a time range is selected
// (setRange) it shows the range instead: RangeClassModel under a RangeBanner, totals equal to the
// range panel's; setRange(nullptr) goes back to the moment.
#pragma once
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QWidget>

#include "range_banner.h"
#include "range_class_model.h"
#include "range_client.h"
#include "size_class_model.h"
#include "snapshots.h"

namespace spanscope::ui {

class SizeClassTable : public QWidget {
    Q_OBJECT
public:
    explicit SizeClassTable(QWidget* parent = nullptr);
    void setMoment(const MomentPtr& m);
    void setRange(const RangePtr& r);  // nullptr (or not ok): the moment again
    bool showsRange() const { return m_proxy->sourceModel() == m_rangeModel; }
    QString totalText() const { return m_total->text(); }
    RangeBanner* banner() const { return m_banner; }
    RangeClassModel* rangeModel() { return m_rangeModel; }
    SizeClassModel* model() { return m_model; }
    QTableView* view() { return m_view; }
    QSortFilterProxyModel* proxy() { return m_proxy; }

private:
    void showTotals();
    SizeClassModel* m_model;
    RangeClassModel* m_rangeModel;
    RangeBanner* m_banner;
    MomentPtr m_moment;
    RangePtr m_range;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_view;
    QLabel* m_total;
};

}  // namespace spanscope::ui
