// HeapMapView and HeapMapLegend (see heap_map_view.h).
#include "heap_map_view.h"

#include <QElapsedTimer>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "format.h"
#include "glossary.h"
#include "palette.h"

namespace spanscope::ui {

HeapMapView::HeapMapView(QWidget* parent) : QWidget(parent), m_banner(new RangeBanner(this)) {
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMinimumSize(240, 160);
    setFocusPolicy(Qt::WheelFocus);
}

void HeapMapView::setMoment(const MomentPtr& m) {
    m_cursorMoment = m;
    if (!m_range) display(m);
}

void HeapMapView::setRange(const RangePtr& r) {
    m_range = r && r->ok && r->end ? r : nullptr;
    m_rangeRuns = RenderOptions();
    if (m_range) {
        for (const session::SpanRecord& s : m_range->changes.taken)
            m_rangeRuns.taken.push_back({s.base, s.npages});
        for (const session::SpanRecord& s : m_range->changes.returned)
            m_rangeRuns.returned.push_back({s.base, s.npages});
        m_banner->showRange(m_range->stats.t0, m_range->stats.t1,
                            tr("the heap at its end (%1); %2 taken from the heap (green outline), "
                               "%3 returned to it "
                               "(dashed red)")
                                .arg(formatSeconds(m_range->stats.t1),
                                     countOf(m_range->changes.taken.size(), "span", "spans"),
                                     countOf(m_range->changes.returned.size(), "span", "spans")),
                            tr("at its end, %1 taken (green), %2 returned (red)")
                                .arg(m_range->changes.taken.size())
                                .arg(m_range->changes.returned.size()));
        placeBanner();
    } else {
        m_banner->hide();
    }
    display(m_range ? m_range->end : m_cursorMoment);
}

void HeapMapView::placeBanner() {
    m_banner->resize(width(), m_banner->height());  // its text depends on its width
    const int h = m_banner->hasHeightForWidth() ? m_banner->heightForWidth(width())
                                                : m_banner->sizeHint().height();
    m_banner->setGeometry(0, 0, width(), std::max(h, m_banner->minimumSizeHint().height()));
}

void HeapMapView::display(const MomentPtr& m) {
    const bool arenasChanged = !m || !m_moment || m->scene.arenas != m_moment->scene.arenas;
    const bool changed = m != m_moment;
    m_moment = m;
    if (changed) emit shownMomentChanged();
    if (arenasChanged || desiredColumns() != m_layout.columns())
        relayout();
    else if (m_fitted)
        m_vp = fittedViewport();  // the range in use may have grown
    if (m_focusZoomPending && m_focus && m) {
        if (const Tile* t = m->scene.tileAt(*m_focus)) {
            m_focusZoomPending = false;
            if (m_vp.scale * std::sqrt(double(t->npages)) < 24) {
                zoomToSpan(*m_focus);
                return;
            }
        }
    }
    rerender();
}

void HeapMapView::setFocus(std::optional<uint64_t> addr, bool zoomWhenSmall) {
    m_focus = addr;
    m_focusZoomPending = addr && zoomWhenSmall;
    rerender();
}

int HeapMapView::desiredColumns() const {
    if (!m_moment || m_wholeArenas || m_moment->scene.arenas.size() != 1 ||
        m_moment->scene.tiles.empty())
        return HeapMapLayout::kColumns;
    const auto& sc = m_moment->scene;
    const uint64_t used = (sc.tiles.back().end(sc.pageSize) - sc.arenas.front()) / sc.pageSize;
    const double aspect = height() > 0 ? double(width()) / height() : 1.6;
    // Narrower rows only while the range in use is far below an arena (the columns then change
    // rarely: each is a power of two).
    return HeapMapLayout::bestColumns(used, aspect);
}

MapViewport HeapMapView::fittedViewport() const {
    // Under a range banner the map fits the room below it.
    const int top = m_banner->isHidden() ? 0 : m_banner->height();
    const QSize room(width(), std::max(1, height() - top));
    MapViewport vp;
    const QRect used = m_wholeArenas || !m_moment ? QRect() : usedCells(m_moment->scene, m_layout);
    if (used.isEmpty())
        vp = fitViewport(m_layout, room);
    else
        vp = fitViewportTo(QRectF(used).adjusted(-0.5, -0.5, 0.5, 0.5), room);
    if (top > 0 && vp.scale > 0) vp.origin.ry() -= top / vp.scale;
    return vp;
}

void HeapMapView::relayout() {
    if (!m_moment) {
        m_layout = HeapMapLayout();
        return;
    }
    const auto& sc = m_moment->scene;
    const double aspect = height() > 0 ? double(width()) / height() : 1.6;
    const int cols = desiredColumns();
    const int perRow =
        HeapMapLayout::bestArenasPerRow(sc.arenas.size(), sc.pagesPerArena(), aspect, cols);
    m_layout = HeapMapLayout(sc.arenas, sc.pageSize, sc.arenaBytes, perRow, cols);
    if (m_fitted) m_vp = fittedViewport();
}

void HeapMapView::setWholeArenas(bool on) {
    m_wholeArenas = on;
    fitToView();
}

void HeapMapView::setClassFilter(int sizeClass) {
    m_onlyClass = sizeClass;
    rerender();
}

void HeapMapView::zoomToMiddle(double factor) {
    const MapViewport fit = fittedViewport();
    const QPointF mid = fit.toCell(QPointF(width() / 2.0, height() / 2.0));
    m_vp.scale = fit.scale * std::clamp(factor, 0.5, 64.0);
    m_vp.origin = mid - QPointF(width() / 2.0, height() / 2.0) / m_vp.scale;
    m_fitted = false;
    rerender();
}

bool HeapMapView::zoomToSpan(uint64_t base) {
    if (!m_moment) return false;
    const Tile* t = m_moment->scene.tileAt(base);
    if (!t) return false;
    const auto first = m_layout.cellOf(t->base),
               last = m_layout.cellOf(t->end(m_moment->scene.pageSize) - 1);
    if (!first || !last) return false;
    QRectF r = QRectF(QPointF(*first), QPointF(*last) + QPointF(1, 1)).normalized();
    if (last->y() != first->y())
        r.setLeft(first->x() < last->x() ? r.left() : 0), r.setWidth(m_layout.columns());
    // The span at a third of the view, but no closer than 48 px a page.
    const QPointF c = r.center();
    const double w = std::max(r.width() * 3, double(width()) / 48),
                 h = std::max(r.height() * 3, double(height()) / 48);
    m_vp = fitViewportTo(QRectF(c.x() - w / 2, c.y() - h / 2, w, h), size());
    m_fitted = false;
    rerender();
    return true;
}

void HeapMapView::fitToView() {
    m_fitted = true;
    relayout();
    rerender();
}

void HeapMapView::zoomBy(double factor, QPointF at) {
    const double fit = std::min(fitViewport(m_layout, size()).scale, fittedViewport().scale);
    const double scale = std::clamp(m_vp.scale * factor, fit * 0.5, 64.0);
    const QPointF cell = m_vp.toCell(at);
    m_vp.scale = scale;
    m_vp.origin = cell - at / scale;  // keep the cell under the mouse still
    m_fitted = false;
    rerender();
}

void HeapMapView::showAt(double zoom, QPointF cell) {
    m_vp.scale = fittedViewport().scale * std::clamp(zoom, 0.5, 64.0);
    m_vp.origin = cell;
    m_fitted = false;
    rerender();
}

void HeapMapView::setMarkedAddresses(std::vector<uint64_t> addrs) {
    std::sort(addrs.begin(), addrs.end());
    if (addrs == m_marked) return;
    m_marked = std::move(addrs);
    rerender();
}

void HeapMapView::rerender() {
    QElapsedTimer t;
    t.start();
    if (!m_moment) {
        m_image = QImage(size().expandedTo(QSize(1, 1)), QImage::Format_RGB32);
        m_image.fill(colors::kBackground);
    } else {
        RenderOptions o;
        o.highlightBase = m_hoverBase;
        o.onlyClass = m_onlyClass;
        o.focusAddr = m_focus;
        o.marked = m_marked;
        o.taken = m_rangeRuns.taken;
        o.returned = m_rangeRuns.returned;
        m_image = renderHeapMap(m_moment->scene, m_layout, m_vp, size(), o);
    }
    m_renderMs = double(t.nsecsElapsed()) / 1e6;
    update();
}

void HeapMapView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.drawImage(0, 0, m_image);
    if (!m_moment || m_moment->scene.arenas.empty()) {
        p.setPen(QColor::fromRgb(colors::kLabel));
        p.drawText(
            rect(), Qt::AlignCenter,
            m_moment
                ? tr("The heap holds no span at %1.").arg(formatSeconds(m_moment->tNs))
                : tr("No session open.\nFile > Open a .spanscope session, or run the live demo."));
    }
}

void HeapMapView::resizeEvent(QResizeEvent*) {
    if (!m_banner->isHidden()) placeBanner();
    if (m_fitted) relayout();
    rerender();
}

void HeapMapView::wheelEvent(QWheelEvent* e) {
    const double steps = e->angleDelta().y() / 120.0;
    if (steps == 0) return;
    zoomBy(std::pow(1.25, steps), e->position());
    e->accept();
}

void HeapMapView::mousePressEvent(QMouseEvent* e) {
    if (e->button() == Qt::LeftButton) {
        m_dragFrom = e->position().toPoint();
        m_dragVp = m_vp;
        setCursor(Qt::ClosedHandCursor);
    }
}

void HeapMapView::mouseMoveEvent(QMouseEvent* e) {
    if (m_dragFrom) {
        const QPointF d = e->position() - QPointF(*m_dragFrom);
        m_vp.origin = m_dragVp.origin - d / m_vp.scale;
        m_fitted = false;
        rerender();
        return;
    }
    std::optional<uint64_t> base;
    if (m_moment)
        if (auto i = hitTest(m_moment->scene, m_layout, m_vp, e->position()))
            base = m_moment->scene.tiles[*i].base;
    if (base != m_hoverBase) {
        m_hoverBase = base;
        rerender();
        emit hovered(describeAt(e->position()));
    }
}

void HeapMapView::mouseReleaseEvent(QMouseEvent* e) {
    const bool click = e->button() == Qt::LeftButton && m_dragFrom &&
                       (e->position().toPoint() - *m_dragFrom).manhattanLength() < 4;
    m_dragFrom.reset();
    unsetCursor();
    if (click)
        if (const auto base = spanAt(e->position())) emit spanClicked(*base);
}

std::optional<uint64_t> HeapMapView::spanAt(QPointF px) const {
    if (!m_moment) return std::nullopt;
    const auto i = hitTest(m_moment->scene, m_layout, m_vp, px);
    if (!i) return std::nullopt;
    const Tile& t = m_moment->scene.tiles[*i];
    if (t.kind != TileKind::Span && t.kind != TileKind::Large) return std::nullopt;
    return t.base;
}

void HeapMapView::mouseDoubleClickEvent(QMouseEvent*) {
    fitToView();
}

void HeapMapView::leaveEvent(QEvent*) {
    if (m_hoverBase) {
        m_hoverBase.reset();
        rerender();
    }
}

bool HeapMapView::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip) {
        auto* he = static_cast<QHelpEvent*>(e);
        const QString text = describeAt(he->pos());
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(he->globalPos(), text, this);
        return true;
    }
    return QWidget::event(e);
}

QString HeapMapView::describeAt(QPointF px) const {
    if (!m_moment) return {};
    const auto& sc = m_moment->scene;
    const auto i = hitTest(sc, m_layout, m_vp, px);
    if (!i) {
        if (auto a = m_layout.addressAt(m_vp.toCell(px)))
            return tr("%1: arena space not mapped yet").arg(formatAddress(*a));
        return {};
    }
    const Tile& t = sc.tiles[*i];
    const QString range = tr("%1 – %2 (%3, %4)")
                              .arg(formatAddress(t.base), formatAddress(t.end(sc.pageSize)))
                              .arg(countOf(t.npages, "page", "pages"))
                              .arg(formatBytes(uint64_t{t.npages} * sc.pageSize));
    switch (t.kind) {
        case TileKind::Free:
            return tr("<b>free pages</b><br>%1<br>mapped, idle (HeapIdle)").arg(range);
        case TileKind::Released:
            return tr("<b>released pages</b><br>%1<br>returned to the OS (HeapReleased)%2")
                .arg(range, sc.releasedEstimated
                                ? tr("<br><i>position estimated from the total</i>")
                                : QString());
        case TileKind::Large:
            return tr("<b>large object span</b> (class 0)<br>%1").arg(range);
        case TileKind::Span:
            break;
    }
    const int c = t.sizeClass();
    const uint32_t objSize = c < int(m_classes.size()) ? m_classes[size_t(c)].size : 0;
    QString state = QString::fromLatin1(tileStateName(t));
    if (t.state == uint8_t(session::SpanState::Cached) && t.ownerTid)
        state = tr("cached in thread %1's mcache (count as of caching)").arg(t.ownerTid);
    return tr("<b>span, size class %1</b> (%2 objects%3)<br>%4<br>objects used %5 / %6 (%7 "
              "%)<br>state: %8")
        .arg(c)
        .arg(formatBytes(objSize), (t.spanClass & 1) ? tr(", noscan") : QString())
        .arg(range)
        .arg(t.allocCount)
        .arg(t.nelems)
        .arg(t.nelems ? 100.0 * t.allocCount / t.nelems : 0.0, 0, 'f', 0)
        .arg(state);
}

// ---- legend ----------------------------------------------------------------------------------

HeapMapLegend::HeapMapLegend(QWidget* parent) : QWidget(parent) {
    QSizePolicy p(QSizePolicy::Preferred, QSizePolicy::Preferred);
    p.setHeightForWidth(true);
    setSizePolicy(p);
    setCursor(Qt::PointingHandCursor);
    setToolTip(
        tr("Click a size class to show only its spans on the map; click it again to show all."));
}

QSize HeapMapLegend::sizeHint() const {
    return {600, heightForWidth(width() > 0 ? width() : 600)};
}

int HeapMapLegend::heightForWidth(int w) const {
    int bottom = rowHeight();
    for (const Entry& e : entries(w)) bottom = std::max(bottom, e.rect.bottom() + 1);
    return bottom + 4;
}

void HeapMapLegend::setMoment(const MomentPtr& m) {
    const auto before = m_classes;
    m_classes.clear();
    m_releasedEstimated = false;
    if (m) {
        std::vector<const session::ClassTotals*> v;
        for (const auto& c : m->classes)
            if (c.spans && c.sizeClass > 0) v.push_back(&c);
        std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->spanBytes > b->spanBytes; });
        for (auto* c : v) m_classes.emplace_back(c->sizeClass, c->size);
        m_releasedEstimated = m->scene.releasedEstimated;
    }
    if (m_classes.size() != before.size()) updateGeometry();  // may need another row
    update();
}

void HeapMapLegend::setSelectedClass(int c) {
    m_selected = c;
    update();
}

std::vector<HeapMapLegend::Entry> HeapMapLegend::entries(int w) const {
    const QFontMetrics fm = fontMetrics();
    const int sw = fm.height() - 4, lh = rowHeight();
    std::vector<Entry> out;
    int x = 8, y = 3;
    auto add = [&](QRgb c, const QString& text, int cls) {
        const int width = sw + 4 + fm.horizontalAdvance(text) + 4;
        if (x > 8 && x + width > w - 4) x = 8, y += lh;  // wrap
        out.push_back({c, text, cls, QRect(x, y, width, lh - 2)});
        x += width + 10;
    };
    add(sizeClassColor(0), tr("large object"), 0);
    add(colors::kFree, termLabel(Term::FreePages), -1);
    add(colors::kReleased,
        m_releasedEstimated ? tr("%1 (position est.)").arg(termLabel(Term::Released))
                            : termLabel(Term::Released),
        -1);
    add(colors::kReserved, tr("not mapped"), -1);
    add(colors::kCachedMark, tr("dot: cached in an mcache"), -1);
    add(sizeClassColor(5), tr("fill: occupancy"), -1);
    if (m_classes.empty()) add(colors::kBackground, tr("no size class in use"), -1);
    for (const auto& [c, size] : m_classes)
        add(sizeClassColor(c), tr("%1: %2").arg(c).arg(formatBytes(size)), c);
    return out;
}

void HeapMapLegend::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), QColor::fromRgb(colors::kBackground));
    const QFontMetrics fm = fontMetrics();
    const int sw = fm.height() - 4;
    for (const Entry& e : entries(width())) {
        const QRect sq(e.rect.left(), e.rect.top() + (e.rect.height() - sw) / 2, sw, sw);
        if (e.text == tr("dot: cached in an mcache")) {
            p.fillRect(sq, QColor::fromRgb(sizeClassColor(12)));
            p.fillRect(sq.left() + 2, sq.top() + 2, 4, 4, QColor::fromRgb(colors::kCachedMark));
        } else if (e.text == tr("fill: occupancy")) {
            p.fillRect(sq, QColor::fromRgb(shadedColor(e.color, 0)));
            p.fillRect(sq.adjusted(0, sq.height() / 2, 0, 0), QColor::fromRgb(e.color));
        } else {
            p.fillRect(sq, QColor::fromRgb(e.color));
        }
        const bool dim = m_selected >= 0 && e.sizeClass >= 0 && e.sizeClass != m_selected;
        p.setPen(QColor::fromRgb(dim ? colors::kFilteredOut : colors::kLabel));
        QFont f = font();
        f.setUnderline(e.sizeClass >= 0 && e.sizeClass == m_selected);
        p.setFont(f);
        p.drawText(QRect(sq.right() + 5, e.rect.top(), e.rect.width() - sw - 4, e.rect.height()),
                   Qt::AlignVCenter, e.text);
    }
}

void HeapMapLegend::mousePressEvent(QMouseEvent* ev) {
    for (const Entry& e : entries(width()))
        if (e.sizeClass >= 0 && e.rect.contains(ev->position().toPoint())) {
            emit classClicked(e.sizeClass == m_selected ? -1 : e.sizeClass);
            return;
        }
}

}  // namespace spanscope::ui
