// ProfileModel (see profile_model.h).
#include "profile_model.h"

#include <QFont>

#include "format.h"

namespace spanscope::ui {

ProfileModel::ProfileModel(bool bottomUp, QObject* parent)
    : QAbstractItemModel(parent), m_bottomUp(bottomUp) {}

const ProfileTree* ProfileModel::tree() const {
    if (!m_profile || !m_profile->available) return nullptr;
    return m_bottomUp ? &m_profile->bottomUp : &m_profile->topDown;
}

void ProfileModel::setProfile(const ProfilePtr& p) {
    beginResetModel();
    m_profile = p;
    m_search = nullptr;
    m_row.clear();
    if (const ProfileTree* t = tree()) {
        m_row.assign(t->nodes.size(), 0);
        for (const ProfileNode& n : t->nodes)
            for (size_t r = 0; r < n.children.size(); r++) m_row[size_t(n.children[r])] = int(r);
    }
    endResetModel();
}

void ProfileModel::setMetric(ProfileMetric m) {
    if (m == m_metric) return;
    // Every row's figures and the headers change: a reset.
    beginResetModel();
    m_metric = m;
    endResetModel();
}

void ProfileModel::setSearch(const ProfileSearch* s) {
    // Only the rows whose match changed get a new font: no reset, so expanded rows stay open.
    const ProfileSearch* old = m_search;
    m_search = s;
    const ProfileTree* t = tree();
    if (!t) return;
    auto matched = [t](const ProfileSearch* x, size_t n) {
        return x && n < x->matchedNode.size() && n < t->nodes.size() && x->matchedNode[n];
    };
    for (size_t n = 1; n < t->nodes.size(); n++)
        if (matched(old, n) != matched(s, n))
            emit dataChanged(indexOfNode(int(n), 0), indexOfNode(int(n), ColumnCount - 1),
                             {Qt::FontRole});
}

QModelIndex ProfileModel::indexOfNode(int node, int column) const {
    const ProfileTree* t = tree();
    if (!t || node <= 0 || size_t(node) >= t->nodes.size()) return {};
    return createIndex(m_row[size_t(node)], column, quintptr(node));
}

QModelIndex ProfileModel::index(int row, int column, const QModelIndex& parent) const {
    const ProfileTree* t = tree();
    if (!t || row < 0 || column < 0 || column >= ColumnCount) return {};
    if (parent.isValid() && parent.column() != 0) return {};
    const ProfileNode& p = t->nodes[size_t(nodeOf(parent))];
    if (size_t(row) >= p.children.size()) return {};
    return createIndex(row, column, quintptr(p.children[size_t(row)]));
}

QModelIndex ProfileModel::parent(const QModelIndex& child) const {
    const ProfileTree* t = tree();
    if (!t || !child.isValid()) return {};
    const int p = t->nodes[size_t(nodeOf(child))].parent;
    return p <= 0 ? QModelIndex() : createIndex(m_row[size_t(p)], 0, quintptr(p));
}

int ProfileModel::rowCount(const QModelIndex& parent) const {
    const ProfileTree* t = tree();
    if (!t || (parent.isValid() && parent.column() != 0)) return 0;
    return int(t->nodes[size_t(nodeOf(parent))].children.size());
}

int ProfileModel::columnCount(const QModelIndex&) const {
    return ColumnCount;
}

QVariant ProfileModel::data(const QModelIndex& index, int role) const {
    const ProfileTree* t = tree();
    if (!t || !index.isValid()) return {};
    const int node = nodeOf(index);
    const ProfileNode& n = t->nodes[size_t(node)];
    const FlameFrame& f = t->frames[size_t(n.frame)];
    if (role == kNodeRole) return node;
    if (role == Qt::FontRole) {
        if (m_search && size_t(node) < m_search->matchedNode.size() &&
            m_search->matchedNode[size_t(node)]) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    }
    if (role == Qt::TextAlignmentRole)
        return index.column() >= InclusiveBytes ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                                : QVariant();
    if (role == Qt::ToolTipRole)
        return f.file.isEmpty() ? f.function
                                : QStringLiteral("%1\n%2:%3").arg(f.function, f.file).arg(f.line);
    const int64_t total = t->root().total.get(m_metric);
    const bool sortOnly = role == kSortRole;
    if (role != Qt::DisplayRole && !sortOnly) return {};
    switch (index.column()) {
        case Function:
            return f.function;
        case Location:
            return f.fileLine();
        case InclusiveBytes: {
            const int64_t v = n.total.bytes(m_metric);
            return sortOnly ? QVariant(qlonglong(v))
                            : QVariant(formatBytes(uint64_t(std::max<int64_t>(0, v))));
        }
        case InclusiveObjects: {
            const int64_t v = n.total.objects(m_metric);
            return sortOnly ? QVariant(qlonglong(v))
                            : QVariant(formatCount(uint64_t(std::max<int64_t>(0, v))));
        }
        case SelfBytes: {
            const int64_t v = n.self.bytes(m_metric);
            return sortOnly ? QVariant(qlonglong(v))
                            : QVariant(formatBytes(uint64_t(std::max<int64_t>(0, v))));
        }
        case SelfObjects: {
            const int64_t v = n.self.objects(m_metric);
            return sortOnly ? QVariant(qlonglong(v))
                            : QVariant(formatCount(uint64_t(std::max<int64_t>(0, v))));
        }
        case Share: {
            const double share = total > 0 ? double(n.total.get(m_metric)) / double(total) : 0.0;
            return sortOnly ? QVariant(share)
                            : QVariant(QStringLiteral("%1%").arg(share * 100, 0, 'f', 1));
        }
    }
    return {};
}

QVariant ProfileModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    const bool inuse = metricIsInuse(m_metric);
    switch (section) {
        case Function:
            return m_bottomUp ? tr("Allocating function / callers") : tr("Function");
        case Location:
            return tr("Location");
        case InclusiveBytes:
            return inuse ? tr("In use") : tr("Allocated");
        case InclusiveObjects:
            return tr("Objects");
        case SelfBytes:
            return inuse ? tr("Self in use") : tr("Self allocated");
        case SelfObjects:
            return tr("Self objects");
        case Share:
            return tr("Share");
    }
    return {};
}

}  // namespace spanscope::ui
