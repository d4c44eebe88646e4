// The allocation flow: how memory moves through the allocator's levels, mcache <-> mcentral <->
// mheap <-> OS, with the scavenger between mheap and the OS and large objects going from mheap
// to mcache directly. Each path is an arrow whose width grows with its rate (log scale) at the
// cursor (a window around it) or over the selected range (session::allocationFlow). The drawing
// is a pure function (paintFlow) that the view, the exports and the tests call.
#pragma once
#include <QPainter>
#include <QWidget>

#include "spanscope/session_range.h"

namespace spanscope::ui {

// One arrow of the diagram (for tests and the legend): its label, rate and pixel width.
struct FlowArrow {
    QString label;
    double rate = 0;   // per second (bytes per second for page traffic)
    bool bytes = false;
    double width = 0;  // stroke width in pixels: 1 when idle, up to kMaxWidth at the busiest path
};
inline constexpr double kFlowMaxWidth = 18;

// The arrows, in drawing order, with widths scaled within counts and within bytes.
std::vector<FlowArrow> flowArrows(const session::FlowRates& f);

// Draws the diagram into r; caption says what the rates are over.
void paintFlow(QPainter& p, const QRectF& r, const session::FlowRates& f, const QString& caption);

class FlowView : public QWidget {
    Q_OBJECT
public:
    explicit FlowView(QWidget* parent = nullptr);
    void setFlow(const session::FlowRates& f, const QString& caption);
    const session::FlowRates& flow() const { return m_flow; }
    QSize sizeHint() const override { return {360, 520}; }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    session::FlowRates m_flow;
    QString m_caption;
};

}  // namespace spanscope::ui
