// Time ranges, comparison and exports in the main window, kept in one place so that MainWindow
// only creates this object and hands it its menus:
//  - while a range is selected the size-class table, the fragmentation panel and the heap map show
//    it (each under a RangeBanner; its button, Esc or a plain click on the timeline clears the
//    range and brings them back to the cursor's moment), from the same RangeSnapshot as the panel;
//  - the Range dock (range_panel.h) follows the timeline's selection (TimelineView::rangeSelected /
//    rangeCleared; the whole session when nothing is selected), and its "Jump to" menu moves the
//    cursor;
//  - the Flow dock (the allocation flow) (flow_view.h) shows the rates over the selection, else in
//  a window of
//    ±kFlowWindowNs around the cursor; in presenter mode it is the side's front tab and animates
//    the narrated record's path;
//  - File > Compare with… (compare_view.h), Export view… (PNG / SVG at a chosen size, export.h),
//    Export CSV… (session::exportCsv), Export frames… (frame_export.h).
// Range statistics and flows are computed by RangeClient workers, never on the GUI thread.
#pragma once
#include <QObject>
#include <QPointer>
#include <optional>

#include "compare_view.h"
#include "flow_view.h"
#include "range_client.h"
#include "range_panel.h"

class QMenu;
class QTabBar;
class QDockWidget;

namespace spanscope::ui {

class MainWindow;

inline constexpr int64_t kFlowWindowNs = 100'000'000;  // ±100 ms around the cursor

class RangeFeatures : public QObject {
    Q_OBJECT
public:
    explicit RangeFeatures(MainWindow* window);
    void addFileActions(QMenu* file);
    void addViewActions(QMenu* view);
    RangePanel* rangePanel() const { return m_panel; }
    FlowView* flowView() const { return m_flow; }
    QDockWidget* rangeDock() const { return m_rangeDock; }
    QDockWidget* flowDock() const { return m_flowDock; }
    bool flowInView() const { return m_flowInView; }
    // The views Export view… offers, by name: heapmap, timeline, fragmentation, sizeclasses, range,
    // flow, profile, window (the compare window has its own Export button). nullptr for an unknown
    // name.
    QWidget* exportableView(const QString& name) const;
    static QStringList exportableViews();
    bool exportView(const QString& name, const QString& path, QSize size, QString* err);
    CompareWindow* compareWith(
        const QString& other);  // a new compare window: this session vs other
    CompareWindow* lastCompare() const { return m_compare; }

signals:
    void rangeShown();  // the range panel shows a new answer
    void flowShown();   // the flow view shows a new answer

protected:
    bool eventFilter(QObject* watched, QEvent* e) override;

private:
    static void keepTitles(QTabBar* tb);
    void onSessionShown();
    void placeFlowForPresenter();
    QDockWidget* frontOfFlowGroup() const;  // the shown tab of the Flow dock's group
    void showInPanels(const RangePtr& r);   // nullptr: back to the moment
    void requestRange();
    void requestFlowAtCursor();
    void exportViewDialog();
    void exportCsvDialog();
    void exportFramesDialog();
    MainWindow* m_window;
    RangePanel* m_panel;
    FlowView* m_flow;
    QDockWidget* m_rangeDock;
    QDockWidget* m_flowDock;
    QPointer<QDockWidget> m_frontBeforePresenter;  // restored to the front when presenter mode ends
    RangeClient m_rangeClient, m_flowClient;
    QString m_path;
    int64_t m_end = 0;
    std::optional<std::pair<int64_t, int64_t>> m_selection;
    QPointer<CompareWindow> m_compare;
    int64_t m_animatedId = -1;
    int64_t m_flowAt = 0;       // the middle of the last flow window asked for
    bool m_flowAtStep = false;  // ... the narrated record's time (presenter mode), else the cursor
    bool m_flowStale = false;   // a moment was shown while the flow view was hidden
    bool m_flowInView = true;  // its dock's tab is the current one (QDockWidget::visibilityChanged)
                               // // the record whose path the flow view last animated
};

}  // namespace spanscope::ui
