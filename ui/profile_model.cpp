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
    m_rows.clear();
    m_rowOf.clear();
    endResetModel();
}

const std::vector<int>& ProfileModel::rowsOf(int node) const {
    auto [it, fresh] = m_rows.try_emplace(node);
    if (fresh) {
        if (const ProfileTree* t = tree()) it->second = t->shownChildren(node);
        for (size_t r = 0; r < it->second.size(); r++) m_rowOf[it->second[r]] = int(r);
    }
    return it->second;
}

int ProfileModel::rowOf(int node) const {
    const ProfileTree* t = tree();
    if (!t || node <= 0) return 0;
    rowsOf(t->parent(node));
    auto it = m_rowOf.find(node);
    return it == m_rowOf.end() ? -1 : it->second;
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
        return x && n < x->matchedNode.size() && n < t->size() && x->matchedNode[n];
    };
    // Only rows the view has listed can be on screen; the others get their font when listed.
    for (const auto& [node, row] : m_rowOf)
        if (matched(old, size_t(node)) != matched(s, size_t(node)))
            emit dataChanged(createIndex(row, 0, quintptr(node)),
                             createIndex(row, ColumnCount - 1, quintptr(node)), {Qt::FontRole});
}

QModelIndex ProfileModel::indexOfNode(int node, int column) const {
    const ProfileTree* t = tree();
    if (!t || node <= 0 || size_t(node) >= t->size()) return {};
    const int row = rowOf(node);
    return row < 0 ? QModelIndex() : createIndex(row, column, quintptr(node));
}

QModelIndex ProfileModel::index(int row, int column, const QModelIndex& parent) const {
    const ProfileTree* t = tree();
    if (!t || row < 0 || column < 0 || column >= ColumnCount) return {};
    if (parent.isValid() && parent.column() != 0) return {};
    const std::vector<int>& rows = rowsOf(nodeOf(parent));
    if (size_t(row) >= rows.size()) return {};
    return createIndex(row, column, quintptr(rows[size_t(row)]));
}

QModelIndex ProfileModel::parent(const QModelIndex& child) const {
    const ProfileTree* t = tree();
    if (!t || !child.isValid()) return {};
    const int p = t->parent(nodeOf(child));
    return p <= 0 ? QModelIndex() : createIndex(std::max(0, rowOf(p)), 0, quintptr(p));
}

int ProfileModel::rowCount(const QModelIndex& parent) const {
    const ProfileTree* t = tree();
    if (!t || (parent.isValid() && parent.column() != 0)) return 0;
    return int(rowsOf(nodeOf(parent)).size());
}

int ProfileModel::columnCount(const QModelIndex&) const {
    return ColumnCount;
}

QVariant ProfileModel::data(const QModelIndex& index, int role) const {
    const ProfileTree* t = tree();
    if (!t || !index.isValid()) return {};
    const int node = nodeOf(index);
    const ProfileNode n = t->node(node);
    const FlameFrame& f = t->frames()[size_t(n.frame)];
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
    const int64_t total = t->total(0).get(m_metric);
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
