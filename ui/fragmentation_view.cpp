// FragmentationView (see fragmentation_view.h).
#include "fragmentation_view.h"

#include <QLegendMarker>
#include <QTabWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "chart_util.h"
#include "format.h"

namespace spanscope::ui {
namespace {
constexpr double kMiB = 1024.0 * 1024.0;
QChart* newChart(const QString& title) {
    auto* c = new QChart;
    c->setTitle(title);
    c->setMargins(QMargins(2, 2, 2, 2));
    c->setAnimationOptions(QChart::NoAnimation);
    c->legend()->setAlignment(Qt::AlignBottom);
    QFont f = c->titleFont();
    f.setBold(true);
    c->setTitleFont(f);
    return c;
}
}  // namespace

double requestedShare(const session::ClassTotals& c) {
    const double slotBytes = double(c.mallocs) * double(c.size);
    if (c.requestedBytes == 0 || slotBytes <= 0)
        return 1.0;  // not counted (an older session): no padding shown
    return std::min(1.0, double(c.requestedBytes) / slotBytes);
}

FragmentationView::FragmentationView(QWidget* parent) : QWidget(parent), m_banner(new RangeBanner) {
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(0, 0, 0, 0);
    lay->setSpacing(2);
    lay->addWidget(m_banner);

    m_classChart = newChart(tr("Where span bytes go, by size class (at the cursor)"));
    m_bars = new QHorizontalPercentBarSeries;
    const char* names[kSets] = {"requested", "slot padding", "free slots", "tail waste"};
    const QColor colors[kSets] = {QColor(0x2f, 0xa8, 0x4f), QColor(0x9c, 0xd6, 0x7a),
                                  QColor(0xe0, 0xb0, 0x3a), QColor(0xd0, 0x50, 0x40)};
    for (int i = 0; i < kSets; i++) {
        m_sets[i] = new QBarSet(tr(names[i]));
        m_sets[i]->setColor(colors[i]);
        m_sets[i]->setBorderColor(colors[i].darker(120));
        m_bars->append(m_sets[i]);
    }
    m_bars->setBarWidth(0.75);
    m_classChart->addSeries(m_bars);
    m_catAxis = new QBarCategoryAxis;
    m_catAxis->setTruncateLabels(false);
    m_bytesAxis = new QValueAxis;
    m_bytesAxis->setRange(0, 100);
    m_bytesAxis->setTickCount(5);
    m_bytesAxis->setLabelFormat(QStringLiteral("%.0f%%"));
    m_classChart->addAxis(m_catAxis, Qt::AlignLeft);
    m_classChart->addAxis(m_bytesAxis, Qt::AlignBottom);
    m_bars->attachAxis(m_catAxis);
    m_bars->attachAxis(m_bytesAxis);
    m_classView = new QChartView(m_classChart);
    m_classView->setRenderHint(QPainter::Antialiasing);
    m_classView->setMinimumHeight(180);
    lay->addWidget(m_classView, 5);
    // As many bars as their labels have room for (Qt Charts skips every other label otherwise):
    // when the plot's height changes, the classes are chosen again.
    connect(m_classChart, &QChart::plotAreaChanged, this, [this] {
        const int fit = rowsThatFit();
        if (fit == m_rowsFit) return;
        m_rowsFit = fit;
        if (m_range)
            showRangeClasses();
        else
            showMomentClasses();
    });

    m_timeChart = newChart(tr("Fragmentation over time"));
    m_ratio = new QLineSeries;
    m_ratio->setName(tr("1 − alloc/in-use (%)"));
    m_ratio->setPen(QPen(QColor(0xd0, 0x50, 0x40), 2));
    m_idle = new QLineSeries;
    m_idle->setName(tr("free pages (MiB)"));
    m_idle->setPen(QPen(QColor(0x7a, 0x7a, 0x86), 1.6));
    m_largest = new QLineSeries;
    m_largest->setName(tr("largest free run (MiB)"));
    m_largest->setPen(QPen(QColor(0x2b, 0x8c, 0xe0), 1.6, Qt::DashLine));
    m_fragBytes = new QLineSeries;
    m_fragBytes->setName(tr("in use − alloc (MiB)"));
    m_fragBytes->setPen(QPen(QColor(0xb0, 0x40, 0xc0), 1.6));
    m_cursor = new QLineSeries;
    m_cursor->setPen(QPen(QColor(200, 30, 30), 1.5));
    m_tAxis = new QValueAxis;
    // The unit is in the labels ("1.5 s"), not in an axis title: the chart is short beside the
    // heap map, and a title line under the labels left them too little height in presenter
    // mode's large type (Qt then elides every label to "…").
    m_tAxis->setLabelFormat(QStringLiteral("%.4g s"));
    m_pctAxis = new QValueAxis;
    m_pctAxis->setRange(0, 100);
    m_pctAxis->setLabelFormat(QStringLiteral("%.0f%%"));
    m_mibAxis = new QValueAxis;
    m_mibAxis->setLabelFormat(QStringLiteral("%.4g"));
    m_mibAxis->setTitleText(tr("MiB"));
    m_timeChart->addAxis(m_tAxis, Qt::AlignBottom);
    m_timeChart->addAxis(m_pctAxis, Qt::AlignLeft);
    m_timeChart->addAxis(m_mibAxis, Qt::AlignRight);
    for (auto* s : {m_ratio, m_cursor}) {
        m_timeChart->addSeries(s);
        s->attachAxis(m_tAxis);
        s->attachAxis(m_pctAxis);
    }
    for (auto* s : {m_idle, m_largest, m_fragBytes}) {
        m_timeChart->addSeries(s);
        s->attachAxis(m_tAxis);
        s->attachAxis(m_mibAxis);
    }
    m_timeChart->legend()->markers(m_cursor).first()->setVisible(false);
    m_fragBytes->setVisible(false);  // over a range only
    m_timeChart->legend()->markers(m_fragBytes).first()->setVisible(false);
    // As many value ticks as their labels have height for: Qt Charts elides every label of an axis
    // to "…" when they would overlap (the chart beside the heap map at 1024x640 is ~70 px high).
    connect(m_timeChart, &QChart::plotAreaChanged, this, [this](const QRectF& plot) {
        const double lineH = QFontMetricsF(m_pctAxis->labelsFont()).height() * 1.4;
        const int fit = int(plot.height() / lineH) + 1;
        const int ticks = fit >= 5 ? 5 : fit >= 3 ? 3 : 2;  // quarters, halves: round labels
        if (ticks == m_pctAxis->tickCount()) return;
        m_pctAxis->setTickCount(ticks);
        m_mibAxis->setTickCount(ticks);
    });
    m_timeView = new QChartView(m_timeChart);
    m_timeView->setRenderHint(QPainter::Antialiasing);
    m_timeView->setMinimumHeight(170);
    lay->addWidget(m_timeView, 3);
    m_tabs = new QTabWidget;
    m_tabs->setDocumentMode(true);
    m_tabs->hide();
    lay->addWidget(m_tabs);
    setSeries(nullptr);
    setNiceTimeRange(m_tAxis, 0, 1, 5, " s");
}

void FragmentationView::setCompact(bool on) {
    if (on == m_compact) return;
    m_compact = on;
    auto* lay = static_cast<QVBoxLayout*>(layout());
    if (on) {
        m_tabs->addTab(m_classView, m_range ? tr("Start and end") : tr("At the cursor"));
        m_tabs->addTab(m_timeView, m_range ? tr("Over the range") : tr("Over time"));
        m_tabs->show();
    } else {
        m_tabs->clear();
        lay->insertWidget(1, m_classView, 5);  // under the banner
        lay->insertWidget(2, m_timeView, 3);
        m_classView->show();
        m_timeView->show();
        m_tabs->hide();
    }
}

void FragmentationView::setMoment(const MomentPtr& m) {
    m_moment = m;
    if (m) {
        m_t = m->tNs;
        const double t = double(m_t) / 1e9;
        m_cursor->replace(QList<QPointF>{QPointF(t, 0), QPointF(t, 100)});
    }
    if (!m_range) showMomentClasses();
}

void FragmentationView::setRange(const RangePtr& r) {
    m_range = r && r->ok && r->start && r->end ? r : nullptr;
    if (m_range) {
        const session::RangeStats& st = m_range->stats;
        const session::SeriesStats* f = st.find("Fragmentation");
        m_banner->showRange(
            st.t0, st.t1,
            f && f->samples ? tr("fragmentation (HeapInuse − HeapAlloc) min %1, mean %2, max %3")
                                  .arg(formatBytes(f->min), formatBytes(uint64_t(f->mean + 0.5)),
                                       formatBytes(f->max))
                            : tr("no heap sample in or before the range"),
            f && f->samples ? tr("fragmentation mean %1").arg(formatBytes(uint64_t(f->mean + 0.5)))
                            : QString());
        m_classChart->setTitle(
            tr("Where span bytes go, by size class: at the range's start and end"));
        m_timeChart->setTitle(tr("Fragmentation over the range"));
        showRangeClasses();
    } else {
        m_banner->hide();
        m_classChart->setTitle(tr("Where span bytes go, by size class (at the cursor)"));
        m_timeChart->setTitle(tr("Fragmentation over time"));
        showMomentClasses();
    }
    m_fragBytes->setVisible(m_range != nullptr);
    m_timeChart->legend()->markers(m_fragBytes).first()->setVisible(m_range != nullptr);
    m_cursor->setVisible(m_range == nullptr);
    if (m_compact) {
        m_tabs->setTabText(0, m_range ? tr("Start and end") : tr("At the cursor"));
        m_tabs->setTabText(1, m_range ? tr("Over the range") : tr("Over time"));
    }
    applyTimeAxis();
}

// The bars whose labels fit the plot's height, one label line each with a little space (Qt Charts
// leaves out every other category label when they overlap). Before the first layout: as many as
// wanted.
int FragmentationView::rowsThatFit() const {
    const double h = m_classChart->plotArea().height();
    if (h <= 0) return kMaxClasses;
    const QFontMetrics fm(m_catAxis->labelsFont());
    return std::max(1, int(h / (fm.height() + 2)));
}

void FragmentationView::showMomentClasses() {
    std::vector<const session::ClassTotals*> v;
    if (m_moment)
        for (const auto& c : m_moment->classes)
            if (c.spans && c.sizeClass > 0) v.push_back(&c);
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->spanBytes > b->spanBytes; });
    const size_t fit = size_t(std::min(kMaxClasses, rowsThatFit()));
    if (v.size() > fit) v.resize(fit);
    std::sort(v.begin(), v.end(),
              [](auto* a, auto* b) { return a->sizeClass > b->sizeClass; });  // small at top
    std::vector<std::pair<QString, const session::ClassTotals*>> rows;
    for (auto* c : v)
        rows.emplace_back(tr("%1 · %2").arg(formatBytes(c->size), formatBytes(c->spanBytes)), c);
    showClasses(rows);
}

// The classes holding the most span bytes at either end of the range, each as two bars: "start"
// (the heap at t0) above "end" (at t1). A class with no span at one end shows an empty bar there.
void FragmentationView::showRangeClasses() {
    const auto& a = m_range->start->classes;
    const auto& b = m_range->end->classes;
    auto spanBytes = [](const std::vector<session::ClassTotals>& v, size_t i) {
        return i < v.size() ? v[i].spanBytes : 0;
    };
    std::vector<size_t> v;
    for (size_t i = 1; i < std::max(a.size(), b.size()); i++)
        if (spanBytes(a, i) || spanBytes(b, i)) v.push_back(i);
    auto most = [&](size_t i) { return std::max(spanBytes(a, i), spanBytes(b, i)); };
    std::sort(v.begin(), v.end(), [&](size_t x, size_t y) { return most(x) > most(y); });
    const size_t pairs = size_t(std::max(1, std::min(kMaxRangeClasses, rowsThatFit() / 2)));
    if (v.size() > pairs) v.resize(pairs);
    std::sort(v.begin(), v.end(), std::greater<>());  // small at top
    static const session::ClassTotals kNone{};
    std::vector<std::pair<QString, const session::ClassTotals*>> rows;
    for (size_t i : v) {
        const session::ClassTotals* end = i < b.size() ? &b[i] : &kNone;
        const session::ClassTotals* start = i < a.size() ? &a[i] : &kNone;
        const uint32_t size = start->size ? start->size : end->size;
        // Horizontal bars run bottom-up: the end first, so that the start is drawn above it.
        rows.emplace_back(tr("%1 end · %2").arg(formatBytes(size), formatBytes(end->spanBytes)),
                          end);
        rows.emplace_back(tr("%1 start · %2").arg(formatBytes(size), formatBytes(start->spanBytes)),
                          start);
    }
    showClasses(rows);
}

void FragmentationView::showClasses(
    const std::vector<std::pair<QString, const session::ClassTotals*>>& rows) {
    QStringList cats;
    QList<qreal> vals[kSets];
    for (const auto& [label, c] : rows) {
        cats << label;
        const double requested = double(c->bytesInUse) * requestedShare(*c);
        vals[0] << requested;
        vals[1] << double(c->bytesInUse) - requested;
        vals[2] << double(c->freeSlotBytes);
        vals[3] << double(c->tailWaste);
    }
    // Replace the categories only when they change (that re-lays out the chart).
    if (m_catAxis->categories() != cats) {
        m_catAxis->clear();
        m_catAxis->append(cats);
    }
    for (int i = 0; i < kSets; i++) {
        if (m_sets[i]->count() != vals[i].size()) {
            m_sets[i]->remove(0, m_sets[i]->count());
            m_sets[i]->append(vals[i]);
        } else {
            for (qsizetype k = 0; k < vals[i].size(); k++) m_sets[i]->replace(k, vals[i][k]);
        }
    }
}

void FragmentationView::setSeries(const SeriesPtr& s) {
    m_seriesData = s;
    QList<QPointF> ratio, idle, largest, frag;
    double maxMiB = 10;
    if (s) {
        for (const auto& h : s->heap) {
            const double t = double(h.tNs) / 1e9;
            const double r = h.heapInuse
                                 ? 100.0 * (1.0 - double(std::min(h.heapAlloc, h.heapInuse)) /
                                                      double(h.heapInuse))
                                 : 0.0;
            ratio << QPointF(t, r);
            idle << QPointF(t, double(h.heapIdle) / kMiB);
            largest << QPointF(t, double(h.largestFreeRun) / kMiB);
            frag << QPointF(
                t, double(h.heapInuse > h.heapAlloc ? h.heapInuse - h.heapAlloc : 0) / kMiB);
            maxMiB = std::max({maxMiB, double(h.heapIdle) / kMiB, frag.back().y()});
        }
    }
    m_ratio->replace(ratio);
    m_idle->replace(idle);
    m_largest->replace(largest);
    m_fragBytes->replace(frag);
    m_mibAxis->setRange(0, niceTop(maxMiB));
    applyTimeAxis();
}

// The session's series range at the moment, the selected range over one.
void FragmentationView::applyTimeAxis() {
    if (m_range) {
        const session::RangeStats& st = m_range->stats;
        setNiceTimeRange(m_tAxis, double(st.t0) / 1e9, double(std::max(st.t1, st.t0 + 1)) / 1e9, 5,
                         " s");
    } else if (m_seriesData) {
        setNiceTimeRange(m_tAxis, double(m_seriesData->t0) / 1e9,
                         double(std::max(m_seriesData->t1, m_seriesData->t0 + 1)) / 1e9, 5, " s");
    }
}

QFont FragmentationView::classLabelsFont() const {
    return m_catAxis->labelsFont();
}

QStringList FragmentationView::categories() const {
    return m_catAxis->categories();
}

QList<qreal> FragmentationView::values(int set) const {
    QList<qreal> out;
    for (qsizetype i = 0; i < m_sets[set]->count(); i++) out << m_sets[set]->at(i);
    return out;
}

}  // namespace spanscope::ui
