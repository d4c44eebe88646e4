// The call tree of the heap profile as a Qt item model (the Profile panel's top-down and bottom-up
// tables): one row per present ProfileNode, columns function, location, inclusive and self bytes
// and objects of the chosen metric (in use, or allocated), and the share of the total. data() only
// reads the snapshot handed in (ProfileSnapshot, built on the worker thread).
#pragma once
#include <QAbstractItemModel>
#include <unordered_map>
#include <vector>

#include "snapshots.h"

namespace spanscope::ui {

class ProfileModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column {
        Function,
        Location,
        InclusiveBytes,
        InclusiveObjects,
        SelfBytes,
        SelfObjects,
        Share,
        ColumnCount
    };
    static constexpr int kSortRole = Qt::UserRole + 1;  // the raw number behind a figure
    static constexpr int kNodeRole = Qt::UserRole + 2;  // the ProfileNode index

    explicit ProfileModel(bool bottomUp, QObject* parent = nullptr);
    void setProfile(const ProfilePtr& p);
    void setMetric(ProfileMetric m);
    void setSearch(const ProfileSearch* s);  // matched rows in bold; nullptr clears (not owned)
    bool bottomUp() const { return m_bottomUp; }
    const ProfileTree* tree() const;
    QModelIndex indexOfNode(int node, int column = 0) const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

private:
    int nodeOf(const QModelIndex& i) const { return i.isValid() ? int(i.internalId()) : 0; }
    // The rows under node: its present children, listed when the view first asks (a tree of
    // millions of nodes costs only what is expanded).
    const std::vector<int>& rowsOf(int node) const;
    int rowOf(int node) const;  // node's row under its parent
    bool m_bottomUp;
    ProfilePtr m_profile;
    ProfileMetric m_metric = ProfileMetric::InuseBytes;
    const ProfileSearch* m_search = nullptr;
    mutable std::unordered_map<int, std::vector<int>> m_rows;  // per listed node: its rows
    mutable std::unordered_map<int, int> m_rowOf;  // per node in a listed node's rows: its row
};

}  // namespace spanscope::ui
