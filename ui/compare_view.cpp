// CompareWindow (see compare_view.h).
#include "compare_view.h"

#include <QElapsedTimer>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineSeries>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSplitter>
#include <QThread>
#include <QVBoxLayout>
#include <algorithm>

#include "chart_util.h"
#include "export.h"
#include "format.h"
#include "snapshots.h"

namespace spanscope::ui {

namespace {
constexpr double kMiB = 1024.0 * 1024.0;

CompareSide readSide(const QString& path) {
    CompareSide s;
    s.path = path;
    std::string err;
    auto r = session::SessionReader::open(path.toStdString(), &err);
    if (!r) {
        s.error = QString::fromStdString(err);
        return s;
    }
    s.summary = session::sessionSummary(*r);
    s.heap = decimate(r->heapSeries(0, r->info().endNs), 2000);
    s.cycles = r->gcCycles(0, r->info().endNs);
    return s;
}

QTableWidgetItem* cell(const QString& text, bool right = true) {
    auto* i = new QTableWidgetItem(text);
    if (right) i->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return i;
}

QString figureText(const char* name, int64_t v) {
    const QString n = QString::fromLatin1(name);
    const QString sign = v < 0 ? QStringLiteral("−") : QString();
    const uint64_t m = uint64_t(v < 0 ? -v : v);
    // Durations in the unit that suits them: GOGC=400's 38 pauses of 0.402 ms in all are not "0.000
    // s".
    if (n.endsWith(QLatin1String("Ns"))) return sign + formatDuration(m);
    if (n.startsWith(QLatin1String("peak")) || n.startsWith(QLatin1String("mean")) ||
        n.startsWith(QLatin1String("end")) || n == QLatin1String("totalAlloc") ||
        n == QLatin1String("bytes") || n == QLatin1String("waste"))
        return sign + formatBytes(m);
    return sign + formatCount(m);
}

QString deltaText(const char* name, int64_t d) {
    return (d > 0 ? QStringLiteral("+") : QString()) + figureText(name, d);
}

QTableWidget* makeTable(const QStringList& headers) {
    auto* t = new QTableWidget(0, int(headers.size()));
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setAlternatingRowColors(true);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}
}  // namespace

CompareWindow::CompareWindow(const QString& a, const QString& b, QWidget* parent)
    : QWidget(parent, Qt::Window),
      m_title(new QLabel),
      m_align(new QComboBox),
      m_cycle(new QSpinBox),
      m_chartView(new QChartView),
      m_x(new QValueAxis),
      m_y(new QValueAxis),
      m_summary(makeTable({tr("figure"), tr("a"), tr("b"), tr("b − a")})),
      m_classes(makeTable({tr("class"), tr("size"), tr("spans a → b"), tr("objects Δ"),
                           tr("bytes Δ"), tr("waste Δ"), tr("mallocs Δ")})) {
    setWindowTitle(tr("spanscope: compare"));
    resize(1200, 800);
    auto* lay = new QVBoxLayout(this);
    m_title->setWordWrap(true);
    m_title->setText(tr("Reading %1 and %2…").arg(a, b));
    lay->addWidget(m_title);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Align the timelines:")));
    m_align->addItems({tr("at their starts"), tr("at the start of GC cycle")});
    bar->addWidget(m_align);
    m_cycle->setRange(1, 100000);
    m_cycle->setEnabled(false);
    bar->addWidget(m_cycle);
    bar->addStretch(1);
    auto* exportButton = new QPushButton(tr("Export as PNG or SVG…"));
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export the comparison to"), QString(),
                                         tr("PNG image (*.png);;SVG drawing (*.svg)"));
        QString err;
        if (!path.isEmpty() && !exportTo(path, &err))
            QMessageBox::warning(this, tr("Export"), tr("Cannot export: %1").arg(err));
    });
    bar->addWidget(exportButton);
    lay->addLayout(bar);
    auto* chart = new QChart;
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->setAlignment(Qt::AlignTop);
    chart->addAxis(m_x, Qt::AlignBottom);
    chart->addAxis(m_y, Qt::AlignLeft);
    m_x->setTitleText(tr("time (s)"));
    m_y->setTitleText(tr("MiB"));
    m_chartView->setChart(chart);
    m_chartView->setRenderHint(QPainter::Antialiasing);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_chartView);
    auto* frags = new QSplitter(Qt::Horizontal);
    for (FragChart& f : m_frag) {
        auto* c = new QChart;
        c->setAnimationOptions(QChart::NoAnimation);
        c->legend()->setAlignment(Qt::AlignBottom);
        c->setMargins(QMargins(2, 2, 2, 2));
        f.x = new QValueAxis, f.mib = new QValueAxis, f.pct = new QValueAxis;
        f.x->setTitleText(tr("time (s)"));
        f.mib->setTitleText(tr("MiB"));
        f.mib->setLabelFormat(QStringLiteral("%.4g"));
        f.pct->setRange(0, 100);
        f.pct->setLabelFormat(QStringLiteral("%.0f%%"));
        c->addAxis(f.x, Qt::AlignBottom);
        c->addAxis(f.mib, Qt::AlignLeft);
        c->addAxis(f.pct, Qt::AlignRight);
        f.view = new QChartView(c);
        f.view->setRenderHint(QPainter::Antialiasing);
        frags->addWidget(f.view);
    }
    split->addWidget(frags);
    auto* tables = new QSplitter(Qt::Horizontal);
    tables->addWidget(m_summary);
    tables->addWidget(m_classes);
    tables->setSizes({420, 780});
    split->addWidget(tables);
    split->setSizes({300, 230, 270});
    lay->addWidget(split, 1);
    connect(m_align, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_cycle->setEnabled(i == 1);
        setAlignment(i == 1 ? Align::Cycle : Align::Start, m_cycle->value());
    });
    connect(m_cycle, &QSpinBox::valueChanged, this, [this](int n) {
        if (m_align->currentIndex() == 1) setAlignment(Align::Cycle, n);
    });
    QPointer<CompareWindow> self(this);
    m_thread = QThread::create([self, a, b] {
        QElapsedTimer timer;
        timer.start();
        auto d = std::make_shared<CompareData>();
        d->a = readSide(a);
        d->b = readSide(b);
        d->ms = double(timer.nsecsElapsed()) / 1e6;
        if (self)
            QMetaObject::invokeMethod(
                self,
                [self, d] {
                    if (self) self->showData(d);
                },
                Qt::QueuedConnection);
    });
    m_thread->start();
}

CompareWindow::~CompareWindow() {
    m_thread->wait();
    delete m_thread;
}

void CompareWindow::showData(const CompareDataPtr& d) {
    m_data = d;
    if (!d->a.error.isEmpty() || !d->b.error.isEmpty()) {
        m_title->setText(
            tr("Cannot compare: %1").arg(!d->a.error.isEmpty() ? d->a.error : d->b.error));
        m_title->setStyleSheet(QStringLiteral("QLabel { color: #7a1712; font-weight: 600; }"));
        emit loaded();
        return;
    }
    m_title->setText(
        tr("<b>a</b>: %1 (%2, %3)<br><b>b</b>: %4 (%5, %6)")
            .arg(d->a.path,
                 QString::fromStdString(d->a.summary.program).section(QLatin1Char('/'), -1),
                 formatSeconds(d->a.summary.durationNs), d->b.path,
                 QString::fromStdString(d->b.summary.program).section(QLatin1Char('/'), -1),
                 formatSeconds(d->b.summary.durationNs)));
    m_cycle->setMaximum(
        int(std::max<uint64_t>(1, std::max(d->a.summary.cycles, d->b.summary.cycles))));
    fillTables();
    fillChart();
    fillFragmentation();
    emit loaded();
}

void CompareWindow::setAlignment(Align how, int cycle) {
    m_offsetA = m_offsetB = 0;
    if (how == Align::Cycle && m_data) {
        auto startOf = [cycle](const CompareSide& s) -> int64_t {
            for (const session::GcCycle& c : s.cycles)
                if (c.cycle == cycle) return c.startNs;
            return 0;
        };
        m_offsetA = startOf(m_data->a);
        m_offsetB = startOf(m_data->b);
    }
    if (m_data) fillChart(), fillFragmentation();
}

void CompareWindow::fillTables() {
    const auto& a = m_data->a.summary;
    const auto& b = m_data->b.summary;
    const auto figures = session::summaryFigures(a, b);
    m_summary->setRowCount(int(figures.size()));
    for (size_t i = 0; i < figures.size(); i++) {
        const auto& f = figures[i];
        m_summary->setItem(int(i), 0, cell(QString::fromLatin1(f.name), false));
        m_summary->setItem(int(i), 1, cell(figureText(f.name, int64_t(f.a))));
        m_summary->setItem(int(i), 2, cell(figureText(f.name, int64_t(f.b))));
        m_summary->setItem(int(i), 3, cell(deltaText(f.name, f.delta())));
    }
    m_summary->resizeColumnsToContents();
    const size_t n = std::max(a.classes.size(), b.classes.size());
    m_classes->setRowCount(int(n));
    int row = 0;
    const session::ClassSummary none{};
    for (size_t i = 0; i < n; i++) {
        const auto& ca = i < a.classes.size() ? a.classes[i] : none;
        const auto& cb = i < b.classes.size() ? b.classes[i] : none;
        const auto f = session::classFigures(ca, cb);
        if (std::all_of(f.begin(), f.end(),
                        [](const session::DiffFigure& x) { return !x.a && !x.b; }))
            continue;
        m_classes->setItem(row, 0, cell(QString::number(i)));
        m_classes->setItem(row, 1, cell(i ? formatBytes(std::max(ca.size, cb.size)) : tr("large")));
        m_classes->setItem(row, 2, cell(QStringLiteral("%1 → %2").arg(f[0].a).arg(f[0].b)));
        for (int k = 1; k <= 4; k++)
            m_classes->setItem(row, 2 + k,
                               cell(deltaText(f[size_t(k)].name, f[size_t(k)].delta())));
        row++;
    }
    m_classes->setRowCount(row);
    m_classes->resizeColumnsToContents();
}

void CompareWindow::fillChart() {
    QChart* chart = m_chartView->chart();
    chart->removeAllSeries();
    struct Def {
        const char* name;
        QColor color;
        uint64_t (*value)(const session::HeapSample&);
    };
    const Def defs[] = {{"in use", QColor(0x2f, 0xa8, 0x4f),
                         [](const session::HeapSample& h) { return h.heapInuse; }},
                        {"allocated", QColor(0x1f, 0x6f, 0xd0),
                         [](const session::HeapSample& h) { return h.heapAlloc; }}};
    double x0 = 0, x1 = 0.001, top = 0;
    for (int side = 0; side < 2; side++) {
        const CompareSide& s = side ? m_data->b : m_data->a;
        const int64_t off = side ? m_offsetB : m_offsetA;
        for (const Def& d : defs) {
            auto* ser = new QLineSeries;
            ser->setName(QStringLiteral("%1: %2").arg(
                side ? QStringLiteral("b") : QStringLiteral("a"), tr(d.name)));
            ser->setPen(QPen(d.color, side ? 1.6 : 2.2, side ? Qt::DashLine : Qt::SolidLine));
            QList<QPointF> pts;
            pts.reserve(qsizetype(s.heap.size()));
            for (const session::HeapSample& h : s.heap) {
                const double x = double(h.tNs - off) / 1e9, y = double(d.value(h)) / kMiB;
                pts.append(QPointF(x, y));
                x0 = std::min(x0, x), x1 = std::max(x1, x), top = std::max(top, y);
            }
            ser->replace(pts);
            chart->addSeries(ser);
            ser->attachAxis(m_x);
            ser->attachAxis(m_y);
        }
    }
    setNiceTimeRange(m_x, x0, x1);
    m_y->setRange(0, niceTop(std::max(top, 0.001)));
}

// Each side's fragmentation on its own chart, both on the same axes: the time range of both (as
// aligned), one MiB scale (the higher peak) and 0-100 %.
void CompareWindow::fillFragmentation() {
    auto bytes = [](const session::HeapSample& h) {
        return h.heapInuse > h.heapAlloc ? h.heapInuse - h.heapAlloc : 0;
    };
    double x0 = 0, x1 = 0.001, top = 0;
    for (int side = 0; side < 2; side++) {
        const CompareSide& s = side ? m_data->b : m_data->a;
        const int64_t off = side ? m_offsetB : m_offsetA;
        QList<QPointF> mib, pct;
        for (const session::HeapSample& h : s.heap) {
            const double x = double(h.tNs - off) / 1e9;
            mib.append(QPointF(x, double(bytes(h)) / kMiB));
            pct.append(
                QPointF(x, h.heapInuse ? 100.0 * double(bytes(h)) / double(h.heapInuse) : 0.0));
            x0 = std::min(x0, x), x1 = std::max(x1, x), top = std::max(top, mib.back().y());
        }
        QChart* c = m_frag[side].view->chart();
        c->removeAllSeries();
        auto* sb = new QLineSeries;
        sb->setName(tr("in use − alloc (MiB)"));
        sb->setPen(QPen(QColor(0xd0, 0x5a, 0x1f), 2));
        sb->replace(mib);
        auto* sp = new QLineSeries;
        sp->setName(tr("1 − alloc/in-use (%)"));
        sp->setPen(QPen(QColor(0x7a, 0x7a, 0x86), 1.4, Qt::DashLine));
        sp->replace(pct);
        c->addSeries(sb);
        c->addSeries(sp);
        sb->attachAxis(m_frag[side].x), sb->attachAxis(m_frag[side].mib);
        sp->attachAxis(m_frag[side].x), sp->attachAxis(m_frag[side].pct);
        const session::SessionSummary& sum = s.summary;
        c->setTitle(tr("<b>%1</b>: fragmentation, peak %2, mean %3")
                        .arg(side ? QStringLiteral("b") : QStringLiteral("a"),
                             formatBytes(sum.peakFragmentation),
                             formatBytes(sum.meanFragmentation)));
    }
    for (FragChart& f : m_frag) {
        setNiceTimeRange(f.x, x0, x1, 5);
        f.mib->setRange(0, niceTop(std::max(top, 0.001)));
    }
}

std::pair<double, double> CompareWindow::fragmentationAxis(int side, bool bytes) const {
    const FragChart& f = m_frag[side ? 1 : 0];
    const QValueAxis* a = bytes ? f.mib : f.x;
    return {a->min(), a->max()};
}

bool CompareWindow::exportTo(const QString& path, QString* err) {
    return exportWidget(this, path, size(), err);
}

}  // namespace spanscope::ui
