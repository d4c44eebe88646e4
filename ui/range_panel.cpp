// RangePanel (see range_panel.h): three tables filled from one immutable RangeSnapshot.
#include "range_panel.h"

#include <QHeaderView>
#include <QToolButton>
#include <QVBoxLayout>

#include "format.h"
#include "range_class_model.h"

namespace spanscope::ui {

namespace {
QTableWidget* makeTable(const QStringList& headers) {
    auto* t = new QTableWidget(0, int(headers.size()));
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->horizontalHeader()->setStretchLastSection(true);
    t->setAlternatingRowColors(true);
    // Focus by click only: a table given focus at start-up would take the arrow keys, which step
    // the cursor (and the presenter) through the main window's shortcuts.
    t->setFocusPolicy(Qt::ClickFocus);
    return t;
}

void setRow(QTableWidget* t, int row, const QStringList& cells) {
    for (int c = 0; c < cells.size(); c++) {
        auto* item = new QTableWidgetItem(cells[c]);
        if (c > 0) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        t->setItem(row, c, item);
    }
}

QString seriesValue(const char* name, double v) {
    return QString::fromLatin1(name) == QLatin1String("HeapObjects")
               ? formatCount(uint64_t(v + 0.5))
               : formatBytes(uint64_t(v + 0.5));
}
}  // namespace

RangePanel::RangePanel(QWidget* parent)
    : QWidget(parent),
      m_title(new QLabel),
      m_tabs(new QTabWidget),
      m_summary(makeTable({tr("figure"), tr("value / min"), tr("mean"), tr("max")})),
      m_classes(makeTable({tr("class"), tr("size"), tr("allocated"), tr("freed"),
                           tr("bytes allocated"), tr("bytes freed"), tr("spans")})),
      m_gc(makeTable({tr("cycle / pause"), tr("start (s)"), tr("duration"), tr("heap live")})),
      m_jump(new QMenu(tr("Jump to"), this)) {
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(4, 4, 4, 4);
    auto* top = new QHBoxLayout;
    m_title->setWordWrap(true);
    top->addWidget(m_title, 1);
    auto* jump = new QToolButton;
    jump->setText(tr("Jump to"));
    jump->setMenu(m_jump);
    jump->setPopupMode(QToolButton::InstantPopup);
    top->addWidget(jump);
    lay->addLayout(top);
    m_tabs->addTab(m_summary, tr("Summary"));
    m_tabs->addTab(m_classes, tr("Size classes"));
    m_tabs->addTab(m_gc, tr("GC"));
    lay->addWidget(m_tabs, 1);
    setRange(nullptr);
}

void RangePanel::setRange(const RangePtr& range) {
    m_range = range;
    for (QTableWidget* t : {m_summary, m_classes, m_gc}) t->setRowCount(0);
    m_jump->clear();
    if (!range || !range->ok) {
        m_title->setText(range ? tr("Cannot read the range: %1").arg(range->error)
                               : tr("No range: Shift+drag on the timeline to select one."));
        m_jump->setEnabled(false);
        return;
    }
    const session::RangeStats& s = range->stats;
    m_title->setText(
        tr("<b>%1 – %2</b> (%3)")
            .arg(formatSeconds(s.t0), formatSeconds(s.t1), formatSeconds(s.t1 - s.t0)));
    fillSummary(s);
    fillClasses(s);
    fillGc(s);
    fillJumps(range->jumps);
}

void RangePanel::fillSummary(const session::RangeStats& s) {
    const QString none;
    std::vector<QStringList> rows = {
        {tr("objects allocated"), formatCount(s.allocObjects), none, none},
        {tr("objects freed"), formatCount(s.freedObjects), none, none},
        {tr("bytes allocated"), formatBytes(s.allocBytes), none, none},
        {tr("bytes freed"), formatBytes(s.freedBytes), none, none},
        // Net: the span tables at the two ends compared (a span taken and returned inside the
        // range is in neither); the Flow tab counts every span record per second.
        {tr("spans in use at the end, not at the start"), formatCount(s.spansTaken), none, none},
        {tr("spans in use at the start, gone at the end"), formatCount(s.spansReturned), none,
         none},
        {tr("GC cycles / sweeps started"), formatCount(s.cycles.size()), none, none},
        {tr("stop-the-world pauses"), formatCount(s.pauses.size()),
         s.pauses.empty() ? none : formatSeconds(int64_t(s.pauseTotalNs / s.pauses.size())),
         formatSeconds(s.longestPause.durationNs)}};
    for (const session::RangeSeries& r : s.series) {
        if (!r.stats.samples) continue;
        rows.push_back({QString::fromLatin1(r.name), seriesValue(r.name, double(r.stats.min)),
                        seriesValue(r.name, r.stats.mean),
                        seriesValue(r.name, double(r.stats.max))});
    }
    m_summary->setRowCount(int(rows.size()));
    for (size_t i = 0; i < rows.size(); i++) setRow(m_summary, int(i), rows[i]);
    m_summary->resizeColumnsToContents();
}

void RangePanel::fillClasses(const session::RangeStats& s) {
    int row = 0;
    m_classes->setRowCount(int(s.classes.size()));
    for (const session::ClassRangeStats& c : s.classes) {
        if (!RangeClassModel::shown(c)) continue;  // the size-class table's rows over a range
        setRow(m_classes, row++,
               {QString::number(c.sizeClass), c.sizeClass ? formatBytes(c.size) : tr("large"),
                formatCount(c.allocObjects), formatCount(c.freedObjects), formatBytes(c.allocBytes),
                formatBytes(c.freedBytes),
                QStringLiteral("%1 → %2").arg(c.spansAtStart).arg(c.spansAtEnd)});
    }
    m_classes->setRowCount(row);
    m_classes->resizeColumnsToContents();
}

void RangePanel::fillGc(const session::RangeStats& s) {
    m_gc->setRowCount(int(s.cycles.size() + s.pauses.size()));
    int row = 0;
    for (const session::GcCycle& c : s.cycles)
        setRow(m_gc, row++,
               {(c.kind == "gc" ? tr("GC %1") : tr("sweep %1")).arg(c.cycle),
                QString::number(c.startNs / 1e9, 'f', 4),
                c.endNs < 0 ? tr("running") : formatSeconds(c.endNs - c.startNs),
                formatBytes(c.heapLive)});
    for (const session::GcPause& p : s.pauses)
        setRow(m_gc, row++,
               {tr("  pause: GC %1 %2").arg(p.cycle).arg(QString::fromStdString(p.phase)),
                QString::number(p.startNs / 1e9, 'f', 6),
                QStringLiteral("%1 µs").arg(p.durationNs / 1000.0, 0, 'f', 1), QString()});
    m_gc->resizeColumnsToContents();
}

void RangePanel::fillJumps(const session::JumpTargets& j) {
    m_jump->setEnabled(true);
    auto add = [this](const QString& text, int64_t t) {
        QAction* a = m_jump->addAction(text, this, [this, t] { emit jumpRequested(t); });
        a->setEnabled(t >= 0);
    };
    add(tr("Peak heap"), j.peakHeap);
    add(tr("Peak fragmentation"), j.peakFragmentation);
    add(tr("Longest pause"), j.longestPause);
    if (j.cycleStarts.empty()) return;
    QMenu* cycles = m_jump->addMenu(tr("GC cycle / sweep"));
    const size_t step = std::max<size_t>(1, j.cycleStarts.size() / 40);  // at most about 40 entries
    for (size_t i = 0; i < j.cycleStarts.size(); i += step) {
        const auto [n, t] = j.cycleStarts[i];
        cycles->addAction(tr("%1 at %2").arg(n).arg(formatSeconds(t)), this,
                          [this, t = t] { emit jumpRequested(t); });
    }
}

}  // namespace spanscope::ui
