// ProfilePanel (see profile_panel.h).
#include "profile_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTreeView>
#include <QVBoxLayout>

#include "format.h"

namespace spanscope::ui {

ProfilePanel::ProfilePanel(SessionClient* client, QWidget* parent)
    : QWidget(parent),
      m_client(client),
      m_metricBox(new QComboBox),
      m_searchEdit(new QLineEdit),
      m_summary(new QLabel),
      m_matches(new QLabel),
      m_tabs(new QTabWidget),
      m_flame(new FlameGraphView),
      m_topDown(new ProfileModel(false, this)),
      m_bottomUp(new ProfileModel(true, this)) {
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(4, 4, 4, 4);
    lay->setSpacing(4);
    auto* bar = new QHBoxLayout;
    m_metricBox->addItem(tr("In use: bytes"), int(ProfileMetric::InuseBytes));
    m_metricBox->addItem(tr("In use: objects"), int(ProfileMetric::InuseObjects));
    m_metricBox->addItem(tr("Allocated: bytes"), int(ProfileMetric::AllocBytes));
    m_metricBox->addItem(tr("Allocated: objects"), int(ProfileMetric::AllocObjects));
    m_metricBox->setToolTip(
        tr("In use: the sampled objects live at the cursor (of those allocated in the range, "
           "when one is selected). Allocated: everything sampled up to the cursor, or in the "
           "range. Figures are Go's estimates from the samples (pprof's scaling)."));
    m_searchEdit->setPlaceholderText(tr("Search functions"));
    m_searchEdit->setClearButtonEnabled(true);
    bar->addWidget(m_metricBox);
    bar->addWidget(m_searchEdit, 1);
    lay->addLayout(bar);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    lay->addWidget(m_summary);
    m_matches->setWordWrap(true);
    m_matches->hide();
    lay->addWidget(m_matches);

    auto* scroll = new QScrollArea;
    scroll->setWidget(m_flame);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_tabs->addTab(scroll, tr("Flame graph"));
    m_topDownView = makeTreeView(m_topDown);
    m_bottomUpView = makeTreeView(m_bottomUp);
    m_tabs->addTab(m_topDownView, tr("Top-down"));
    m_tabs->addTab(m_bottomUpView, tr("Bottom-up"));
    lay->addWidget(m_tabs, 1);

    connect(m_metricBox, &QComboBox::activated, this,
            [this](int i) { setMetric(ProfileMetric(m_metricBox->itemData(i).toInt())); });
    connect(m_searchEdit, &QLineEdit::textChanged, this, &ProfilePanel::setSearch);
    connect(m_searchEdit, &QLineEdit::returnPressed, this, &ProfilePanel::selectHeaviestMatch);
    connect(m_flame, &FlameGraphView::nodeClicked, this,
            [this](int node) { selectNode(node, false); });
    connect(m_flame, &FlameGraphView::zoomed, this, [this](int node) {
        m_zoomPath = m_profile && m_profile->available && node > 0
                         ? pathOf(m_profile->topDown, node)
                         : QStringList();
    });
    connect(m_client, &SessionClient::profileReady, this, &ProfilePanel::onProfile);
    updateSummary();
}

QTreeView* ProfilePanel::makeTreeView(ProfileModel* model) {
    auto* proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(model);
    proxy->setSortRole(ProfileModel::kSortRole);
    auto* v = new QTreeView;
    v->setModel(proxy);
    v->setSortingEnabled(true);
    v->sortByColumn(ProfileModel::InclusiveBytes, Qt::DescendingOrder);
    v->setUniformRowHeights(true);
    v->setAlternatingRowColors(true);
    v->setFocusPolicy(Qt::ClickFocus);  // the arrow keys stay with the window's cursor stepping
    // The function and location keep a readable width (the dock can be narrow: the figures then
    // scroll), the figures fit their contents.
    v->header()->setStretchLastSection(false);
    v->header()->setSectionResizeMode(ProfileModel::Function, QHeaderView::Interactive);
    v->header()->setSectionResizeMode(ProfileModel::Location, QHeaderView::Interactive);
    v->setColumnWidth(ProfileModel::Function,
                      v->fontMetrics().horizontalAdvance(QLatin1Char('x')) * 30);
    v->setColumnWidth(ProfileModel::Location,
                      v->fontMetrics().horizontalAdvance(QLatin1Char('x')) * 18);
    for (int c = ProfileModel::InclusiveBytes; c < ProfileModel::ColumnCount; c++)
        v->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    connect(v, &QTreeView::clicked, this, [this, proxy, model](const QModelIndex& i) {
        selectNode(proxy->mapToSource(i).data(ProfileModel::kNodeRole).toInt(), model->bottomUp());
    });
    return v;
}

void ProfilePanel::setMoment(int64_t t) {
    m_t = t;
    if (!m_range) request();
}

void ProfilePanel::setRange(int64_t from, int64_t to) {
    if (to < from) std::swap(from, to);
    m_range = std::make_pair(from, to);
    if (metricIsInuse(m_metric)) setMetric(ProfileMetric::AllocBytes);
    request();
}

void ProfilePanel::clearRange() {
    if (!m_range) return;
    m_range.reset();
    if (!metricIsInuse(m_metric)) setMetric(ProfileMetric::InuseBytes);
    request();
}

void ProfilePanel::clear() {
    m_profile.reset();
    m_range.reset();
    m_t = -1;
    m_selectedPath.clear();
    m_zoomPath.clear();
    onProfile(nullptr);
}

void ProfilePanel::setWanted(bool wanted) {
    m_wanted = wanted;
    if (wanted && m_stale) request();
}

bool ProfilePanel::catchUp() {
    if (!m_stale) return false;
    const bool wanted = m_wanted;
    m_wanted = true;  // for this request only
    request();
    m_wanted = wanted;
    return true;
}

void ProfilePanel::request() {
    if (!m_client->isOpen()) return;
    if (!m_wanted && m_selectedPath.empty() && window()->isVisible()) {
        m_stale = true;
        return;
    }
    m_stale = false;
    if (m_range)
        m_client->requestProfile(m_range->first, m_range->second, true);
    else if (m_t >= 0)
        m_client->requestProfile(0, m_t, false);
}

void ProfilePanel::onProfile(const ProfilePtr& p) {
    m_profile = p;
    m_topDown->setProfile(p);
    m_bottomUp->setProfile(p);
    m_flame->setTree(p && p->available ? &p->topDown : nullptr, m_metric);
    if (p && p->available &&
        !m_zoomPath.isEmpty()) {  // the same frame as before, if it is still there
        const QStringList keep = m_zoomPath;
        const int node = nodeAtPath(p->topDown, keep);
        m_flame->zoomTo(std::max(node, 0));
        m_zoomPath = keep;  // kept even when this moment lacks it
    }
    applySearch();
    reselect();
    // The heaviest path of the top-down tree, opened a few levels.
    auto* proxy = m_topDownView->model();
    QModelIndex i = proxy->index(0, 0);
    for (int depth = 0; depth < 8 && i.isValid(); depth++, i = proxy->index(0, 0, i))
        m_topDownView->expand(i);
    updateSummary();
    emit profileShown();
}

void ProfilePanel::setMetric(ProfileMetric m) {
    m_metric = m;
    m_metricBox->setCurrentIndex(m_metricBox->findData(int(m)));
    m_topDown->setMetric(m);
    m_bottomUp->setMetric(m);
    m_flame->setTree(m_profile && m_profile->available ? &m_profile->topDown : nullptr, m);
    applySearch();
    reselect();
    updateSummary();
}

void ProfilePanel::setSearch(const QString& needle) {
    if (m_searchEdit->text() != needle)
        m_searchEdit->setText(needle);  // comes back here through textChanged
    else
        applySearch();
}

void ProfilePanel::applySearch() {
    const QString needle = m_searchEdit->text().trimmed();
    const bool have = m_profile && m_profile->available;
    m_search = have ? searchProfile(m_profile->topDown, needle) : ProfileSearch{};
    m_searchBottomUp = have ? searchProfile(m_profile->bottomUp, needle) : ProfileSearch{};
    m_flame->setSearch(needle.isEmpty() ? nullptr : &m_search);
    m_topDown->setSearch(needle.isEmpty() ? nullptr : &m_search);
    m_bottomUp->setSearch(needle.isEmpty() ? nullptr : &m_searchBottomUp);
    m_matches->setVisible(!needle.isEmpty());
    m_matches->setText(matchText());
}

QString ProfilePanel::matchText() const {
    if (m_search.needle.isEmpty()) return {};
    if (!m_profile || !m_profile->available) return tr("No profile to search.");
    if (m_search.matchedNodes == 0) return tr("No function matches “%1”.").arg(m_search.needle);
    const int64_t total = m_profile->topDown.total(0).get(m_metric);
    const int64_t matched = m_search.matched.get(m_metric);
    const double share = total > 0 ? 100.0 * double(matched) / double(total) : 0;
    const QString amount =
        metricIsBytes(m_metric)
            ? formatBytes(uint64_t(std::max<int64_t>(0, matched)))
            : tr("%1 objects").arg(formatCount(uint64_t(std::max<int64_t>(0, matched))));
    return tr("“%1”: %2 of the profile (%3) passes through %4.")
        .arg(m_search.needle, QStringLiteral("%1%").arg(share, 0, 'f', 1), amount,
             m_search.matchedNodes == 1 ? tr("1 matching frame")
                                        : tr("%1 matching frames").arg(m_search.matchedNodes));
}

QString ProfilePanel::summaryText() const {
    return m_summary->text();
}

void ProfilePanel::updateSummary() {
    if (!m_profile) {
        m_summary->setText(m_client->isOpen() ? tr("Reading the heap profile…")
                                              : tr("No session open."));
        return;
    }
    if (!m_profile->available) {
        m_summary->setText(m_profile->error);
        return;
    }
    const auto& hp = m_profile->profile;
    const ProfileValues v = m_profile->topDown.total(0);
    QString text;
    if (m_profile->ranged)
        text = tr("Allocated in %1 – %2: %3 in %4 objects, of which %5 still in use at the end.")
                   .arg(formatSeconds(hp.fromNs), formatSeconds(hp.toNs),
                        formatBytes(uint64_t(std::max<int64_t>(0, v.allocBytes))),
                        formatCount(uint64_t(std::max<int64_t>(0, v.allocObjects))),
                        formatBytes(uint64_t(std::max<int64_t>(0, v.inuseBytes))));
    else
        text = tr("In use at %1: %2 in %3 objects; allocated up to then: %4.")
                   .arg(formatSeconds(hp.toNs),
                        formatBytes(uint64_t(std::max<int64_t>(0, v.inuseBytes))),
                        formatCount(uint64_t(std::max<int64_t>(0, v.inuseObjects))),
                        formatBytes(uint64_t(std::max<int64_t>(0, v.allocBytes))));
    text += QLatin1Char(' ');
    if (hp.samples == 0)
        text +=
            tr("Nothing was sampled in this session (SPANSCOPE_MEMPROFILERATE=0, or too little "
               "allocated).");
    else if (hp.rate <= 1)
        text += tr("Every allocation sampled (exact).");
    else
        text += tr("Estimated from %1 samples, one per %2 allocated on average.")
                    .arg(formatCount(hp.samples), formatBytes(uint64_t(hp.rate)));
    if (!hp.symbolized)
        text += tr(" Not symbolized yet (it is when the recording ends): addresses shown.");
    m_summary->setText(text);
}

QStringList ProfilePanel::pathOf(const ProfileTree& t, int node) const {
    QStringList path;
    for (int n = node; n > 0; n = t.parent(n)) path.prepend(t.label(n));
    return path;
}

int ProfilePanel::nodeAtPath(const ProfileTree& t, const QStringList& path) const {
    int node = 0;
    for (const QString& label : path) {
        int next = -1;
        for (int c : t.children(node))
            if (t.present(c) && t.label(c) == label) next = c;
        if (next < 0) return -1;
        node = next;
    }
    return node;
}

bool ProfilePanel::selectHeaviestMatch() {
    if (!m_profile || !m_profile->available || m_search.matchedNodes == 0) return false;
    const ProfileTree& t = m_profile->topDown;
    int best = -1;
    int64_t bestValue = 0;
    for (size_t n = 0; n < t.size(); n++) {
        if (!m_search.matchedNode[n]) continue;
        const int64_t v = t.total(int(n)).get(m_metric);
        if (best < 0 || v > bestValue) best = int(n), bestValue = v;
    }
    selectNode(best, false);
    m_tabs->setCurrentIndex(0);
    return true;
}

void ProfilePanel::selectNode(int node, bool bottomUp) {
    const ProfileTree* t = m_profile && m_profile->available
                               ? (bottomUp ? &m_profile->bottomUp : &m_profile->topDown)
                               : nullptr;
    if (!t || node < 0 || size_t(node) >= t->size()) {
        m_selectedPath.clear();
        m_selectedNode = -1;
    } else {
        m_selectedPath = pathOf(*t, node);
        m_selectedPath.prepend(QString());  // non-empty even for the root: "something is selected"
        m_selectedNode = node;
    }
    m_selectedBottomUp = bottomUp;
    reselect();
}

void ProfilePanel::reselect() {
    const ProfileTree* t = m_profile && m_profile->available
                               ? (m_selectedBottomUp ? &m_profile->bottomUp : &m_profile->topDown)
                               : nullptr;
    m_selectedNode = t && !m_selectedPath.isEmpty() ? nodeAtPath(*t, m_selectedPath.mid(1)) : -1;
    m_flame->setSelectedNode(m_selectedBottomUp ? -1 : m_selectedNode);
    std::vector<uint64_t> addrs;
    m_selectedSamples.clear();
    if (t && m_selectedNode >= 0) {
        m_selectedSamples = liveSamplesOf(m_profile->profile, stacksThrough(*t, m_selectedNode));
        for (const auto& s : m_selectedSamples) addrs.push_back(s.addr);
    }
    emit selectionChanged(addrs);
}

}  // namespace spanscope::ui
