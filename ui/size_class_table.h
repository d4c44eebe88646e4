// The size-class panel: a sortable QTableView over SizeClassModel (through a proxy sorting on the
// model's numeric kSortRole), with a one-line total above it.
#pragma once
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QWidget>

#include "size_class_model.h"
#include "snapshots.h"

namespace spanscope::ui {

class SizeClassTable : public QWidget {
    Q_OBJECT
public:
    explicit SizeClassTable(QWidget* parent = nullptr);
    void setMoment(const MomentPtr& m);
    SizeClassModel* model() { return m_model; }
    QTableView* view() { return m_view; }
    QSortFilterProxyModel* proxy() { return m_proxy; }

private:
    SizeClassModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_view;
    QLabel* m_total;
};

}  // namespace spanscope::ui
