// FlowView and paintFlow (see flow_view.h). Levels are stacked top to bottom; each pair of levels
// has a down arrow (memory going toward the OS) on the left and an up arrow on the right.
#include "flow_view.h"

#include <QFontMetricsF>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

#include "format.h"

namespace spanscope::ui {

namespace {
enum Arrow {
    kRefill = kFlowRefill,
    kHandBack = kFlowHandBack,
    kSpanAlloc = kFlowSpanAlloc,
    kSpanFree = kFlowSpanFree,
    kLarge = kFlowLarge,
    kLargeFree = kFlowLargeFree,
    kGrow = kFlowGrow,
    kRelease = kFlowRelease,
    kArrowCount = kFlowPathCount
};

QString rateText(double v, bool bytes) {
    if (bytes) return formatBytes(uint64_t(v + 0.5)) + QStringLiteral("/s");
    if (v >= 100) return formatCount(uint64_t(v + 0.5)) + QStringLiteral("/s");
    return QString::number(v, 'f', v >= 10 ? 1 : 2) + QStringLiteral("/s");
}

void drawArrow(QPainter& p, QPointF from, QPointF to, double width, const QColor& color) {
    const QPointF d = to - from;
    const double len = std::hypot(d.x(), d.y());
    if (len < 1) return;
    const QPointF u = d / len, n(-u.y(), u.x());
    // The head within the arrow's own length: on a short path (a small view) a wide arrow's head
    // would otherwise reach back over the box it leaves.
    const double head = std::min(std::max(8.0, width * 1.6), len * 0.6);
    const QPointF base = to - u * head;
    p.setPen(QPen(color, width, Qt::SolidLine, Qt::FlatCap));
    p.drawLine(from, base);
    QPainterPath tip;
    tip.moveTo(to);
    tip.lineTo(base + n * (head * 0.6 + width / 2));
    tip.lineTo(base - n * (head * 0.6 + width / 2));
    tip.closeSubpath();
    p.fillPath(tip, color);
}
}  // namespace

int flowPathOf(const Event& e) {
    switch (e.kind) {
        case EventKind::SpanRefill:
        case EventKind::SpanCache:
            return kFlowRefill;  // mcentral -> mcache
        case EventKind::SpanUncache:
            return kFlowHandBack;  // mcache -> mcentral
        case EventKind::SpanAlloc:
            return kFlowSpanAlloc;  // mheap -> mcentral
        case EventKind::SpanFree:
            return kFlowSpanFree;  // mcentral -> mheap
        case EventKind::LargeAlloc:
            return kFlowLarge;  // mheap -> mcache, directly
        case EventKind::LargeFree:
            return kFlowLargeFree;
        case EventKind::ArenaMap:
        case EventKind::HeapGrow:
        case EventKind::ScavReuse:
            return kFlowGrow;  // OS -> mheap
        case EventKind::Scavenge:
            return kFlowRelease;  // mheap -> scavenger -> OS
        default:
            return -1;
    }
}

std::vector<FlowArrow> flowArrows(const session::FlowRates& f) {
    std::vector<FlowArrow> a(kArrowCount);
    a[kRefill] = {QObject::tr("refills"), f.refills, false, 0};
    a[kHandBack] = {QObject::tr("hand-backs"), f.handBacks, false, 0};
    a[kSpanAlloc] = {QObject::tr("spans taken"), f.spanAllocs, false, 0};
    a[kSpanFree] = {QObject::tr("spans freed"), f.spanFrees, false, 0};
    a[kLarge] = {QObject::tr("large objects"), f.largeAllocs, false, 0};
    a[kLargeFree] = {QObject::tr("large frees"), f.largeFrees, false, 0};
    a[kGrow] = {QObject::tr("pages grown + reused"), f.grownBytes + f.reusedBytes, true, 0};
    a[kRelease] = {QObject::tr("released"), f.releasedBytes, true, 0};
    double maxCount = 0, maxBytes = 0;
    for (const FlowArrow& x : a)
        (x.bytes ? maxBytes : maxCount) = std::max(x.bytes ? maxBytes : maxCount, x.rate);
    for (FlowArrow& x : a) {
        const double top = x.bytes ? maxBytes : maxCount;
        x.width = x.rate <= 0 || top <= 0
                      ? 1.0
                      : 2.0 + (kFlowMaxWidth - 2.0) * std::log1p(x.rate) / std::log1p(top);
    }
    return a;
}

void paintFlow(QPainter& p, const QRectF& r, const session::FlowRates& f, const QString& caption,
               int highlight, double progress) {
    p.save();
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(r, QColor(252, 252, 252));
    const std::vector<FlowArrow> arrows = flowArrows(f);
    QLineF path[kArrowCount];  // each arrow's axis, tail to head, for the highlight
    QFont font = p.font();
    // As large as the room allows, up to the widget's own type (presenter mode makes it larger).
    const int largest = std::max(15, QFontInfo(font).pixelSize());
    font.setPixelSize(std::clamp(int(std::min(r.height() / 28, r.width() / 34)), 9, largest));
    p.setFont(font);
    const double lineH = font.pixelSize() * 1.3;
    p.setPen(QColor(40, 40, 40));
    p.drawText(QRectF(r.left() + 8, r.top() + 4, r.width() - 16, lineH),
               Qt::AlignVCenter | Qt::AlignLeft, caption);
    // Four levels, top to bottom: mcache, mcentral, mheap, OS.
    const double top = r.top() + lineH * 2, bottom = r.bottom() - lineH * 2.6;
    const double boxW = std::min(r.width() * 0.3, 170.0),
                 boxH = std::clamp((bottom - top) * 0.11, 24.0, 44.0);
    const double cx = r.left() + r.width() * 0.46;
    std::vector<QRectF> boxes;
    for (int i = 0; i < 4; i++)
        boxes.emplace_back(cx - boxW / 2, top + (bottom - top - boxH) * i / 3.0, boxW, boxH);
    const QStringList names = {QStringLiteral("mcache"), QStringLiteral("mcentral"),
                               QStringLiteral("mheap"), QObject::tr("OS")};
    const QColor fills[4] = {QColor(200, 225, 250), QColor(210, 240, 215), QColor(250, 230, 200),
                             QColor(225, 225, 230)};
    QFont bold = font;
    bold.setBold(true);
    for (int i = 0; i < 4; i++) {
        p.setPen(QPen(QColor(80, 80, 90), 1.2));
        p.setBrush(fills[i]);
        p.drawRoundedRect(boxes[size_t(i)], 6, 6);
        p.setPen(QColor(20, 20, 20));
        p.setFont(bold);
        p.drawText(boxes[size_t(i)], Qt::AlignCenter, names[i]);
    }
    p.setFont(font);
    const double x1 = cx - boxW * 0.25, x2 = cx + boxW * 0.25;  // down arrows left, up arrows right
    const double gap = kFlowMaxWidth * 1.2 + 8;                 // from an arrow's axis to its label
    const double xr = std::min(r.right() - 24, cx + boxW / 2 + r.width() * 0.3);  // large objects
    auto label = [&](double y, double xFrom, double xTo, const FlowArrow& a, Qt::Alignment side) {
        p.setPen(QColor(30, 30, 30));
        const QString text = a.label + QLatin1Char('\n') + rateText(a.rate, a.bytes);
        p.drawText(QRectF(xFrom, y - lineH * 1.5, std::max(10.0, xTo - xFrom), lineH * 3),
                   side | Qt::AlignVCenter | Qt::TextWordWrap, text);
    };
    const QColor down(200, 90, 60), up(40, 120, 200), pages(130, 90, 190);
    auto pair = [&](int level, int downIdx, int upIdx) {
        const QRectF &a = boxes[size_t(level)], &b = boxes[size_t(level + 1)];
        const FlowArrow &dn = arrows[size_t(downIdx)], &upA = arrows[size_t(upIdx)];
        const double midY = (a.bottom() + b.top()) / 2;
        path[downIdx] = QLineF(x1, a.bottom() + 2, x1, b.top() - 2);
        path[upIdx] = QLineF(x2, b.top() - 2, x2, a.bottom() + 2);
        if (level < 2)
            drawArrow(p, path[downIdx].p1(), path[downIdx].p2(), dn.width, dn.bytes ? pages : down);
        drawArrow(p, path[upIdx].p1(), path[upIdx].p2(), upA.width, upA.bytes ? pages : up);
        label(midY, r.left() + 4, x1 - (level == 2 ? std::max(gap, boxW * 0.3 + 8) : gap), dn,
              Qt::AlignRight);
        label(midY, x2 + gap, xr - 10, upA, Qt::AlignLeft);
    };
    pair(0, kHandBack, kRefill);
    pair(1, kSpanFree, kSpanAlloc);
    pair(2, kRelease, kGrow);
    // The scavenger sits on the release path: mheap -> scavenger -> OS.
    const QRectF &heap = boxes[2], &os = boxes[3];
    const double sh = std::min(boxH * 0.75, (os.top() - heap.bottom()) * 0.4);
    const double sw =
        std::max(boxW * 0.6, QFontMetricsF(font).horizontalAdvance(QObject::tr("scavenger")) + 12);
    const QRectF scav(x1 - sw / 2, (heap.bottom() + os.top()) / 2 - sh / 2, sw, sh);
    const double rw = arrows[kRelease].width;
    drawArrow(p, QPointF(x1, heap.bottom() + 2), QPointF(x1, scav.top() - 1), rw, pages);
    drawArrow(p, QPointF(x1, scav.bottom() + 1), QPointF(x1, os.top() - 2), rw, pages);
    p.setPen(QPen(QColor(130, 90, 190), 1));
    p.setBrush(QColor(240, 230, 250));
    p.drawRoundedRect(scav, 5, 5);
    p.setPen(QColor(60, 30, 100));
    p.drawText(scav, Qt::AlignCenter, QObject::tr("scavenger"));
    // Large objects: mheap <-> mcache directly, on the right.
    const double lw = arrows[kLarge].width, fw = arrows[kLargeFree].width;
    path[kLarge] = QLineF(xr - fw, heap.top(), xr - fw, boxes[0].bottom() + 2);
    path[kLargeFree] = QLineF(xr + lw, boxes[0].bottom() + 2, xr + lw, heap.top());
    drawArrow(p, path[kLarge].p1(), path[kLarge].p2(), lw, QColor(60, 150, 90));
    drawArrow(p, path[kLargeFree].p1(), path[kLargeFree].p2(), fw, QColor(150, 150, 60));
    if (highlight >= 0 && highlight < kArrowCount) {
        // The narrated step: a halo along its path and a dot travelling tail to head.
        const QLineF& l = path[highlight];
        const double w = arrows[size_t(highlight)].width;
        p.setPen(QPen(QColor(255, 180, 0, 140), w + 12, Qt::SolidLine, Qt::RoundCap));
        p.drawLine(l);
        const double radius = std::max(6.0, w * 0.5 + 5);
        p.setPen(QPen(QColor(120, 60, 0), 1.5));
        p.setBrush(QColor(255, 140, 0));
        p.drawEllipse(l.pointAt(std::clamp(progress, 0.0, 1.0)), radius, radius);
    }
    p.setPen(QColor(30, 30, 30));
    p.drawText(
        QRectF(r.left() + 8, r.bottom() - lineH * 2.4, r.width() - 16, lineH * 2.3),
        Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap,
        QObject::tr("Right: large objects, mheap ↔ mcache directly: %1 in, %2 out. Sweeps: %3.%4")
            .arg(rateText(f.largeAllocs, false), rateText(f.largeFrees, false),
                 rateText(f.sweeps, false),
                 f.capped ? QObject::tr(" (Rates over the first %1 of the range.)")
                                .arg(formatSeconds(f.coveredNs))
                          : QString()));
    p.restore();
}

// Small enough to share the side dock at 1024x640 (the font shrinks to fit; see paintFlow).
FlowView::FlowView(QWidget* parent) : QWidget(parent) {
    setMinimumSize(240, 240);
    m_anim.setStartValue(0.0);
    m_anim.setEndValue(1.0);
    m_anim.setDuration(kAnimationMs);
    m_anim.setLoopCount(kAnimationLoops);
    m_anim.setEasingCurve(QEasingCurve::InOutQuad);
    connect(&m_anim, &QVariantAnimation::valueChanged, this, [this](const QVariant& v) {
        m_progress = v.toDouble();
        update();
    });
}

void FlowView::animateStep(int path) {
    m_anim.stop();
    m_highlight = path >= 0 && path < kFlowPathCount ? path : -1;
    m_progress = 1;
    if (m_highlight >= 0) m_anim.start();
    update();
}

void FlowView::setFlow(const session::FlowRates& f, const QString& caption) {
    m_flow = f;
    m_caption = caption;
    update();
}

void FlowView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    paintFlow(p, QRectF(rect()), m_flow,
              m_caption.isEmpty() ? tr("Open a session to see the allocation flow.") : m_caption,
              m_highlight, m_progress);
}

}  // namespace spanscope::ui
