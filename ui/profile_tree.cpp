// The heap profile's call trees (see profile_tree.h).
#include "profile_tree.h"

#include <algorithm>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "cpu_state.h"

namespace spanscope::ui {

int64_t ProfileValues::get(ProfileMetric m) const {
    switch (m) {
        case ProfileMetric::InuseBytes:
            return inuseBytes;
        case ProfileMetric::InuseObjects:
            return inuseObjects;
        case ProfileMetric::AllocBytes:
            return allocBytes;
        case ProfileMetric::AllocObjects:
            return allocObjects;
    }
    return 0;
}

int64_t ProfileValues::bytes(ProfileMetric m) const {
    return metricIsInuse(m) ? inuseBytes : allocBytes;
}
int64_t ProfileValues::objects(ProfileMetric m) const {
    return metricIsInuse(m) ? inuseObjects : allocObjects;
}

ProfileValues& ProfileValues::operator+=(const ProfileValues& o) {
    inuseBytes += o.inuseBytes;
    inuseObjects += o.inuseObjects;
    allocBytes += o.allocBytes;
    allocObjects += o.allocObjects;
    return *this;
}

bool metricIsBytes(ProfileMetric m) {
    return m == ProfileMetric::InuseBytes || m == ProfileMetric::AllocBytes;
}
bool metricIsInuse(ProfileMetric m) {
    return m == ProfileMetric::InuseBytes || m == ProfileMetric::InuseObjects;
}

QString FlameFrame::fileLine() const {
    if (file.isEmpty()) return {};
    const int slash = file.lastIndexOf(QLatin1Char('/'));
    return QStringLiteral("%1:%2").arg(file.mid(slash + 1)).arg(line);
}

QString FlameFrame::label() const {
    const QString fl = fileLine();
    return fl.isEmpty() ? function : QStringLiteral("%1 (%2)").arg(function, fl);
}

const std::vector<FlameFrame>& ProfileTree::frames() const {
    static const std::vector<FlameFrame> none;
    return shape ? shape->frames : none;
}

ProfileValues ProfileTree::total(int node) const {
    if (!shape || prefix.empty()) return {};
    const ProfileValues& hi = prefix[size_t(shape->runEnd[size_t(node)])];
    const ProfileValues& lo = prefix[size_t(shape->runStart[size_t(node)])];
    return ProfileValues{hi.inuseBytes - lo.inuseBytes, hi.inuseObjects - lo.inuseObjects,
                         hi.allocBytes - lo.allocBytes, hi.allocObjects - lo.allocObjects};
}

ProfileValues ProfileTree::self(int node) const {
    if (!shape || prefix.empty()) return {};
    const ProfileValues& hi = prefix[size_t(shape->selfEnd[size_t(node)])];
    const ProfileValues& lo = prefix[size_t(shape->runStart[size_t(node)])];
    return ProfileValues{hi.inuseBytes - lo.inuseBytes, hi.inuseObjects - lo.inuseObjects,
                         hi.allocBytes - lo.allocBytes, hi.allocObjects - lo.allocObjects};
}

bool ProfileTree::present(int node) const {
    if (node == 0) return shape != nullptr;
    const ProfileValues v = total(node);
    return v.allocObjects != 0 || v.inuseObjects != 0;
}

std::vector<int> ProfileTree::shownChildren(int node) const {
    std::vector<int> out;
    if (!shape) return out;
    for (int c : children(node))
        if (present(c)) out.push_back(c);
    return out;
}

ProfileNode ProfileTree::node(int n) const {
    if (!shape) return {};
    return ProfileNode{parent(n), frame(n), depth(n), children(n), total(n), self(n)};
}

QString ProfileTree::label(int node) const {
    const int f = frame(node);
    return f < 0 ? QStringLiteral("all") : frames()[static_cast<size_t>(f)].label();
}

bool ProfileTree::isAncestorOrSelf(int ancestor, int node) const {
    for (int n = node; n >= 0; n = parent(n))
        if (n == ancestor) return true;
    return false;
}

namespace {

// Fills the shape's child lists (in node order, which is label order among siblings) from the
// nodes' parents: a counting sort by parent.
void linkChildren(ProfileShape* s) {
    const size_t n = s->size();
    s->childStart.assign(n + 1, 0);
    for (size_t k = 1; k < n; k++) s->childStart[size_t(s->parent[k]) + 1]++;
    for (size_t k = 0; k < n; k++) s->childStart[k + 1] += s->childStart[k];
    s->childStore.assign(n == 0 ? 0 : n - 1, 0);
    std::vector<int> fill(s->childStart.begin(), s->childStart.end() - 1);
    for (size_t k = 1; k < n; k++) s->childStore[size_t(fill[size_t(s->parent[k])]++)] = int(k);
}

// The tree of p's values over shape: each stack's scaled values at its position in path order
// (the shape's stack index is the stack's own index field when byIndex, else its place in p),
// then summed into prefix sums.
ProfileTree valuesOver(std::shared_ptr<const ProfileShape> shape, const session::HeapProfile& p,
                       bool byIndex) {
    clearAvxUpperState();  // scaleHeapSample calls exp() per stack: see cpu_state.h
    ProfileTree t;
    const size_t stacks = shape->stacks.size();
    t.prefix.assign(stacks + 1, ProfileValues{});
    t.stackValues.resize(p.stacks.size());
    t.stackNode.assign(p.stacks.size(), 0);
    for (size_t i = 0; i < p.stacks.size(); i++) {
        const session::ProfileStack& s = p.stacks[i];
        ProfileValues& v = t.stackValues[i];
        session::scaleHeapSample(s.inuseObjects, s.inuseBytes, s.rate, &v.inuseObjects,
                                 &v.inuseBytes);
        session::scaleHeapSample(s.allocObjects, s.allocBytes, s.rate, &v.allocObjects,
                                 &v.allocBytes);
        const size_t k = byIndex ? size_t(s.index) : i;
        if (k >= stacks) continue;  // not in the shape: a caller's mistake
        const ProfileShape::StackPlace place = shape->stacks[k];
        t.stackNode[i] = place.node;
        t.prefix[size_t(place.pos) + 1] += v;
    }
    for (size_t k = 1; k <= stacks; k++) t.prefix[k] += t.prefix[k - 1];
    t.shape = std::move(shape);
    return t;
}

}  // namespace

std::vector<FlameFrame> stackFrames(const session::HeapProfile& p, const session::ProfileStack& s) {
    std::vector<FlameFrame> out;
    // pcs are innermost first, and so are each location's inlined frames: collect, then reverse.
    for (uint64_t pc : s.pcs) {
        const session::ProfileLocation* loc = p.location(pc);
        if (!loc || loc->frames.empty()) {
            out.push_back(FlameFrame{QStringLiteral("0x%1").arg(pc, 0, 16), {}, 0});
            continue;
        }
        for (const session::ProfileFrame& f : loc->frames)
            out.push_back(FlameFrame{QString::fromStdString(f.function),
                                     QString::fromStdString(f.file), f.line});
    }
    if (out.empty()) out.push_back(FlameFrame{QStringLiteral("(no stack)"), {}, 0});
    std::reverse(out.begin(), out.end());
    return out;
}

ProfileTree buildProfileTree(const session::HeapProfile& p, bool bottomUp) {
    auto shape = std::make_shared<ProfileShape>();
    ProfileShape& t = *shape;
    t.bottomUp = bottomUp;
    const size_t n = p.stacks.size();
    auto addNode = [&](int parent, int frame, int depth, int run) {
        t.parent.push_back(parent);
        t.frame.push_back(frame);
        t.depth.push_back(depth);
        t.runStart.push_back(run);
        t.runEnd.push_back(run);
        t.selfEnd.push_back(run);
        t.maxDepth = std::max(t.maxDepth, depth);
        return int(t.parent.size() - 1);
    };
    addNode(-1, -1, 0, 0);
    // Frames are interned once per return address (a stack shares most of its addresses with
    // others), so a stack's path is a list of small integers.
    std::map<std::tuple<QString, QString, int>, int> frameIndex;
    std::unordered_map<uint64_t, std::vector<int>> pcFrames;  // innermost first
    auto intern = [&](FlameFrame f) {
        auto [it, fresh] = frameIndex.try_emplace(std::make_tuple(f.function, f.file, f.line),
                                                  int(t.frames.size()));
        if (fresh) t.frames.push_back(std::move(f));
        return it->second;
    };
    auto framesOf = [&](uint64_t pc) -> const std::vector<int>& {
        auto [it, fresh] = pcFrames.try_emplace(pc);
        if (fresh) {
            const session::ProfileLocation* loc = p.location(pc);
            if (!loc || loc->frames.empty())
                it->second.push_back(
                    intern(FlameFrame{QStringLiteral("0x%1").arg(pc, 0, 16), {}, 0}));
            else
                for (const session::ProfileFrame& f : loc->frames)
                    it->second.push_back(
                        intern(FlameFrame{QString::fromStdString(f.function),
                                          QString::fromStdString(f.file), f.line}));
        }
        return it->second;
    };
    const int noStack =
        p.stacks.empty() ? -1 : intern(FlameFrame{QStringLiteral("(no stack)"), {}, 0});
    // Every stack's path of frames (outermost first top-down, innermost first bottom-up).
    t.stacks.resize(n);
    std::vector<std::vector<int>> paths(n);
    for (size_t i = 0; i < n; i++) {
        const session::ProfileStack& s = p.stacks[i];
        std::vector<int>& path = paths[i];
        for (uint64_t pc : s.pcs) {
            const std::vector<int>& f = framesOf(pc);
            path.insert(path.end(), f.begin(), f.end());
        }
        if (path.empty()) path.push_back(noStack);
        if (!bottomUp) std::reverse(path.begin(), path.end());
    }
    // Frames ranked by (function, file, line); paths sorted by those ranks. Walking the sorted
    // paths, each shares a prefix with the one before (the nodes on the way), and the rest are new
    // nodes, created in rank order: siblings come out ordered by name, and no lookup is needed.
    std::vector<int> order(t.frames.size()), rank(t.frames.size());
    for (size_t f = 0; f < order.size(); f++) order[f] = int(f);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        const FlameFrame& fa = t.frames[size_t(a)];
        const FlameFrame& fb = t.frames[size_t(b)];
        return std::tie(fa.function, fa.file, fa.line) < std::tie(fb.function, fb.file, fb.line);
    });
    for (size_t r = 0; r < order.size(); r++) rank[size_t(order[r])] = int(r);
    for (std::vector<int>& path : paths)
        for (int& f : path) f = rank[size_t(f)];
    std::vector<size_t> byPath(n);
    for (size_t i = 0; i < n; i++) byPath[i] = i;
    std::sort(byPath.begin(), byPath.end(),
              [&](size_t a, size_t b) { return paths[a] < paths[b]; });
    // The stacks in that order are the path order: each node's stacks are the run from the stack
    // that created it to the last one passing through it, the stacks ending at it first.
    std::vector<int> onPath{0};  // the nodes of the previous path, the root first
    const std::vector<int>* previous = nullptr;
    for (size_t k = 0; k < n; k++) {
        const size_t i = byPath[k];
        const std::vector<int>& path = paths[i];
        size_t common = 0;
        if (previous)
            while (common < path.size() && common < previous->size() &&
                   path[common] == (*previous)[common])
                common++;
        onPath.resize(common + 1);
        for (size_t d = common; d < path.size(); d++)
            onPath.push_back(addNode(onPath.back(), order[size_t(path[d])], int(d) + 1, int(k)));
        for (int node : onPath) t.runEnd[size_t(node)] = int(k) + 1;
        // Self: where the allocator was called, the path's end top-down and its start bottom-up
        // (a bottom-up root's self is all of its run: set below).
        if (!bottomUp) t.selfEnd[size_t(onPath.back())] = int(k) + 1;
        t.stacks[i] = ProfileShape::StackPlace{int(k), onPath.back()};
        previous = &path;
    }
    if (bottomUp)
        for (size_t node = 1; node < t.size(); node++)
            if (t.depth[node] == 1) t.selfEnd[node] = t.runEnd[node];
    linkChildren(&t);
    return valuesOver(std::move(shape), p, false);
}

session::HeapProfile allStacksOf(const session::HeapProfileData& d) {
    session::HeapProfile all;
    all.stacks = d.stacks();
    all.locations = d.locations();
    return all;
}

ProfileTree profileTreeForWindow(const ProfileTree& skeleton, const session::HeapProfile& w) {
    if (!skeleton.shape) return {};
    return valuesOver(skeleton.shape, w, true);
}

std::vector<size_t> stacksThrough(const ProfileTree& t, int node) {
    std::vector<size_t> out;
    if (!t.shape || node < 0 || size_t(node) >= t.size()) return out;
    // A stack passes through node if it ends in node's subtree: its end node's run lies in node's.
    const int lo = t.shape->runStart[size_t(node)], hi = t.shape->runEnd[size_t(node)];
    for (size_t i = 0; i < t.stackNode.size(); i++) {
        const int end = t.stackNode[i];
        if (end > 0 && t.shape->runStart[size_t(end)] >= lo && t.shape->runEnd[size_t(end)] <= hi &&
            t.isAncestorOrSelf(node, end))
            out.push_back(i);
    }
    return out;
}

ProfileSearch searchProfile(const ProfileTree& t, const QString& needle) {
    ProfileSearch s;
    s.needle = needle;
    s.matchedNode.assign(t.size(), false);
    if (needle.isEmpty() || !t.shape) return s;
    const std::vector<FlameFrame>& frames = t.frames();
    std::vector<bool> frameMatches(frames.size());
    for (size_t f = 0; f < frames.size(); f++)
        frameMatches[f] = frames[f].function.contains(needle, Qt::CaseInsensitive);
    const std::vector<int>& frameOf = t.shape->frame;
    for (size_t n = 1; n < t.size(); n++)
        if (frameMatches[size_t(frameOf[n])] && t.present(int(n)))
            s.matchedNode[n] = true, s.matchedNodes++;
    for (size_t i = 0; i < t.stackNode.size(); i++) {
        for (int n = t.stackNode[i]; n > 0; n = t.parent(n))
            if (s.matchedNode[size_t(n)]) {
                s.matched += t.stackValues[i];
                break;
            }
    }
    return s;
}

std::vector<session::ProfileSample> liveSamplesOf(const session::HeapProfile& p,
                                                  const std::vector<size_t>& stacks) {
    std::unordered_set<uint64_t> ids;
    for (size_t i : stacks)
        if (i < p.stacks.size()) ids.insert(p.stacks[i].id);
    std::vector<session::ProfileSample> out;
    for (const session::ProfileSample& s : p.live)
        if (ids.count(s.stack)) out.push_back(s);
    return out;
}

bool spanFilledBy(const session::HeapProfile& p, uint64_t lo, uint64_t hi, SpanFiller* out) {
    auto first =
        std::lower_bound(p.live.begin(), p.live.end(), lo,
                         [](const session::ProfileSample& s, uint64_t a) { return s.addr < a; });
    std::unordered_map<uint64_t, uint64_t> bytesByStack;
    size_t n = 0;
    for (auto it = first; it != p.live.end() && it->addr < hi; ++it, ++n)
        bytesByStack[it->stack] += it->bytes;
    if (n == 0) return false;
    uint64_t best = 0, bestBytes = 0;
    for (const auto& [stack, bytes] : bytesByStack)
        if (bytes > bestBytes || (bytes == bestBytes && stack < best))
            best = stack, bestBytes = bytes;
    const session::ProfileStack* stack = nullptr;
    for (const session::ProfileStack& s : p.stacks)
        if (s.id == best) stack = &s;
    if (!stack) return false;
    const std::vector<FlameFrame> frames = stackFrames(p, *stack);
    out->frame = frames.back();  // the allocating frame (innermost)
    out->samples = n;
    out->otherStacks = bytesByStack.size() - 1;
    return true;
}

}  // namespace spanscope::ui
