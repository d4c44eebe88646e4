// The flame graph: layout, pixels and the view (see flame_graph.h).
#include "flame_graph.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <functional>

#include "format.h"

namespace spanscope::ui {

std::vector<FlameBox> layoutFlameGraph(const ProfileTree& t, ProfileMetric m, int zoomNode,
                                       int width, int rowHeight, double minWidth) {
    std::vector<FlameBox> out;
    if (t.size() == 0 || width <= 0) return out;
    if (zoomNode < 0 || size_t(zoomNode) >= t.size()) zoomNode = 0;
    // The zoomed node's ancestors (and itself) at full width, one row each.
    std::vector<int> path;
    for (int n = zoomNode; n >= 0; n = t.parent(n)) path.push_back(n);
    std::reverse(path.begin(), path.end());
    const double w = width;
    for (size_t row = 0; row < path.size(); row++)
        out.push_back(FlameBox{path[row], QRectF(0, double(row) * rowHeight, w, rowHeight)});
    const int64_t zoomTotal = t.total(zoomNode).get(m);
    if (zoomTotal <= 0) return out;
    const double perUnit = w / double(zoomTotal);
    std::function<void(int, double, int)> place = [&](int node, double x, int row) {
        for (int c : t.children(node)) {
            const int64_t v = t.total(c).get(m);
            if (v <= 0) continue;
            const double cw = double(v) * perUnit;
            if (cw >= minWidth) {
                out.push_back(FlameBox{c, QRectF(x, double(row) * rowHeight, cw, rowHeight)});
                place(c, x, row + 1);
            }
            x += cw;
        }
    };
    place(zoomNode, 0, int(path.size()));
    return out;
}

QRgb flameColor(const FlameFrame& f) {
    // FNV-1a of the name: stable across runs (qHash is seeded).
    uint32_t h = 2166136261u;
    for (QChar c : f.function) h = (h ^ c.unicode()) * 16777619u;
    const int r = 205 + int(h % 50);
    const int g = 90 + int((h >> 8) % 140);
    const int b = int((h >> 16) % 55);
    return qRgb(r, g, b);
}

QString flameBoxText(const FlameFrame& f, bool root, const QFontMetrics& fm, double width) {
    const int room = int(width) - 6;
    if (room <= 0) return {};
    const QString label = root ? QStringLiteral("all") : f.label();
    if (fm.horizontalAdvance(label) <= room) return label;
    const QString name = root ? label : f.function;
    if (fm.horizontalAdvance(name.left(3) + QChar(0x2026)) > room) return {};
    return fm.elidedText(name, Qt::ElideRight, room);
}

QImage renderFlameGraph(const ProfileTree& t, const std::vector<FlameBox>& boxes, QSize size,
                        const FlameRenderOptions& o) {
    QImage img(size.expandedTo(QSize(1, 1)), QImage::Format_RGB32);
    img.fill(flamecolors::kBackground);
    QPainter p(&img);
    p.setFont(o.font);
    const QFontMetrics fm(o.font);
    const bool searching = o.search && !o.search->needle.isEmpty();
    QRectF selected;
    for (const FlameBox& b : boxes) {
        const ProfileNode n = t.node(b.node);
        const bool root = n.frame < 0;
        static const FlameFrame kNone;
        const FlameFrame& f = root ? kNone : t.frames()[size_t(n.frame)];
        QRgb c = root ? flamecolors::kRoot : flameColor(f);
        if (searching && !root)
            c = o.search->matchedNode[size_t(b.node)] ? flamecolors::kMatch
                                                      : flamecolors::kUnmatched;
        // One pixel of gap on the right and bottom separates neighbours, when the box has room.
        const QRectF r = b.rect.adjusted(0, 0, b.rect.width() >= 3 ? -1 : 0, -1);
        p.fillRect(r, QColor::fromRgb(c));
        const QString text = flameBoxText(f, root, fm, b.rect.width());
        if (!text.isEmpty()) {
            p.setPen(QColor::fromRgb(flamecolors::kText));
            p.drawText(r.adjusted(3, 0, -3, 0), Qt::AlignLeft | Qt::AlignVCenter, text);
        }
        if (b.node == o.selectedNode) selected = r;
    }
    if (!selected.isNull()) {
        p.setPen(QPen(QColor::fromRgb(flamecolors::kSelected), 2));
        p.setBrush(Qt::NoBrush);
        p.drawRect(selected.adjusted(1, 1, -1, -1));
    }
    return img;
}

std::optional<int> flameHitTest(const std::vector<FlameBox>& boxes, QPointF p) {
    for (const FlameBox& b : boxes)
        if (b.rect.contains(p)) return b.node;
    return std::nullopt;
}

// ---- The view --------------------------------------------------------------------------------

FlameGraphView::FlameGraphView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setFocusPolicy(Qt::ClickFocus);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void FlameGraphView::setTree(const ProfileTree* t, ProfileMetric m) {
    if (t != m_tree) {
        // A new tree: a zoom or selection by index means nothing in it (the panel re-selects by
        // path).
        m_zoom = 0;
        m_selected = -1;
    }
    m_tree = t;
    m_metric = m;
    m_search = nullptr;
    updateGeometry();
    relayout();
}

void FlameGraphView::setSearch(const ProfileSearch* s) {
    m_search = s;
    relayout();
}

void FlameGraphView::setSelectedNode(int node) {
    m_selected = node;
    relayout();
}

void FlameGraphView::zoomTo(int node) {
    m_zoom = m_tree && node > 0 && size_t(node) < m_tree->size() ? node : 0;
    relayout();
    emit zoomed(m_zoom);
}

QSize FlameGraphView::sizeHint() const {
    const int rows = m_tree ? m_tree->maxDepth() + 1 : 3;
    return {600, rows * rowHeight()};
}

void FlameGraphView::relayout() {
    if (!m_tree) {
        m_boxes.clear();
        m_image = QImage(size().expandedTo(QSize(1, 1)), QImage::Format_RGB32);
        m_image.fill(flamecolors::kBackground);
    } else {
        m_boxes = layoutFlameGraph(*m_tree, m_metric, m_zoom, width(), rowHeight());
        FlameRenderOptions o;
        o.font = font();
        o.selectedNode = m_selected;
        o.search = m_search;
        m_image = renderFlameGraph(*m_tree, m_boxes, size(), o);
    }
    setMinimumHeight(sizeHint().height());
    update();
}

QString FlameGraphView::tooltipFor(int node) const {
    if (!m_tree || node < 0 || size_t(node) >= m_tree->size()) return {};
    const ProfileNode n = m_tree->node(node);
    const int64_t total = m_tree->total(0).get(m_metric);
    const double share = total > 0 ? 100.0 * double(n.total.get(m_metric)) / double(total) : 0;
    const QString what = metricIsInuse(m_metric) ? tr("in use") : tr("allocated");
    QString head;
    if (n.frame < 0) {
        head = tr("<b>all sampled stacks</b>");
    } else {
        const FlameFrame& f = m_tree->frames()[size_t(n.frame)];
        head = QStringLiteral("<b>%1</b>").arg(f.function.toHtmlEscaped());
        if (!f.file.isEmpty())
            head += QStringLiteral("<br>%1:%2").arg(f.file.toHtmlEscaped()).arg(f.line);
    }
    return tr("%1<br>%2 %3 in %4 objects (%5% of the profile)<br>itself: %6 in %7 objects")
        .arg(head, what, formatBytes(uint64_t(std::max<int64_t>(0, n.total.bytes(m_metric)))),
             formatCount(uint64_t(std::max<int64_t>(0, n.total.objects(m_metric)))),
             QString::number(share, 'f', 1),
             formatBytes(uint64_t(std::max<int64_t>(0, n.self.bytes(m_metric)))),
             formatCount(uint64_t(std::max<int64_t>(0, n.self.objects(m_metric)))));
}

void FlameGraphView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.drawImage(0, 0, m_image);
    if (!m_tree || m_tree->total(0).get(m_metric) <= 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(8, 8, -8, -8), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
                   m_tree ? tr("Nothing sampled in this window.") : tr("No heap profile to show."));
    }
}

void FlameGraphView::resizeEvent(QResizeEvent*) {
    relayout();
}

void FlameGraphView::mousePressEvent(QMouseEvent* e) {
    if (e->button() != Qt::LeftButton) return;
    const auto node = flameHitTest(m_boxes, e->position());
    setSelectedNode(node ? *node : -1);
    emit nodeClicked(node ? *node : -1);
}

void FlameGraphView::mouseDoubleClickEvent(QMouseEvent* e) {
    const auto node = flameHitTest(m_boxes, e->position());
    zoomTo(node && *node != m_zoom ? *node : m_tree && m_zoom > 0 ? m_tree->parent(m_zoom) : 0);
}

void FlameGraphView::keyPressEvent(QKeyEvent* e) {
    if (e->key() == Qt::Key_Escape && m_zoom != 0) {
        zoomTo(0);
        return;
    }
    QWidget::keyPressEvent(e);
}

bool FlameGraphView::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip) {
        auto* he = static_cast<QHelpEvent*>(e);
        const auto node = flameHitTest(m_boxes, he->pos());
        if (node)
            QToolTip::showText(he->globalPos(), tooltipFor(*node), this);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(e);
}

}  // namespace spanscope::ui
