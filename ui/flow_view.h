// The allocation flow: how memory moves through the allocator's levels, mcache <-> mcentral <->
// mheap <-> OS, with the scavenger between mheap and the OS and large objects going from mheap
// to mcache directly. Each path is an arrow whose width grows with its rate (log scale) at the
// cursor (a window around it) or over the selected range (session::allocationFlow). The drawing
// is a pure function (paintFlow) that the view, the exports and the tests call. In presenter mode
// the path of the record being narrated is highlighted, a dot running along it (animateStep).
#pragma once
#include <QPainter>
#include <QVariantAnimation>
#include <QWidget>

#include "spanscope/events.h"
#include "spanscope/session_range.h"

namespace spanscope::ui {

// One arrow of the diagram (for tests and the legend): its label, rate and pixel width.
struct FlowArrow {
    QString label;
    double rate = 0;  // per second (bytes per second for page traffic)
    bool bytes = false;
    double width = 0;  // stroke width in pixels: 1 when idle, up to kMaxWidth at the busiest path
};
inline constexpr double kFlowMaxWidth = 18;

// The paths of the diagram (the order of flowArrows).
enum FlowPath {
    kFlowRefill,
    kFlowHandBack,
    kFlowSpanAlloc,
    kFlowSpanFree,
    kFlowLarge,
    kFlowLargeFree,
    kFlowGrow,
    kFlowRelease,
    kFlowPathCount
};
// The path a record moves memory along, -1 for none (GC phases, counters, sweeps that free in
// place).
int flowPathOf(const Event& e);

// The arrows, in drawing order, with widths scaled within counts and within bytes.
std::vector<FlowArrow> flowArrows(const session::FlowRates& f);

// Draws the diagram into r; caption says what the rates are over. highlight (a FlowPath, -1 for
// none) is drawn with a halo and a dot at progress (0 at its tail, 1 at its head).
void paintFlow(QPainter& p, const QRectF& r, const session::FlowRates& f, const QString& caption,
               int highlight = -1, double progress = 1);

class FlowView : public QWidget {
    Q_OBJECT
public:
    explicit FlowView(QWidget* parent = nullptr);
    void setFlow(const session::FlowRates& f, const QString& caption);
    const session::FlowRates& flow() const { return m_flow; }
    QSize sizeHint() const override { return {360, 520}; }
    // Highlights one path (-1: none) and runs a dot along it kAnimationLoops times; then the
    // highlight stays until the next step.
    void animateStep(int path);
    int highlighted() const { return m_highlight; }
    bool animating() const { return m_anim.state() == QAbstractAnimation::Running; }
    static constexpr int kAnimationMs = 900, kAnimationLoops = 3;

protected:
    void paintEvent(QPaintEvent*) override;

private:
    session::FlowRates m_flow;
    QString m_caption;
    int m_highlight = -1;
    double m_progress = 1;
    QVariantAnimation m_anim;
};

}  // namespace spanscope::ui
