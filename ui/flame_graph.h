// The flame graph of the heap profile (Brendan Gregg's, drawn as an icicle: the root on top,
// callees below, so that a deep stack scrolls down rather than off the top). Each frame is a box
// as wide as its share of the chosen metric; siblings in name order, so that boxes stay put as the
// cursor moves. As the heap map does, the pixels come from pure functions (layoutFlameGraph,
// renderFlameGraph) that tests call without a window; FlameGraphView only blits and hit-tests.
// Click selects a frame (the window outlines the spans holding its sampled objects), double-click
// zooms to it (its ancestors stay on top, full width), double-click on the root or Escape zooms
// out.
#pragma once
#include <QFont>
#include <QImage>
#include <QWidget>
#include <optional>

#include "profile_tree.h"

namespace spanscope::ui {

struct FlameBox {
    int node = 0;
    QRectF rect;
};

// The boxes for tree t shown with zoomNode (0: the root) at full width in a view `width` pixels
// wide, rows rowHeight high; boxes under minWidth pixels are left out with their subtrees.
std::vector<FlameBox> layoutFlameGraph(const ProfileTree& t, ProfileMetric m, int zoomNode,
                                       int width, int rowHeight, double minWidth = 0.5);

// A frame's colour: warm (the classic flame graph's), a hue from its function's name, so that a
// function has one colour everywhere. Search matches are magenta; while searching, the rest are
// grey.
QRgb flameColor(const FlameFrame& f);
namespace flamecolors {
inline constexpr QRgb kBackground = 0xfffdfdfd;
inline constexpr QRgb kRoot = 0xffc9ccd3;
inline constexpr QRgb kMatch = 0xffd34fd3;
inline constexpr QRgb kUnmatched = 0xffd9d9d9;
inline constexpr QRgb kSelected = 0xff1a1a1a;  // outline
inline constexpr QRgb kText = 0xff111111;
}  // namespace flamecolors

// The text drawn in a box `width` pixels wide: the label ("function (file:line)") if it fits, else
// the function elided on the right if at least three of its characters fit, else nothing.
QString flameBoxText(const FlameFrame& f, bool root, const QFontMetrics& fm, double width);

struct FlameRenderOptions {
    QFont font;
    int selectedNode = -1;
    const ProfileSearch* search = nullptr;  // matches highlighted (not owned)
};
QImage renderFlameGraph(const ProfileTree& t, const std::vector<FlameBox>& boxes, QSize size,
                        const FlameRenderOptions& o);

// The node whose box holds pixel p, if any.
std::optional<int> flameHitTest(const std::vector<FlameBox>& boxes, QPointF p);

class FlameGraphView : public QWidget {
    Q_OBJECT
public:
    explicit FlameGraphView(QWidget* parent = nullptr);
    // The tree to draw (nullptr clears); the view keeps the pointer until the next call.
    void setTree(const ProfileTree* t, ProfileMetric m);
    void setSearch(const ProfileSearch* s);
    void setSelectedNode(int node);  // -1: none
    int selectedNode() const { return m_selected; }
    void zoomTo(int node);  // 0: the whole profile
    int zoomNode() const { return m_zoom; }
    int rowHeight() const { return fontMetrics().height() + 6; }
    const std::vector<FlameBox>& boxes() const { return m_boxes; }
    const QImage& image() const { return m_image; }
    QString tooltipFor(int node) const;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override { return {200, rowHeight() * 3}; }

signals:
    void nodeClicked(int node);  // -1: a click on nothing
    void zoomed(int node);

protected:
    void paintEvent(QPaintEvent*) override;
    void resizeEvent(QResizeEvent*) override;
    void mousePressEvent(QMouseEvent*) override;
    void mouseDoubleClickEvent(QMouseEvent*) override;
    void keyPressEvent(QKeyEvent*) override;
    bool event(QEvent*) override;

private:
    void relayout();
    const ProfileTree* m_tree = nullptr;
    ProfileMetric m_metric = ProfileMetric::InuseBytes;
    const ProfileSearch* m_search = nullptr;
    int m_selected = -1;
    int m_zoom = 0;
    std::vector<FlameBox> m_boxes;
    QImage m_image;
};

}  // namespace spanscope::ui
