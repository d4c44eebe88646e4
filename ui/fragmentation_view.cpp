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
    if (c.requestedBytes == 0 || slotBytes <= 0) return 1.0;  // not counted (an older session): no padding shown
    return std::min(1.0, double(c.requestedBytes) / slotBytes);
}

FragmentationView::FragmentationView(QWidget* parent) : QWidget(parent) {
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(0, 0, 0, 0);
    lay->setSpacing(2);

    m_classChart = newChart(tr("Where span bytes go, by size class (at the cursor)"));
    m_bars = new QHorizontalPercentBarSeries;
    const char* names[kSets] = {"requested", "slot padding", "free slots", "tail waste"};
    const QColor colors[kSets] = {QColor(0x2f, 0xa8, 0x4f), QColor(0x9c, 0xd6, 0x7a), QColor(0xe0, 0xb0, 0x3a),
                                  QColor(0xd0, 0x50, 0x40)};
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
    m_cursor = new QLineSeries;
    m_cursor->setPen(QPen(QColor(200, 30, 30), 1.5));
    m_tAxis = new QValueAxis;
    m_tAxis->setLabelFormat(QStringLiteral("%.4g"));
    m_tAxis->setTitleText(tr("time (s)"));
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
    for (auto* s : {m_idle, m_largest}) {
        m_timeChart->addSeries(s);
        s->attachAxis(m_tAxis);
        s->attachAxis(m_mibAxis);
    }
    m_timeChart->legend()->markers(m_cursor).first()->setVisible(false);
    m_timeView = new QChartView(m_timeChart);
    m_timeView->setRenderHint(QPainter::Antialiasing);
    m_timeView->setMinimumHeight(170);
    lay->addWidget(m_timeView, 3);
    m_tabs = new QTabWidget;
    m_tabs->setDocumentMode(true);
    m_tabs->hide();
    lay->addWidget(m_tabs);
    setSeries(nullptr);
    setNiceTimeRange(m_tAxis, 0, 1, 5);
}

void FragmentationView::setCompact(bool on) {
    if (on == m_compact) return;
    m_compact = on;
    auto* lay = static_cast<QVBoxLayout*>(layout());
    if (on) {
        m_tabs->addTab(m_classView, tr("At the cursor"));
        m_tabs->addTab(m_timeView, tr("Over time"));
        m_tabs->show();
    } else {
        m_tabs->clear();
        lay->insertWidget(0, m_classView, 5);
        lay->insertWidget(1, m_timeView, 3);
        m_classView->show();
        m_timeView->show();
        m_tabs->hide();
    }
}

void FragmentationView::setMoment(const MomentPtr& m) {
    std::vector<const session::ClassTotals*> v;
    if (m)
        for (const auto& c : m->classes)
            if (c.spans && c.sizeClass > 0) v.push_back(&c);
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->spanBytes > b->spanBytes; });
    if (v.size() > size_t(kMaxClasses)) v.resize(kMaxClasses);
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->sizeClass > b->sizeClass; });  // small at top
    QStringList cats;
    QList<qreal> vals[kSets];
    for (auto* c : v) {
        cats << tr("%1 · %2").arg(formatBytes(c->size), formatBytes(c->spanBytes));
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
    if (m) {
        m_t = m->tNs;
        const double t = double(m_t) / 1e9;
        m_cursor->replace(QList<QPointF>{QPointF(t, 0), QPointF(t, 100)});
    }
}

void FragmentationView::setSeries(const SeriesPtr& s) {
    QList<QPointF> ratio, idle, largest;
    double maxMiB = 10;
    if (s) {
        for (const auto& h : s->heap) {
            const double t = double(h.tNs) / 1e9;
            const double r = h.heapInuse ? 100.0 * (1.0 - double(std::min(h.heapAlloc, h.heapInuse)) / double(h.heapInuse)) : 0.0;
            ratio << QPointF(t, r);
            idle << QPointF(t, double(h.heapIdle) / kMiB);
            largest << QPointF(t, double(h.largestFreeRun) / kMiB);
            maxMiB = std::max(maxMiB, double(h.heapIdle) / kMiB);
        }
        setNiceTimeRange(m_tAxis, double(s->t0) / 1e9, double(std::max(s->t1, s->t0 + 1)) / 1e9, 5);
    }
    m_ratio->replace(ratio);
    m_idle->replace(idle);
    m_largest->replace(largest);
    m_mibAxis->setRange(0, niceTop(maxMiB));
}

QStringList FragmentationView::categories() const { return m_catAxis->categories(); }

QList<qreal> FragmentationView::values(int set) const {
    QList<qreal> out;
    for (qsizetype i = 0; i < m_sets[set]->count(); i++) out << m_sets[set]->at(i);
    return out;
}

}  // namespace spanscope::ui
