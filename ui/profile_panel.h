// The Profile panel (a dock of the main window): who allocated the memory, from the session's heap
// profile (Go's MemProfileRate sampling, spanscope/profile.h). A flame graph and the call tree
// top-down and bottom-up (inclusive and self, sortable) of the bytes or objects in use at the
// timeline's moment, or allocated within a time range when one is selected; search by function
// name (matches highlighted, their share shown). Selecting a frame emits the addresses of that
// stack's live sampled objects (the window outlines their spans in the heap map).
// Reads through SessionClient::requestProfile (the worker builds both trees); only the latest
// answer is shown.
#pragma once
#include <QWidget>
#include <optional>

#include "flame_graph.h"
#include "profile_model.h"
#include "session_client.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTabWidget;
class QTreeView;

namespace spanscope::ui {

class ProfilePanel : public QWidget {
    Q_OBJECT
public:
    explicit ProfilePanel(SessionClient* client, QWidget* parent = nullptr);

    // The timeline's moment: without a range, the profile shown is the one at t.
    void setMoment(int64_t tNs);
    // A time range selected on the timeline: allocated bytes within [fromNs, toNs] (and, of those,
    // what is live at toNs); clearRange goes back to the moment.
    void setRange(int64_t fromNs, int64_t toNs);
    void clearRange();
    std::optional<std::pair<int64_t, int64_t>> range() const { return m_range; }
    void clear();  // another session: nothing shown until the next answer

    void setMetric(ProfileMetric m);
    ProfileMetric metric() const { return m_metric; }
    void setSearch(const QString& needle);
    const ProfileSearch& search() const { return m_search; }
    // Selects the heaviest top-down frame matching the search (Return in the search field does);
    // false if nothing matches.
    bool selectHeaviestMatch();
    // Selects a node of the top-down tree (the flame graph's) or of the bottom-up tree; -1 clears.
    void selectNode(int node, bool bottomUp = false);
    int selectedNode() const { return m_selectedNode; }
    bool selectedInBottomUp() const { return m_selectedBottomUp; }
    // The live sampled objects of the selected frame's stacks (what the heap map outlines).
    const std::vector<session::ProfileSample>& selectedSamples() const { return m_selectedSamples; }

    // Whether anything shows the profile at the moment: its dock's tab in front, or the span
    // inspector open (MainWindow says). When nothing does and no frame is selected (whose
    // objects the heap map outlines), a new moment is not folded (a pass over every sample of the
    // session); the panel catches up when it is wanted again, or when catchUp() is called (an
    // export). A window not shown (tests, exports) always folds.
    void setWanted(bool wanted);
    bool catchUp();  // true if a profile was asked for (profileShown follows)
    bool stale() const { return m_stale; }

    const ProfilePtr& profile() const { return m_profile; }
    FlameGraphView* flameGraph() const { return m_flame; }
    ProfileModel* topDownModel() const { return m_topDown; }
    ProfileModel* bottomUpModel() const { return m_bottomUp; }
    QTreeView* topDownView() const { return m_topDownView; }
    QTreeView* bottomUpView() const { return m_bottomUpView; }
    QTabWidget* tabs() const { return m_tabs; }
    QString summaryText() const;
    QString matchText() const;

signals:
    void profileShown();
    // The addresses of the selected frame's live sampled objects (ascending); empty: no selection.
    void selectionChanged(const std::vector<uint64_t>& addresses);

private:
    void request();
    void onProfile(const ProfilePtr& p);
    void applySearch();
    void updateSummary();
    void reselect();
    QStringList pathOf(const ProfileTree& t, int node) const;
    int nodeAtPath(const ProfileTree& t, const QStringList& path) const;
    QTreeView* makeTreeView(ProfileModel* model);

    SessionClient* m_client;
    int64_t m_t = -1;
    bool m_wanted = true, m_stale = false;
    std::optional<std::pair<int64_t, int64_t>> m_range;
    ProfilePtr m_profile;
    ProfileMetric m_metric = ProfileMetric::InuseBytes;
    ProfileSearch m_search, m_searchBottomUp;
    int m_selectedNode = -1;
    bool m_selectedBottomUp = false;
    QStringList
        m_selectedPath;  // kept across moments: the same frame is re-selected in the next profile
    QStringList m_zoomPath;  // the flame graph's zoom, kept the same way
    std::vector<session::ProfileSample> m_selectedSamples;

    QComboBox* m_metricBox;
    QLineEdit* m_searchEdit;
    QLabel* m_summary;
    QLabel* m_matches;
    QTabWidget* m_tabs;
    FlameGraphView* m_flame;
    ProfileModel* m_topDown;
    ProfileModel* m_bottomUp;
    QTreeView* m_topDownView;
    QTreeView* m_bottomUpView;
};

}  // namespace spanscope::ui
