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
#include "palette.h"

namespace spanscope::ui {

HeapMapView::HeapMapView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMinimumSize(240, 160);
    setFocusPolicy(Qt::WheelFocus);
}

void HeapMapView::setMoment(const MomentPtr& m) {
    const bool arenasChanged = !m || !m_moment || m->scene.arenas != m_moment->scene.arenas;
    m_moment = m;
    if (arenasChanged) relayout();
    rerender();
}

void HeapMapView::relayout() {
    if (!m_moment) {
        m_layout = HeapMapLayout();
        return;
    }
    const auto& sc = m_moment->scene;
    const double aspect = height() > 0 ? double(width()) / height() : 1.6;
    const int perRow = HeapMapLayout::bestArenasPerRow(sc.arenas.size(), sc.pagesPerArena(), aspect);
    m_layout = HeapMapLayout(sc.arenas, sc.pageSize, sc.arenaBytes, perRow);
    if (m_fitted) m_vp = fitViewport(m_layout, size());
}

void HeapMapView::fitToView() {
    m_fitted = true;
    relayout();
    rerender();
}

void HeapMapView::zoomBy(double factor, QPointF at) {
    const double fit = fitViewport(m_layout, size()).scale;
    const double scale = std::clamp(m_vp.scale * factor, fit * 0.5, 64.0);
    const QPointF cell = m_vp.toCell(at);
    m_vp.scale = scale;
    m_vp.origin = cell - at / scale;  // keep the cell under the mouse still
    m_fitted = false;
    rerender();
}

void HeapMapView::showAt(double zoom, QPointF cell) {
    m_vp.scale = fitViewport(m_layout, size()).scale * std::clamp(zoom, 0.5, 64.0);
    m_vp.origin = cell;
    m_fitted = false;
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
        p.drawText(rect(), Qt::AlignCenter,
                   m_moment ? tr("The heap holds no span at %1.").arg(formatSeconds(m_moment->tNs))
                            : tr("No session open.\nFile > Open a .spanscope session, or run the live demo."));
    }
}

void HeapMapView::resizeEvent(QResizeEvent*) {
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
        if (auto i = hitTest(m_moment->scene, m_layout, m_vp, e->position())) base = m_moment->scene.tiles[*i].base;
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

void HeapMapView::mouseDoubleClickEvent(QMouseEvent*) { fitToView(); }

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
        if (text.isEmpty()) QToolTip::hideText();
        else QToolTip::showText(he->globalPos(), text, this);
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
    const QString range = tr("%1 – %2 (%3 pages, %4)")
                              .arg(formatAddress(t.base), formatAddress(t.end(sc.pageSize)))
                              .arg(t.npages)
                              .arg(formatBytes(uint64_t{t.npages} * sc.pageSize));
    switch (t.kind) {
        case TileKind::Free: return tr("<b>free pages</b><br>%1<br>mapped, idle (HeapIdle)").arg(range);
        case TileKind::Released:
            return tr("<b>released pages</b><br>%1<br>returned to the OS (HeapReleased)%2")
                .arg(range, sc.releasedEstimated ? tr("<br><i>position estimated from the total</i>") : QString());
        case TileKind::Large: return tr("<b>large object span</b> (class 0)<br>%1").arg(range);
        case TileKind::Span: break;
    }
    const int c = t.sizeClass();
    const uint32_t objSize = c < int(m_classes.size()) ? m_classes[size_t(c)].size : 0;
    QString state = QString::fromLatin1(tileStateName(t));
    if (t.state == uint8_t(session::SpanState::Cached) && t.ownerTid)
        state = tr("cached in thread %1's mcache (count as of caching)").arg(t.ownerTid);
    return tr("<b>span, size class %1</b> (%2 objects%3)<br>%4<br>objects used %5 / %6 (%7 %)<br>state: %8")
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
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
}

QSize HeapMapLegend::sizeHint() const { return {600, fontMetrics().height() * 2 + 14}; }

void HeapMapLegend::setMoment(const MomentPtr& m) {
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
    update();
}

void HeapMapLegend::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), QColor::fromRgb(colors::kBackground));
    const QFontMetrics fm = fontMetrics();
    const int sw = fm.height() - 4, lh = fm.height() + 4;
    p.setPen(QColor::fromRgb(colors::kLabel));
    int x = 8, y = 5;
    auto item = [&](QRgb c, const QString& text, int& xx, int yy) {
        p.fillRect(xx, yy + 2, sw, sw, QColor::fromRgb(c));
        p.drawText(xx + sw + 4, yy, fm.horizontalAdvance(text) + 2, lh - 4, Qt::AlignVCenter, text);
        xx += sw + 4 + fm.horizontalAdvance(text) + 14;
    };
    // Row 1: what the non-class colours mean, and how occupancy shades a tile.
    item(sizeClassColor(0), tr("large object"), x, y);
    item(colors::kFree, tr("free"), x, y);
    item(colors::kReleased, m_releasedEstimated ? tr("released (est.)") : tr("released"), x, y);
    item(colors::kReserved, tr("not mapped"), x, y);
    {  // the dot that marks a cached span when zoomed in
        p.fillRect(x, y + 2, sw, sw, QColor::fromRgb(sizeClassColor(12)));
        p.fillRect(x + 2, y + 4, 4, 4, QColor::fromRgb(colors::kCachedMark));
        const QString t = tr("in an mcache");
        p.drawText(x + sw + 4, y, fm.horizontalAdvance(t) + 2, lh - 4, Qt::AlignVCenter, t);
        x += sw + 4 + fm.horizontalAdvance(t) + 14;
    }
    const QString occ = tr("occupancy:");
    p.drawText(x, y, fm.horizontalAdvance(occ) + 2, lh - 4, Qt::AlignVCenter, occ);
    x += fm.horizontalAdvance(occ) + 6;
    const QRgb demo = sizeClassColor(5);
    for (int i = 0; i <= 4; i++) p.fillRect(x + i * sw, y + 2, sw, sw, QColor::fromRgb(shadedColor(demo, i / 4.0)));
    x += 5 * sw + 4;
    const QString range = tr("empty → full");
    p.drawText(x, y, fm.horizontalAdvance(range) + 2, lh - 4, Qt::AlignVCenter, range);
    // Row 2: the size classes present, largest first, as many as fit.
    x = 8;
    y += lh;
    const QString lead = m_classes.empty() ? tr("size classes: none in use") : tr("size classes:");
    p.drawText(x, y, fm.horizontalAdvance(lead) + 2, lh - 4, Qt::AlignVCenter, lead);
    x += fm.horizontalAdvance(lead) + 8;
    for (const auto& [c, size] : m_classes) {
        const QString text = formatBytes(size);
        if (x + sw + fm.horizontalAdvance(text) + 40 > width()) {
            p.drawText(x, y, 40, lh - 4, Qt::AlignVCenter, QStringLiteral("…"));
            break;
        }
        item(sizeClassColor(c), text, x, y);
    }
}

}  // namespace spanscope::ui
