// The call tree of the heap profile as a Qt item model (the Profile panel's top-down and bottom-up
// tables): one row per ProfileNode, columns function, location, inclusive and self bytes and
// objects of the chosen metric (in use, or allocated), and the share of the total. data() only
// reads the snapshot handed in (ProfileSnapshot, built on the worker thread).
#pragma once
#include <QAbstractItemModel>

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
    bool m_bottomUp;
    ProfilePtr m_profile;
    ProfileMetric m_metric = ProfileMetric::InuseBytes;
    const ProfileSearch* m_search = nullptr;
    std::vector<int> m_row;  // per node: its row under its parent
};

}  // namespace spanscope::ui
