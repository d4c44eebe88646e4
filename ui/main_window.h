// The main window: heap map in the centre (with its legend), the timeline below, fragmentation,
// size classes and the session panel as docks at the side; every panel shows the moment chosen on
// the timeline. All reading goes through SessionClient (a worker thread); errors (missing, corrupt,
// foreign, newer-version files, a recorder that fails) appear in a banner above the map.
#pragma once
#include <QLabel>
#include <QMainWindow>
#include <QTimer>

#include "fragmentation_view.h"
#include "heap_map_view.h"
#include "live_recording.h"
#include "presenter.h"
#include "session_client.h"
#include "session_panel.h"
#include "size_class_table.h"
#include "span_inspector.h"
#include "timeline_view.h"

class QMenu;
class QDockWidget;
class QAction;

namespace spanscope::ui {

void initResources();  // the .qrc of a static library must be registered once

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void openFile(const QString& path);
    // Records the built-in demo (or any program) live and shows it as it grows.
    bool startLiveDemo(double seconds = 120);
    // Records and follows a built-in scenario (`spanscope-cli demo --list`).
    bool startScenario(const QString& name, double seconds = 120);
    // Attaches to a running program that runs with spanscope ('spanscope-cli ps').
    bool startAttach(qint64 pid);
    bool startLive(const QString& program, const QStringList& args, const QStringList& env = {});
    bool isRecording() const { return m_live->running(); }
    bool followingEnd() const;
    void setFollowingEnd(bool on);
    // Stops the live recording of an attached process (the program runs on); the session stays.
    bool detach();
    qint64 attachedPid() const { return m_attachedPid; }
    void seekTo(int64_t tNs);  // what the timeline cursor does
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
    // Opens the span inspector on the span holding addr; it follows the timeline's moment.
    void inspectSpan(uint64_t addr);
    Presenter* presenter() const { return m_presenter; }
    QString statusText() const;
    // A panel by name (heapmap, timeline, fragmentation, sizeclasses, session, inspector): the map with its
    // legend, or a dock with its title.
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
    qint64 m_attachedPid = 0;  // the process this window is attached to (while recording it)
    QMenu* m_recentMenu = nullptr;
    QAction* m_followAction = nullptr;
    QLabel* m_stEvents;
    QLabel* m_stTime;
    QLabel* m_stHeap;
    QLabel* m_stCycle;
    QLabel* m_stRead;
    QTimer m_seriesThrottle;  // live: series reloaded at most once a second
    SpanInspector* m_inspector = nullptr;
    QDockWidget* m_inspectorDock = nullptr;
    QTimer m_sideThrottle;    // live, following: fragmentation and size classes at most once a second
    bool m_sidePending = false;
    MomentPtr m_moment;
    SeriesPtr m_series;
    QString m_path;
    bool m_seriesPending = false;
};

}  // namespace spanscope::ui
