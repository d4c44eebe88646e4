// The main window: heap map in the centre (with its legend), the timeline below, fragmentation,
// size classes and the session panel as docks at the side; every panel shows the moment chosen on
// the timeline. All reading goes through SessionClient (a worker thread); errors (missing, corrupt,
// foreign, newer-version files, a recorder that fails) appear in a banner above the map.
#pragma once
#include <QLabel>
#include <QMainWindow>
#include <QTimer>
#include <functional>

#include "fragmentation_view.h"
#include "heap_map_view.h"
#include "live_recording.h"
#include "presenter.h"
#include "profile_panel.h"
#include "session_client.h"
#include "session_panel.h"
#include "size_class_table.h"
#include "span_inspector.h"
#include "timeline_view.h"

class QMenu;
class QDockWidget;
class QAction;

namespace spanscope::ui {

class RangeFeatures;
void initResources();  // the .qrc of a static library must be registered once

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void openFile(const QString& path);
    // Records src live (the built-in demo, a scenario, a program, or a running program attached to
    // with 'spanscope-cli ps'/'attach') and shows it as it grows. A refusal shows in the banner.
    bool startLive(const LiveSource& src);
    bool isRecording() const { return m_live->running(); }
    // File > Save session as: copies the session file (not while it is still being recorded).
    bool saveSessionAs(const QString& path);
    QString sessionPath() const { return m_path; }
    bool followingEnd() const;
    void setFollowingEnd(bool on);
    // Stops the live recording of an attached process (the program runs on); the session stays.
    bool detach();
    qint64 attachedPid() const { return m_attachedPid; }
    // What the timeline cursor does. t is clamped to the session (0, or a bounded recording's
    // first kept moment, .. its end); returns the time shown.
    int64_t seekTo(int64_t tNs);
    // Shows only the spans of this size class in colour on the map (-1: all), as a click on the
    // legend or a row of the size-class table does.
    void setClassFilter(int sizeClass);
    // The size and dock layout the window had when last closed (QSettings), else fitToScreen().
    void restoreLayout();
    // Sizes the window to its screen's available area (90% of it, at most 2560x1600) and the docks
    // in proportion, so that every panel is on screen from 1024x640 to 4K.
    void fitToScreen();
    // Sizes the window and arranges the docks for this size (fitToScreen's work, for a size given).
    void layoutFor(QSize size);
    void saveLayout() const;
    // Moves the cursor to the start of the next (+1) or previous (-1) sweep generation / GC cycle.
    bool stepCycle(int direction);

    // Shown state, for tests and for --screenshot.
    MomentPtr moment() const { return m_moment; }
    SummaryPtr summary() const { return m_client->summary(); }
    QString bannerText() const;
    HeapMapView* heapMap() const { return m_map; }
    TimelineView* timeline() const { return m_timeline; }
    FragmentationView* fragmentation() const { return m_frag; }
    SizeClassTable* sizeClasses() const { return m_table; }
    SessionPanel* sessionPanel() const { return m_sessionPanel; }
    SpanInspector* spanInspector() const { return m_inspector; }
    HeapMapLegend* heapMapLegend() const { return m_legend; }
    // Opens the span inspector on the span holding addr; it follows the moment the heap map shows
    // (the timeline's, or a selected range's end).
    void inspectSpan(uint64_t addr);
    void refreshInspector();  // asks for the inspected span at the map's moment again
    Presenter* presenter() const { return m_presenter; }
    // Time ranges, the flow view, compare and exports (range_features.h).
    RangeFeatures* rangeFeatures() const { return m_range; }
    ProfilePanel* profilePanel() const { return m_profile; }
    QString statusText() const;
    // The status bar's figures that do not fit their room (the layout test wants none).
    QStringList clippedStatusTexts() const;
    // A panel by name (heapmap, timeline, fragmentation, sizeclasses, session, inspector, profile):
    // the map with its legend, or a dock with its title.
    QWidget* panel(const QString& name) const;
    static QStringList recentFiles();

signals:
    void momentShown();
    void spanInspected();  // the inspector shows a new answer
    void seriesShown();
    void errorShown(const QString& message);

protected:
    void closeEvent(QCloseEvent*) override;
    void dragEnterEvent(QDragEnterEvent*) override;
    void dropEvent(QDropEvent*) override;

private:
    void buildMenus();
    void buildStatusBar();
    void showBanner(const QString& text, bool error);
    void hideBanner();
    void addRecent(const QString& path);
    void refreshRecentMenu();
    void onOpened(const SummaryPtr& s);
    void onSummaryUpdated(const SummaryPtr& s);
    void onMoment(const MomentPtr& m);
    void showSidePanels();
    void onSeries(const SeriesPtr& s);
    void updateStatus();
    void stepCursor(double fraction);

    SessionClient* m_client;
    LiveRecording* m_live;
    HeapMapView* m_map;
    HeapMapLegend* m_legend;
    QLabel* m_banner;
    TimelineView* m_timeline;
    FragmentationView* m_frag;
    SizeClassTable* m_table;
    SessionPanel* m_sessionPanel;
    Presenter* m_presenter;
    RangeFeatures* m_range = nullptr;
    qint64 m_attachedPid = 0;  // the process this window is attached to (while recording it)
    QMenu* m_recentMenu = nullptr;
    QAction* m_followAction = nullptr;
    QAction* m_saveAsAction = nullptr;
    QAction* m_stopAction = nullptr;
    QLabel* m_stEvents;
    QLabel* m_stTime;
    QLabel* m_stHeap;
    QLabel* m_stCycle;
    QLabel* m_stRead;
    QLabel* m_stMessage = nullptr;
    QTimer m_seriesThrottle;  // live: series reloaded at most once a second
    SpanInspector* m_inspector = nullptr;
    ProfilePanel* m_profile = nullptr;
    bool m_profileInView = true;  // the profile dock's tab is in front
    QDockWidget* m_inspectorDock = nullptr;
    QTimer m_sideThrottle;  // live, following: fragmentation and size classes at most once a second
    bool m_sidePending = false;
    MomentPtr m_moment;
    SeriesPtr m_series;
    QString m_path;
    bool m_seriesPending = false;
    std::function<void()> m_legendFit;  // sizes the legend's scroll area to its rows
};

}  // namespace spanscope::ui
