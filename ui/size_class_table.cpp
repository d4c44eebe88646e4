// SizeClassTable (see size_class_table.h).
#include "size_class_table.h"

#include <QHeaderView>
#include <QVBoxLayout>

#include "format.h"
#include "glossary.h"

namespace spanscope::ui {

SizeClassTable::SizeClassTable(QWidget* parent)
    : QWidget(parent),
      m_model(new SizeClassModel(this)),
      m_rangeModel(new RangeClassModel(this)),
      m_banner(new RangeBanner(this)),
      m_proxy(new QSortFilterProxyModel(this)),
      m_view(new QTableView(this)),
      m_total(new QLabel(this)) {
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(SizeClassModel::kSortRole);
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(SizeClassModel::SpanBytes, Qt::DescendingOrder);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(2, 2, 2, 2);
    lay->addWidget(m_banner);
    lay->addWidget(m_total);
    lay->addWidget(m_view);
    m_total->setText(tr("No session."));
}

void SizeClassTable::setMoment(const MomentPtr& m) {
    m_moment = m;
    m_model->setTotals(m ? m->classes : std::vector<session::ClassTotals>{});
    if (!m_range) showTotals();
}

void SizeClassTable::setRange(const RangePtr& r) {
    m_range = r && r->ok ? r : nullptr;
    m_rangeModel->setStats(m_range ? &m_range->stats : nullptr);
    const bool wantRange = m_range != nullptr;
    if (wantRange != showsRange()) {
        m_proxy->setSourceModel(wantRange ? static_cast<QAbstractItemModel*>(m_rangeModel)
                                          : m_model);
        // By bytes: allocated in the range, span bytes at the moment.
        m_view->sortByColumn(
            wantRange ? int(RangeClassModel::BytesAllocated) : int(SizeClassModel::SpanBytes),
            Qt::DescendingOrder);
    }
    showTotals();
}

void SizeClassTable::showTotals() {
    if (m_range) {
        const session::RangeStats& s = m_range->stats;
        uint64_t classes = 0;
        for (const auto& c : s.classes) classes += RangeClassModel::shown(c);
        m_banner->showRange(s.t0, s.t1, tr("per size class, what happened in the range"));
        m_total->setText(
            tr("%1: %2 objects allocated (%3), %4 freed (%5); spans: %6 taken, %7 returned")
                .arg(countOf(classes, "class", "classes"), formatCount(s.allocObjects),
                     formatBytes(s.allocBytes), formatCount(s.freedObjects),
                     formatBytes(s.freedBytes), formatCount(s.spansTaken))
                .arg(formatCount(s.spansReturned)));
        m_total->setToolTip(
            tr("Counted from the size-class counters at the range's two ends, and the span tables "
               "there "
               "(a span taken and returned inside the range is in neither)"));
        return;
    }
    m_banner->hide();
    const MomentPtr& m = m_moment;
    if (!m) {
        m_total->setText(tr("No session."));
        return;
    }
    uint64_t spans = 0, bytes = 0, inUse = 0, waste = 0, classes = 0;
    for (const auto& c : m->classes) {
        if (!c.spans) continue;
        classes++;
        spans += c.spans, bytes += c.spanBytes, inUse += c.bytesInUse,
            waste += c.freeSlotBytes + c.tailWaste;
    }
    m_total->setText(tr("%1, %2: %3 %4 = %5 %6 + %7 %8")
                         .arg(countOf(classes, "class", "classes"), countOf(spans, "span", "spans"),
                              formatBytes(bytes), termLabel(Term::InSpans), formatBytes(inUse),
                              termLabel(Term::Allocated))
                         .arg(formatBytes(waste), termLabel(Term::Waste)));
    m_total->setToolTip(termMeaning(Term::InSpans) + QLatin1Char('\n') +
                        termMeaning(Term::Allocated) + QLatin1Char('\n') +
                        termMeaning(Term::Waste));
}

}  // namespace spanscope::ui
