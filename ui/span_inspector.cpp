// SpanInspector, SlotGrid, SlotLegend and the slot-grid pixels (see span_inspector.h).
#include "span_inspector.h"

#include <QFormLayout>
#include <QHeaderView>
#include <QHelpEvent>
#include <QPainter>
#include <QScrollArea>
#include <QToolTip>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <unordered_map>

#include "format.h"
#include "glossary.h"
#include "heap_scene.h"
#include "palette.h"

namespace spanscope::ui {

using session::SlotState;

QRgb slotColor(SlotState s, QRgb allocatedColor) {
    switch (s) {
        case SlotState::Free:
            return slotcolors::kFree;
        case SlotState::Allocated:
            return allocatedColor;
        case SlotState::White:
            return slotcolors::kWhite;
        case SlotState::Grey:
            return slotcolors::kGrey;
        case SlotState::Black:
            return slotcolors::kBlack;
    }
    return slotcolors::kFree;
}

int slotCellSize(size_t n) {
    return n <= 64 ? 22 : n <= 256 ? 16 : n <= 512 ? 12 : 9;
}

QImage renderSlotGrid(const std::vector<SlotState>& states, QRgb allocatedColor, int columns,
                      int cell) {
    columns = std::max(1, columns);
    cell = std::max(4, cell);
    const int rows = std::max<int>(1, int((states.size() + size_t(columns) - 1) / size_t(columns)));
    QImage img(columns * cell + 1, rows * cell + 1, QImage::Format_RGB32);
    img.fill(slotcolors::kGridBackground);
    for (size_t i = 0; i < states.size(); i++) {
        const int x = int(i % size_t(columns)) * cell + 1, y = int(i / size_t(columns)) * cell + 1;
        const int w = cell - 1;  // one pixel of every cell is the gap to the next
        const QRgb c = slotColor(states[i], allocatedColor);
        if (states[i] == SlotState::Free) {
            for (int yy = y; yy < y + w; yy++)
                std::fill_n(reinterpret_cast<QRgb*>(img.scanLine(yy)) + x, w, c);
            continue;
        }
        for (int yy = y; yy < y + w; yy++) {  // outline, then the state's colour inside it
            QRgb* line = reinterpret_cast<QRgb*>(img.scanLine(yy)) + x;
            const bool edge = yy == y || yy == y + w - 1;
            for (int xx = 0; xx < w; xx++)
                line[xx] = edge || xx == 0 || xx == w - 1 ? slotcolors::kOutline : c;
        }
    }
    return img;
}

std::optional<size_t> slotAt(QPoint p, size_t n, int columns, int cell) {
    if (p.x() < 1 || p.y() < 1 || columns < 1 || cell < 1) return std::nullopt;
    const int col = (p.x() - 1) / cell, row = (p.y() - 1) / cell;
    if (col >= columns) return std::nullopt;
    const size_t i = size_t(row) * size_t(columns) + size_t(col);
    return i < n ? std::optional<size_t>(i) : std::nullopt;
}

namespace {
QString slotStateName(SlotState s) {
    switch (s) {
        case SlotState::Free:
            return SpanInspector::tr("free");
        case SlotState::Allocated:
            return SpanInspector::tr("allocated");
        case SlotState::White:
            return SpanInspector::tr("white (allocated, not marked yet)");
        case SlotState::Grey:
            return SpanInspector::tr("grey (marked, not scanned yet)");
        case SlotState::Black:
            return SpanInspector::tr("black (marked and scanned)");
    }
    return {};
}
}  // namespace

// ---- SlotGrid --------------------------------------------------------------------------------

SlotGrid::SlotGrid(QWidget* parent) : QWidget(parent) {
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMouseTracking(true);
    QSizePolicy sp(QSizePolicy::Expanding, QSizePolicy::Preferred);
    sp.setHeightForWidth(true);
    setSizePolicy(sp);
}

void SlotGrid::setSlots(std::vector<SlotState> states, QRgb allocatedColor, uint64_t base,
                        uint32_t elemSize) {
    const bool sizeChanged = states.size() != m_slots.size();
    m_slots = std::move(states);
    m_allocated = allocatedColor;
    m_base = base;
    m_elemSize = elemSize;
    m_cell = slotCellSize(m_slots.size());
    if (sizeChanged) updateGeometry();
    rerender();
}

int SlotGrid::columnsFor(int width) const {
    const int fit = std::max(1, (width - 1) / m_cell);
    return std::min<int>(fit, std::max<int>(1, int(m_slots.size())));
}

int SlotGrid::heightForWidth(int w) const {
    if (m_slots.empty()) return 0;
    const int cols = columnsFor(w);
    return int((m_slots.size() + size_t(cols) - 1) / size_t(cols)) * m_cell + 1;
}

QSize SlotGrid::sizeHint() const {
    return {360, heightForWidth(360)};
}

void SlotGrid::rerender() {
    m_columns = columnsFor(width());
    m_image = m_slots.empty() ? QImage() : renderSlotGrid(m_slots, m_allocated, m_columns, m_cell);
    update();
}

void SlotGrid::resizeEvent(QResizeEvent*) {
    if (columnsFor(width()) != m_columns) rerender();
}

void SlotGrid::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().window());
    p.drawImage(0, 0, m_image);
}

bool SlotGrid::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip) {
        auto* he = static_cast<QHelpEvent*>(e);
        const auto i = slotAt(he->pos(), m_slots.size(), m_columns, m_cell);
        if (!i) {
            QToolTip::hideText();
            return true;
        }
        QToolTip::showText(
            he->globalPos(),
            tr("object %1 at %2: %3")
                .arg(*i)
                .arg(formatAddress(m_base + uint64_t(*i) * m_elemSize), slotStateName(m_slots[*i])),
            this);
        return true;
    }
    return QWidget::event(e);
}

// ---- SlotLegend ------------------------------------------------------------------------------

SlotLegend::SlotLegend(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
}

void SlotLegend::setState(bool marking, QRgb allocatedColor) {
    m_marking = marking;
    m_allocated = allocatedColor;
    update();
}

std::vector<std::pair<QRgb, QString>> SlotLegend::items() const {
    if (m_marking)
        return {{slotcolors::kFree, tr("free")},
                {slotcolors::kWhite, tr("white: not marked yet")},
                {slotcolors::kGrey, tr("grey: marked, to scan")},
                {slotcolors::kBlack, tr("black: scanned")}};
    return {{slotcolors::kFree, tr("free")}, {m_allocated, tr("allocated")}};
}

QSize SlotLegend::sizeHint() const {
    return {360, (fontMetrics().height() + 6) * (m_marking ? 2 : 1) + 4};
}
QSize SlotLegend::minimumSizeHint() const {
    return {160, sizeHint().height()};
}

void SlotLegend::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const QFontMetrics fm = fontMetrics();
    const int sw = fm.height() - 2, lh = fm.height() + 6;
    int x = 2, y = 2;
    p.setPen(palette().color(QPalette::WindowText));
    for (const auto& [c, text] : items()) {
        const int w = sw + 6 + fm.horizontalAdvance(text) + 16;
        if (x > 2 && x + w > width()) x = 2, y += lh;  // wrap
        const QRect box(x, y + (lh - sw) / 2, sw, sw);
        p.fillRect(box, QColor::fromRgb(c));
        p.setPen(QColor::fromRgb(slotcolors::kOutline));
        p.drawRect(box.adjusted(0, 0, -1, -1));
        p.setPen(palette().color(QPalette::WindowText));
        p.drawText(x + sw + 6, y, fm.horizontalAdvance(text) + 2, lh, Qt::AlignVCenter, text);
        x += w;
    }
    if (y + lh + 2 > height()) setMinimumHeight(y + lh + 2);
}

// ---- SpanInspector ---------------------------------------------------------------------------

SpanInspector::SpanInspector(QWidget* parent)
    : QWidget(parent),
      m_title(new QLabel),
      m_address(new QLabel),
      m_class(new QLabel),
      m_pages(new QLabel),
      m_state(new QLabel),
      m_used(new QLabel),
      m_gc(new QLabel),
      m_note(new QLabel),
      m_grid(new SlotGrid),
      m_legend(new SlotLegend),
      m_samplesTitle(new QLabel),
      m_samples(new QTreeWidget) {
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(8, 6, 8, 6);
    QFont tf = m_title->font();
    tf.setBold(true);
    m_title->setFont(tf);
    m_title->setWordWrap(true);
    lay->addWidget(m_title);
    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setRowWrapPolicy(QFormLayout::DontWrapRows);
    form->addRow(tr("Address:"), m_address);
    form->addRow(tr("Class:"), m_class);
    form->addRow(tr("Pages:"), m_pages);
    form->addRow(tr("State:"), m_state);
    form->addRow(tr("Objects:"), m_used);
    form->addRow(tr("GC:"), m_gc);
    for (QLabel* l : {m_address, m_class, m_pages, m_state, m_used, m_gc}) {
        l->setWordWrap(true);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    }
    lay->addLayout(form);
    m_note->setWordWrap(true);
    m_note->setStyleSheet(
        QStringLiteral("QLabel { background: #fff4d6; color: #5a4300; border: 1px solid #e0c060; "
                       "padding: 6px; }"));
    m_note->hide();
    lay->addWidget(m_note);
    lay->addWidget(m_legend);  // above the grid: a short grid leaves no gap between them
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_grid);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    lay->addWidget(scroll, 1);
    m_samplesTitle->setWordWrap(true);
    lay->addWidget(m_samplesTitle);
    m_samples->setHeaderLabels({tr("Sampled allocation / stack"), tr("Size"), tr("Allocated at")});
    m_samples->setRootIsDecorated(true);
    m_samples->setUniformRowHeights(true);
    m_samples->setFocusPolicy(Qt::ClickFocus);
    m_samples->header()->setStretchLastSection(false);
    m_samples->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_samples->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_samples->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    lay->addWidget(m_samples, 1);
    setTarget(0);
    m_target.reset();
    m_title->setText(tr("Click a span in the heap map to inspect it."));
}

void SpanInspector::setTarget(uint64_t addr) {
    m_target = addr;
    m_objects.reset();
    m_title->setText(tr("Span at %1 (reading…)").arg(formatAddress(addr)));
    for (QLabel* l : {m_address, m_class, m_pages, m_state, m_used, m_gc}) l->clear();
    m_note->hide();
    m_grid->setSlots({}, 0, 0, 0);
    m_legend->setState(false, sizeClassColor(0));
    updateSamples();
}

QString SpanInspector::fieldText(const QString& name) const {
    const QLabel* l = name == QLatin1String("address")   ? m_address
                      : name == QLatin1String("class")   ? m_class
                      : name == QLatin1String("pages")   ? m_pages
                      : name == QLatin1String("state")   ? m_state
                      : name == QLatin1String("objects") ? m_used
                      : name == QLatin1String("gc")      ? m_gc
                                                         : nullptr;
    return l ? l->text() : QString();
}

void SpanInspector::setObjects(const SpanObjectsPtr& s) {
    if (!s || !m_target || s->addr != *m_target) return;
    m_objects = s;
    if (!s->found) {
        m_title->setText(
            tr("No span holds %1 at t = %2").arg(formatAddress(s->addr), formatSeconds(s->tNs)));
        for (QLabel* l : {m_address, m_class, m_pages, m_state, m_used, m_gc}) l->clear();
        m_note->setText(tr(
            "The span was freed, or not yet allocated, at this moment. Move the timeline cursor to "
            "see it again."));
        m_note->show();
        m_grid->setSlots({}, 0, 0, 0);
        updateSamples();
        return;
    }
    const session::SpanObjects& o = s->objects;
    const session::SpanRecord& r = o.span;
    const int c = r.spanClass >> 1;
    const bool large = c == 0 || r.state == uint8_t(session::SpanState::Large);
    const uint64_t pageSize = m_pageSize ? m_pageSize : 8192;
    const uint64_t bytes = uint64_t{r.npages} * pageSize;
    uint32_t elem = o.elemSize;
    if (!elem && c < int(m_classes.size())) elem = m_classes[size_t(c)].size;
    const QRgb classColor = sizeClassColor(c);
    m_title->setText(tr("Span at %1 · t = %2").arg(formatAddress(r.base), formatSeconds(s->tNs)));
    m_address->setText(tr("%1 – %2").arg(formatAddress(r.base), formatAddress(r.base + bytes)));
    m_class->setText(
        large ? tr("large object span (class 0), %1").arg(formatBytes(bytes))
              : tr("size class %1: %2 objects%3 (span class %4)")
                    .arg(c)
                    .arg(formatBytes(elem), (r.spanClass & 1) ? tr(", noscan") : QString())
                    .arg(r.spanClass));
    m_pages->setText(tr("%1 (%2)").arg(countOf(r.npages, "page", "pages"), formatBytes(bytes)));
    Tile t;
    t.kind = large ? TileKind::Large : TileKind::Span;
    t.state = r.state;
    QString state = QString::fromLatin1(tileStateName(t));
    if (r.state == uint8_t(session::SpanState::Cached) && r.ownerTid)
        state = tr("cached in thread %1's mcache (swept; count as of caching)").arg(r.ownerTid);
    m_state->setText(state);

    QString used = tr("%1 used / %2 slots (%3 %)")
                       .arg(r.allocCount)
                       .arg(r.nelems)
                       .arg(r.nelems ? 100.0 * r.allocCount / r.nelems : 0.0, 0, 'f', 0);
    if (o.bitsKnown) {
        size_t n[5] = {};
        for (SlotState st : o.slotStates) n[std::min<size_t>(4, size_t(st))]++;
        used +=
            o.marking
                ? tr("<br>slots: %1 free, %2 white, %3 grey, %4 black")
                      .arg(n[0])
                      .arg(n[2])
                      .arg(n[3])
                      .arg(n[4])
                : tr("<br>slots: %1 free, %2 allocated").arg(n[0]).arg(n[1] + n[2] + n[3] + n[4]);
    }
    m_used->setText(used);
    // Who turns grey slots black while the world runs: Go's three kinds of marking (mgc.go's
    // gcMarkWorkerDedicated/Fractional, gcMarkWorkerIdleMode, and gcAssistAlloc).
    m_gc->setText(o.marking ? tr("cycle %1, phase: %2; white / grey / black apply. Grey slots are "
                                 "scanned by the background mark worker, by idle mark workers (on "
                                 "CPUs the program leaves idle) and by the program's own threads "
                                 "as mark assists")
                                  .arg(o.cycle)
                                  .arg(m_phase.empty() ? tr("marking") : gcPhaseLabel(m_phase))
                  : o.cycle ? tr("not marking (last cycle %1)").arg(o.cycle)
                            : tr("not marking"));
    if (o.bitsKnown) {
        m_note->hide();
        m_grid->setSlots(o.slotStates, classColor, r.base, elem);
    } else {
        m_note->setText(tr(
            "Object slots are recorded only with object-level events (SPANSCOPE_OBJECTS=1 or the "
            "teaching scenarios); this session has the span's counts only."));
        m_note->show();
        m_grid->setSlots({}, classColor, r.base, elem);
    }
    m_legend->setState(o.marking, classColor);
    updateSamples();
}

void SpanInspector::setProfile(const ProfilePtr& p) {
    m_profile = p;
    updateSamples();
}

QString SpanInspector::samplesTitle() const {
    return m_samplesTitle->isHidden() ? QString() : m_samplesTitle->text();
}

// The sampled allocations live in the span (the heap profile's HeapProfile::live), each with its
// stack, innermost frame first.
void SpanInspector::updateSamples() {
    m_sampleRows.clear();
    m_samples->clear();
    const bool haveSpan = m_objects && m_objects->found;
    const bool haveProfile = m_profile && m_profile->available;
    m_samplesTitle->setVisible(haveSpan && haveProfile);
    m_samples->setVisible(false);
    if (!haveSpan || !haveProfile) return;
    const session::SpanRecord& r = m_objects->objects.span;
    const uint64_t lo = r.base, hi = r.base + uint64_t{r.npages} * (m_pageSize ? m_pageSize : 8192);
    const session::HeapProfile& hp = m_profile->profile;
    auto it =
        std::lower_bound(hp.live.begin(), hp.live.end(), lo,
                         [](const session::ProfileSample& a, uint64_t v) { return a.addr < v; });
    for (; it != hp.live.end() && it->addr < hi; ++it) m_sampleRows.push_back(*it);
    const QString when = m_profile->tNs == m_objects->tNs
                             ? QString()
                             : tr(" (profile at %1)").arg(formatSeconds(hp.toNs));
    if (m_sampleRows.empty()) {
        m_samplesTitle->setText(
            tr("No sampled allocation lives in this span%1 (the heap profile samples about one "
               "allocation per %2 allocated).")
                .arg(when, formatBytes(uint64_t(std::max<int64_t>(1, hp.rate)))));
        return;
    }
    m_samplesTitle->setText(
        tr("Sampled allocations living in this span%1: %2").arg(when).arg(m_sampleRows.size()));
    std::unordered_map<uint64_t, const session::ProfileStack*> stacks;
    for (const auto& st : hp.stacks) stacks[st.id] = &st;
    for (const session::ProfileSample& smp : m_sampleRows) {
        auto* item = new QTreeWidgetItem(m_samples);
        std::vector<FlameFrame> frames;
        if (auto st = stacks.find(smp.stack); st != stacks.end())
            frames = stackFrames(hp, *st->second);
        const QString site = frames.empty() ? tr("(no stack)") : frames.back().label();
        item->setText(0, QStringLiteral("%1  %2").arg(formatAddress(smp.addr), site));
        item->setText(1, formatBytes(smp.bytes));
        item->setText(2, formatSeconds(smp.tNs));
        item->setToolTip(0, site);
        for (auto f = frames.rbegin(); f != frames.rend(); ++f) {
            auto* child = new QTreeWidgetItem(item);
            child->setText(0, f->label());
            child->setToolTip(0, f->file.isEmpty()
                                     ? f->function
                                     : QStringLiteral("%1:%2").arg(f->file).arg(f->line));
        }
    }
    if (m_sampleRows.size() == 1) m_samples->expandAll();
    m_samples->setVisible(true);
}

}  // namespace spanscope::ui
