// TimelineView (see timeline_view.h). Series are updated with replace(), never clear-and-append;
// the bands and the cursor are painted over the plot in drawForeground from the snapshot.
#include "timeline_view.h"

#include <QKeyEvent>
#include <QLegendMarker>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "chart_util.h"
#include "format.h"
#include "glossary.h"

namespace spanscope::ui {
namespace {
constexpr double kMiB = 1024.0 * 1024.0;
struct SeriesDef {
    Term term;
    QColor color;
    uint64_t session::HeapSample::*field;
    Qt::PenStyle style;
};
const QColor kLimitColor(0x22, 0x22, 0x2a);  // the memory limit: near-black, dash-dot
const SeriesDef kDefs[TimelineView::kSeriesCount] = {
    // Heap goal in raspberry, dashed: never the orange of the GC mark bands.
    {Term::HeapSys, QColor(0x7a, 0x7a, 0x86), &session::HeapSample::heapSys, Qt::SolidLine},
    {Term::HeapGoal, QColor(0xc0, 0x2c, 0x72), &session::HeapSample::nextSweep, Qt::DashLine},
    {Term::Released, QColor(0x8e, 0x5b, 0xd0), &session::HeapSample::heapReleased, Qt::SolidLine},
    {Term::InSpans, QColor(0x2f, 0xa8, 0x4f), &session::HeapSample::heapInuse, Qt::SolidLine},
    {Term::HeapLive, QColor(0x1f, 0x6f, 0xd0), &session::HeapSample::heapLive, Qt::SolidLine},
};
// The y axis' unit: the largest of B, KiB, MiB, GiB that keeps the top above 1.
std::pair<double, const char*> unitFor(double maxBytes) {
    if (maxBytes >= 1024.0 * kMiB) return {1024.0 * kMiB, "GiB"};
    if (maxBytes >= kMiB) return {kMiB, "MiB"};
    if (maxBytes >= 1024.0) return {1024.0, "KiB"};
    return {1.0, "bytes"};
}
}  // namespace

TimelineView::TimelineView(QWidget* parent) : QChartView(parent), m_chart(new QChart) {
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_chart->legend()->setAlignment(Qt::AlignTop);
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_x = new QValueAxis;
    // No axis title: the labels say "s" (the room goes to the plot on a small screen).
    m_x->setLabelFormat(QStringLiteral("%.2f"));
    m_y = new QValueAxis;
    m_y->setTitleText(tr("MiB"));  // set to the unit that fits by setSeries
    m_y->setLabelFormat(QStringLiteral("%.4g"));
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_y, Qt::AlignLeft);
    for (const auto& d : kDefs) {
        auto* s = new QLineSeries;
        s->setName(d.term == Term::HeapGoal
                       ? tr("%1 / %2").arg(termLabel(Term::HeapGoal), termLabel(Term::NextSweep))
                       : termLabel(d.term));
        QPen pen(d.color, d.style == Qt::SolidLine ? 2.0 : 1.6, d.style);
        s->setPen(pen);
        m_chart->addSeries(s);
        s->attachAxis(m_x);
        s->attachAxis(m_y);
        m_series.push_back(s);
    }
    // Legend entries for the bands (series without points; shown for the kinds of cycles present).
    // The last one is the memory limit's line.
    const std::pair<const char*, QColor> keys[] = {{"GC: mark", QColor(230, 140, 40)},
                                                   {"GC: stop-the-world", QColor(220, 40, 40)},
                                                   {"sweep generation", QColor(90, 140, 230)},
                                                   {nullptr, kLimitColor}};
    for (const auto& [name, color] : keys) {
        auto* s = new QLineSeries;
        s->setName(name ? tr(name) : termLabel(Term::MemoryLimit));
        s->setPen(name ? QPen(color, 6) : QPen(color, 2, Qt::DashDotLine));
        m_chart->addSeries(s);
        s->attachAxis(m_x);
        s->attachAxis(m_y);
        m_bandKeys.push_back(s);
    }
    setChart(m_chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(170);
    setToolTip(
        tr("Drag or click to choose the moment; wheel to zoom time; double-click for the whole "
           "session.\n"
           "Bands: sweep generations; GC cycles by phase: mark (orange), stop-the-world pauses "
           "(red).\n"
           "Hatched grey: the part a bounded recording (--max-size, --keep) did not keep."));
    applyRange(0, 1000000000, false);  // an empty timeline: one second
    setSeries(nullptr);
}

void TimelineView::setSessionLength(int64_t endNs) {
    m_end = std::max<int64_t>(endNs, 1000);
    if (!m_zoomed && m_follow) {
        // Live: the axis runs ahead of the end to the next multiple of a fifth of it (rounded to
        // 1-2-5), so it changes every few seconds, not at every poll: each change re-lays the
        // chart out on the GUI thread.
        const double raw = double(m_end) / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
        double step = 10 * mag;
        for (double f : {1.0, 2.0, 5.0})
            if (f * mag >= raw) {
                step = f * mag;
                break;
            }
        const int64_t top = static_cast<int64_t>(std::ceil(double(m_end) * 1.02 / step) * step);
        if (top != m_t1 || m_t0 != 0) applyRange(0, top, false);
    } else if (!m_zoomed)
        applyRange(0, m_end, false);
    else if (m_follow) {  // zoomed and following: slide the window to keep the end in view
        const int64_t w = m_t1 - m_t0;
        if (m_end > m_t1) applyRange(m_end - w, m_end, false);
    }
}

void TimelineView::resetZoom() {
    m_zoomed = false;
    applyRange(0, m_end, true);
}

void TimelineView::applyRange(int64_t t0, int64_t t1, bool request) {
    if (t1 <= t0) t1 = t0 + 1;
    m_t0 = t0, m_t1 = t1;
    setNiceTimeRange(m_x, double(t0) / 1e9, double(t1) / 1e9, 8, " s");
    if (request) emit rangeRequested(t0, t1);
    viewport()->update();
}

void TimelineView::setSeries(const SeriesPtr& s) {
    m_data = s;
    m_seriesVersion++;
    // Each cycle's phases, found once here rather than searched for at every paint (they arrive in
    // time order, so a cycle's rows are contiguous).
    m_phasesOfCycle.clear();
    if (s)
        for (size_t i = 0; i < s->phases.size(); i++) {
            auto [it, fresh] = m_phasesOfCycle.try_emplace(s->phases[i].cycle, i, i + 1);
            if (!fresh) it->second.second = i + 1;
        }
    m_tailShown = false;
    double ymax = 0;
    if (s)
        for (const auto& h : s->heap)
            for (const auto& d : kDefs) ymax = std::max(ymax, double(h.*d.field));
    // The memory limit, cycle by cycle; on the y axis when it is within 4x of the lines (further
    // up it would flatten them: it is then named at the top edge instead).
    m_limits.clear();
    if (s)
        for (size_t i = 0; i < s->cycles.size(); i++) {
            const auto& c = s->cycles[i];
            if (c.kind != "gc" || !c.memoryLimit) continue;
            int64_t until = m_end;
            for (size_t k = i + 1; k < s->cycles.size(); k++)
                if (s->cycles[k].kind == "gc") {
                    until = s->cycles[k].startNs;
                    break;
                }
            if (!m_limits.empty() && m_limits.back().bytes == c.memoryLimit &&
                m_limits.back().t1 == c.startNs)
                m_limits.back().t1 = until;
            else
                m_limits.push_back({c.startNs, until, c.memoryLimit});
        }
    for (const auto& l : m_limits)
        if (double(l.bytes) <= 4 * ymax) ymax = std::max(ymax, double(l.bytes) * 1.05);
    const auto [unit, unitName] = unitFor(ymax);
    m_unit = unit;
    m_y->setTitleText(tr(unitName));
    for (size_t i = 0; i < m_series.size(); i++) {
        QList<QPointF> pts;
        if (s) {
            pts.reserve(static_cast<qsizetype>(s->heap.size()));
            for (const auto& h : s->heap)
                pts.append(QPointF(double(h.tNs) / 1e9, double(h.*kDefs[i].field) / unit));
        }
        m_series[i]->replace(pts);
    }
    m_ymax = ymax / unit;
    bool gc = false, sweep = false;
    if (s)
        for (const auto& c : s->cycles) (c.kind == "gc" ? gc : sweep) = true;
    const bool show[] = {gc, gc, sweep, !m_limits.empty()};
    // Only the kinds of cycles present are in the legend (a hidden marker would still take room).
    for (size_t i = 0; i < m_bandKeys.size(); i++) {
        QLineSeries* key = m_bandKeys[i];
        const bool in = m_chart->series().contains(key);
        if (show[i] && !in) {
            m_chart->addSeries(key);
            key->attachAxis(m_x);
            key->attachAxis(m_y);
        } else if (!show[i] && in) {
            m_chart->removeSeries(key);  // ownership returns to us: parented to this view below
            key->setParent(this);
        }
    }
    const double top = niceTop(std::max(m_ymax, 1.0));
    m_y->setRange(0, top);
    m_y->setTickCount(6);
    viewport()->update();
}

uint64_t TimelineView::memoryLimitAt(int64_t t) const {
    for (const auto& l : m_limits)
        if (l.t0 <= t && t < l.t1) return l.bytes;
    return 0;
}

void TimelineView::setTail(int64_t tNs, const session::HeapSample& h) {
    // Live: samples are read at most once a second; the last known values are drawn up to the
    // moment shown, so that the lines reach the cursor.
    if (!m_data || m_data->heap.empty() || tNs <= m_data->heap.back().tNs) return;
    const double x = double(tNs) / 1e9;
    for (size_t i = 0; i < m_series.size(); i++) {
        const QPointF pt(x, double(h.*kDefs[i].field) / m_unit);
        if (m_tailShown)
            m_series[i]->replace(m_series[i]->count() - 1, pt);
        else
            m_series[i]->append(pt);
    }
    m_tailShown = true;
}

void TimelineView::setKeptFrom(int64_t t) {
    if (t == m_keptFrom) return;
    m_keptFrom = std::max<int64_t>(0, t);
    viewport()->update();
}

void TimelineView::setCursorTime(int64_t t) {
    m_cursor = t;
    viewport()->update();
}

double TimelineView::xOf(int64_t t) const {
    return m_chart->mapToPosition(QPointF(double(t) / 1e9, 0), m_series[0]).x();
}

int64_t TimelineView::timeAt(double x) const {
    const QPointF v =
        m_chart->mapToValue(QPointF(x, m_chart->plotArea().center().y()), m_series[0]);
    return static_cast<int64_t>(std::llround(v.x() * 1e9));
}

void TimelineView::setGaps(std::vector<session::DropGap> gaps) {
    m_gaps = std::move(gaps);
    viewport()->update();
}

// The cycles as bands over the plot (drawForeground caches them).
void TimelineView::paintBands(QPainter* p, const QRectF& plot) const {
    if (!m_data) return;
    // Sweep generations (malloc mode) follow one another: alternate two shades so that each
    // is a band of its own, and mark where each begins. GC cycles (managed mode) are orange.
    // A GC cycle's phases (gc_phases): sweep termination (stop-the-world) -> mark
    // (concurrent) -> mark termination (stop-the-world) -> off. Bands by phase; the pauses,
    // far shorter than a pixel on most scales, also get a red tick at the top.
    auto phasesOf = [&](int64_t cycle) {
        std::vector<const session::GcPhase*> out;
        if (auto it = m_phasesOfCycle.find(cycle); it != m_phasesOfCycle.end())
            for (size_t i = it->second.first; i < it->second.second; i++)
                if (m_data->phases[i].cycle == cycle) out.push_back(&m_data->phases[i]);
        return out;
    };
    const QColor markBand(230, 140, 40, 60), stwBand(220, 40, 40, 110), stwTick(220, 40, 40, 220);
    // A cycle that lies wholly in pixel columns already painted (by a cycle of its kind)
    // adds nothing to see: skipped, so that a repaint costs at most a few fills per column (a
    // 140 s recording of `frag` has 9,432 sweep generations; each fill starts Qt's raster
    // threads: 2 s a repaint). paintedTo: the last column wholly covered, per kind.
    double paintedTo[2] = {-1e300, -1e300};
    double right = -1e300;  // the right edge of what the current cycle painted
    // minWidth 0: not drawn when under a pixel (a pause on a long axis is then only its tick).
    auto span = [&](int64_t a, int64_t b, const QColor& color, double minWidth) {
        if (b < m_t0 || a > m_t1) return;
        double x0 = xOf(a), x1 = xOf(b);
        if (x1 - x0 < 1 && minWidth == 0) return;
        if (x1 - x0 < minWidth) x1 = x0 + minWidth;
        p->fillRect(QRectF(x0, plot.top(), x1 - x0, plot.height()), color);
        right = std::max(right, x1);
    };
    for (const auto& c : m_data->cycles) {
        const int64_t end = c.endNs < 0 ? m_end : c.endNs;
        if (end < m_t0 || c.startNs > m_t1) continue;
        double x0 = xOf(c.startNs);
        double& painted = paintedTo[c.kind == "gc"];
        if (std::floor(std::max(xOf(end), x0 + 1)) <= painted) continue;
        right = -1e300;
        const bool odd = c.cycle % 2;
        const auto phases =
            c.kind == "gc" ? phasesOf(c.cycle) : std::vector<const session::GcPhase*>{};
        if (!phases.empty()) {
            for (size_t i = 0; i < phases.size(); i++) {
                const session::GcPhase& ph = *phases[i];
                const int64_t next = i + 1 < phases.size() ? phases[i + 1]->tNs : end;
                if (ph.phase == "mark")
                    span(ph.tNs, next, markBand, 1);
                else if (ph.phase == "sweep-termination" || ph.phase == "mark-termination") {
                    span(ph.tNs, next, stwBand, 0);
                    p->fillRect(QRectF(xOf(ph.tNs), plot.top(), 2, 6), stwTick);
                }
            }
            painted = std::max(painted, std::floor(right) - 1);
            continue;
        }
        double x1 = xOf(end);
        if (x1 - x0 < 2) x1 = x0 + 2;  // keep short cycles visible
        const QColor band = c.kind == "gc" ? QColor(230, 140, 40, odd ? 70 : 40)
                                           : QColor(90, 140, 230, odd ? 46 : 18);
        p->fillRect(QRectF(x0, plot.top(), x1 - x0, plot.height()), band);
        painted = std::max(painted, std::floor(x1) - 1);
        p->setPen(QPen(c.kind == "gc" ? QColor(200, 110, 20, 160) : QColor(60, 110, 200, 120), 1));
        p->drawLine(QPointF(x0, plot.top()), QPointF(x0, plot.bottom()));
        if (c.stwNs > 0) {  // stop-the-world: a red tick at the top, as wide as the pauses
            const double w = std::max(2.0, xOf(c.startNs + int64_t(c.stwNs)) - x0);
            p->fillRect(QRectF(x0, plot.top(), w, 6), stwTick);
        }
    }
}

void TimelineView::drawForeground(QPainter* p, const QRectF&) {
    const QRectF plot = m_chart->plotArea();
    p->save();
    p->setClipRect(plot);
    // The cycles' bands change with the data and the axis, not with the cursor: drawn once into a
    // pixmap, reused while the cursor moves (a seek repaints the whole view).
    // An export paints through a scaled painter (or into SVG): drawn directly there.
    if (p->worldTransform().type() > QTransform::TxTranslate ||
        p->device()->devType() != QInternal::Widget) {
        paintBands(p, plot);
    } else {
        const BandKey key{plot,
                          m_t0,
                          m_t1,
                          m_end,
                          m_seriesVersion,
                          m_data ? m_data->cycles.size() : 0,
                          m_data ? m_data->phases.size() : 0,
                          p->device()->devicePixelRatioF()};
        if (!(key == m_bandKey) || m_bands.isNull()) {
            m_bandKey = key;
            const QSize px = (plot.size() * key.dpr).toSize().expandedTo(QSize(1, 1));
            m_bands = QPixmap(px);
            m_bands.setDevicePixelRatio(key.dpr);
            m_bands.fill(Qt::transparent);
            QPainter bp(&m_bands);
            bp.translate(-plot.topLeft());
            paintBands(&bp, plot);
        }
        p->drawPixmap(plot.topLeft(), m_bands);
    }
    for (const auto& l : m_limits) {
        if (l.t1 < m_t0 || l.t0 > m_t1) continue;
        const double x0 = std::max(plot.left(), xOf(l.t0)), x1 = std::min(plot.right(), xOf(l.t1));
        const double y =
            m_chart->mapToPosition(QPointF(0, double(l.bytes) / m_unit), m_series[0]).y();
        const bool above = y < plot.top();
        const double yl = above ? plot.top() + 1 : y;
        p->setPen(QPen(kLimitColor, 2, above ? Qt::DotLine : Qt::DashDotLine));
        p->drawLine(QPointF(x0, yl), QPointF(x1, yl));
        // Its value, at the right end of the segment (inside the plot), under the line.
        const QString label = tr("%1 %2%3").arg(termLabel(Term::MemoryLimit), formatBytes(l.bytes),
                                                above ? tr(" (above)") : QString());
        const QFontMetrics fm(font());
        const double w = fm.horizontalAdvance(label) + 8;
        if (x1 - x0 < w) continue;
        const QRectF box(x1 - w - 2, yl + 2, w, fm.height() + 2);
        p->fillRect(box, QColor(255, 255, 255, 215));
        p->setPen(kLimitColor);
        p->drawText(box, Qt::AlignCenter, label);
    }
    if (m_keptFrom > m_t0) {
        // A bounded recording: nothing is known before keptFrom (its blocks were dropped).
        const double x0 = plot.left(), x1 = std::min(plot.right(), xOf(m_keptFrom));
        const QRectF gone(x0, plot.top(), x1 - x0, plot.height());
        p->fillRect(gone, QColor(235, 235, 238, 235));
        p->fillRect(gone, QBrush(QColor(150, 150, 160), Qt::BDiagPattern));
        p->setPen(QPen(QColor(90, 90, 100), 2, Qt::DashLine));
        p->drawLine(QPointF(x1, plot.top()), QPointF(x1, plot.bottom()));
        const QString label = tr("not kept (bounded recording)");
        const QFontMetrics fm(font());
        const double w = fm.horizontalAdvance(label) + 8;
        QRectF box(x1 - w - 4, plot.bottom() - fm.height() - 8, w, fm.height() + 2);
        if (box.left() < x0)
            box.moveLeft(x1 + 4);  // too narrow: the label goes just after the edge
        p->fillRect(box, QColor(255, 255, 255, 230));
        p->setPen(QColor(70, 70, 80));
        p->drawText(box, Qt::AlignCenter, label);
    }
    if (m_hasSelection || m_selecting) {  // the selected range: a blue band with edges
        const double x0 = xOf(m_sel0), x1 = xOf(m_sel1);
        p->fillRect(QRectF(x0, plot.top(), std::max(1.0, x1 - x0), plot.height()),
                    QColor(40, 110, 230, 50));
        p->setPen(QPen(QColor(40, 110, 230, 200), 1.5));
        p->drawLine(QPointF(x0, plot.top()), QPointF(x0, plot.bottom()));
        p->drawLine(QPointF(x1, plot.top()), QPointF(x1, plot.bottom()));
    }
    // Gaps: the probe dropped records there (the program outran the recorder), so the span table
    // is incomplete until the resync rundown at the gap's end. Hatched grey, and said in words.
    for (const session::DropGap& g : m_gaps) {
        if (g.toNs < m_t0 || g.fromNs > m_t1) continue;
        const double x0 = std::max(plot.left(), xOf(g.fromNs));
        const double x1 = std::max(x0 + 3, std::min(plot.right(), xOf(g.toNs)));
        const QRectF band(x0, plot.top(), x1 - x0, plot.height());
        p->fillRect(band, QColor(120, 120, 120, 50));
        p->fillRect(band, QBrush(QColor(90, 90, 90, 120), Qt::BDiagPattern));
        const QString text = tr("records dropped");
        const QFontMetrics fm(font());
        if (band.width() > fm.horizontalAdvance(text) + 8) {
            p->setPen(QColor(60, 60, 60));
            p->drawText(band.adjusted(4, 0, -4, -4), Qt::AlignBottom | Qt::AlignLeft, text);
        }
    }
    const double cx = xOf(m_cursor);
    p->setPen(QPen(QColor(200, 30, 30), 2));
    p->drawLine(QPointF(cx, plot.top()), QPointF(cx, plot.bottom()));
    p->restore();
    // The cursor's time, in a label at the top of the line.
    const QString label = formatSeconds(m_cursor);
    const QFontMetrics fm(font());
    QRectF box(cx + 4, plot.top() + 8, fm.horizontalAdvance(label) + 8, fm.height() + 2);
    if (box.right() > plot.right()) box.moveRight(cx - 4);
    p->fillRect(box, QColor(255, 255, 255, 220));
    p->setPen(QColor(160, 20, 20));
    p->drawText(box, Qt::AlignCenter, label);
}

void TimelineView::seekToX(double x) {
    const QRectF plot = m_chart->plotArea();
    x = std::clamp(x, plot.left(), plot.right());
    int64_t t = std::clamp<int64_t>(timeAt(x), std::min(m_keptFrom, m_end), m_end);
    m_cursor = t;
    viewport()->update();
    emit seek(t);
}

std::optional<std::pair<int64_t, int64_t>> TimelineView::selection() const {
    if (!m_hasSelection) return std::nullopt;
    return std::make_pair(m_sel0, m_sel1);
}

void TimelineView::setSelection(int64_t t0, int64_t t1) {
    t0 = std::clamp<int64_t>(t0, 0, std::max<int64_t>(m_end, 0));
    t1 = std::clamp<int64_t>(t1, 0, std::max<int64_t>(m_end, 0));
    if (t1 < t0) std::swap(t0, t1);
    const bool changed = !m_hasSelection || t0 != m_sel0 || t1 != m_sel1;
    m_sel0 = t0, m_sel1 = t1, m_hasSelection = true;
    viewport()->update();
    if (changed) emit rangeSelected(t0, t1);
}

void TimelineView::clearSelection() {
    if (!m_hasSelection) return;
    m_hasSelection = false;
    viewport()->update();
    emit rangeCleared();
}

void TimelineView::keyPressEvent(QKeyEvent* e) {
    if (e->key() == Qt::Key_Escape && m_hasSelection) return clearSelection();
    QChartView::keyPressEvent(e);
}

void TimelineView::mousePressEvent(QMouseEvent* e) {
    if (e->button() != Qt::LeftButton) return QChartView::mousePressEvent(e);
    if (e->modifiers() & Qt::ShiftModifier) {  // select a range (the old one goes)
        clearSelection();
        const QRectF plot = m_chart->plotArea();
        m_selAnchor = std::clamp<int64_t>(
            timeAt(std::clamp(e->position().x(), plot.left(), plot.right())), 0, m_end);
        m_sel0 = m_sel1 = m_selAnchor;
        m_selecting = true;
        viewport()->update();
        return;
    }
    clearSelection();
    m_dragging = true;
    emit userMovedCursor();
    seekToX(e->position().x());
}

void TimelineView::mouseMoveEvent(QMouseEvent* e) {
    if (m_selecting) {
        const QRectF plot = m_chart->plotArea();
        const int64_t t = std::clamp<int64_t>(
            timeAt(std::clamp(e->position().x(), plot.left(), plot.right())), 0, m_end);
        m_sel0 = std::min(m_selAnchor, t), m_sel1 = std::max(m_selAnchor, t);
        viewport()->update();
    } else if (m_dragging)
        seekToX(e->position().x());
    else
        QChartView::mouseMoveEvent(e);
}

void TimelineView::mouseReleaseEvent(QMouseEvent* e) {
    if (m_selecting && e->button() == Qt::LeftButton) {
        m_selecting = false;
        if (std::abs(xOf(m_sel1) - xOf(m_sel0)) >= 3)
            setSelection(m_sel0, m_sel1);  // else a shift-click
        viewport()->update();
    } else if (m_dragging && e->button() == Qt::LeftButton)
        m_dragging = false;
    else
        QChartView::mouseReleaseEvent(e);
}

void TimelineView::mouseDoubleClickEvent(QMouseEvent*) {
    resetZoom();
}

void TimelineView::wheelEvent(QWheelEvent* e) {
    const double steps = e->angleDelta().y() / 120.0;
    if (steps == 0) return;
    const double f = std::pow(0.8, steps);
    const int64_t at = std::clamp<int64_t>(timeAt(e->position().x()), m_t0, m_t1);
    int64_t t0 = at - static_cast<int64_t>(double(at - m_t0) * f);
    int64_t t1 = at + static_cast<int64_t>(double(m_t1 - at) * f);
    t0 = std::max<int64_t>(0, t0);
    t1 = std::min<int64_t>(m_end, t1);
    if (t1 - t0 < 100000) return;  // 0.1 ms is as far as it goes
    m_zoomed = !(t0 == 0 && t1 == m_end);
    applyRange(t0, t1, true);
    e->accept();
}

}  // namespace spanscope::ui
