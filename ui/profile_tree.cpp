// The heap profile's call trees (see profile_tree.h).
#include "profile_tree.h"

#include <algorithm>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>

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

QString ProfileTree::label(int node) const {
    const int f = nodes[static_cast<size_t>(node)].frame;
    return f < 0 ? QStringLiteral("all") : frames[static_cast<size_t>(f)].label();
}

bool ProfileTree::isAncestorOrSelf(int ancestor, int node) const {
    for (int n = node; n >= 0; n = nodes[static_cast<size_t>(n)].parent)
        if (n == ancestor) return true;
    return false;
}

void ProfileTree::linkChildren() {
    // Counting sort of the nodes by parent: each parent's children contiguous, in node order.
    std::vector<int> start(nodes.size() + 1, 0);
    for (size_t n = 1; n < nodes.size(); n++) start[size_t(nodes[n].parent) + 1]++;
    for (size_t n = 0; n < nodes.size(); n++) start[n + 1] += start[n];
    auto store = std::make_shared<std::vector<int>>(nodes.empty() ? 0 : nodes.size() - 1);
    std::vector<int> fill(start.begin(), start.end() - 1);
    depth = 0;
    for (size_t n = 1; n < nodes.size(); n++) {
        (*store)[size_t(fill[size_t(nodes[n].parent)]++)] = int(n);
        nodes[n].depth = nodes[size_t(nodes[n].parent)].depth + 1;
        depth = std::max(depth, nodes[n].depth);
    }
    const int* base = store->data();
    for (size_t n = 0; n < nodes.size(); n++)
        nodes[n].children = ChildList{base + start[n], base + start[n + 1]};
    childStore = std::move(store);
}

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
    ProfileTree t;
    t.bottomUp = bottomUp;
    t.nodes.push_back(ProfileNode{});
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
    // Every stack's path of frames (outermost first top-down, innermost first bottom-up) and its
    // scaled values.
    const size_t n = p.stacks.size();
    t.stackNode.resize(n);
    t.stackSelfNode.resize(n);
    t.stackValues.resize(n);
    std::vector<std::vector<int>> paths(n);
    for (size_t i = 0; i < n; i++) {
        const session::ProfileStack& s = p.stacks[i];
        ProfileValues& v = t.stackValues[i];
        session::scaleHeapSample(s.inuseObjects, s.inuseBytes, s.rate, &v.inuseObjects,
                                 &v.inuseBytes);
        session::scaleHeapSample(s.allocObjects, s.allocBytes, s.rate, &v.allocObjects,
                                 &v.allocBytes);
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
    std::vector<int> onPath{0};  // the nodes of the previous path, the root first
    const std::vector<int>* previous = nullptr;
    for (size_t i : byPath) {
        const std::vector<int>& path = paths[i];
        size_t common = 0;
        if (previous)
            while (common < path.size() && common < previous->size() &&
                   path[common] == (*previous)[common])
                common++;
        onPath.resize(common + 1);
        for (size_t d = common; d < path.size(); d++) {
            const int parent = onPath.back();
            ProfileNode node;
            node.parent = parent;
            node.frame = order[size_t(path[d])];
            node.depth = int(d) + 1;
            onPath.push_back(int(t.nodes.size()));
            t.nodes.push_back(std::move(node));
        }
        const ProfileValues& v = t.stackValues[i];
        for (int node : onPath) t.nodes[size_t(node)].total += v;
        // Self: where the allocator was called, the path's end top-down and its start bottom-up.
        t.stackSelfNode[i] = bottomUp ? onPath[1] : onPath.back();
        t.nodes[size_t(t.stackSelfNode[i])].self += v;
        t.stackNode[i] = onPath.back();
        previous = &path;
    }
    t.linkChildren();
    return t;
}

session::HeapProfile allStacksOf(const session::HeapProfileData& d) {
    session::HeapProfile all;
    all.stacks = d.stacks();
    all.locations = d.locations();
    return all;
}

ProfileTree profileTreeForWindow(const ProfileTree& skeleton, const session::HeapProfile& w) {
    ProfileTree t;
    t.bottomUp = skeleton.bottomUp;
    t.frames = skeleton.frames;
    const size_t n = skeleton.nodes.size();
    if (n == 0) return t;
    // The skeleton's nodes, their values cleared; then each stack's values where its path ends
    // (total) and where its self goes, and every node's total summed into its parent's: children
    // come after their parents, so one backward pass.
    t.nodes = skeleton.nodes;
    for (ProfileNode& node : t.nodes) node.total = node.self = ProfileValues{};
    t.stackValues.resize(w.stacks.size());
    t.stackNode.resize(w.stacks.size());
    t.stackSelfNode.resize(w.stacks.size());
    for (size_t i = 0; i < w.stacks.size(); i++) {
        const session::ProfileStack& s = w.stacks[i];
        ProfileValues& v = t.stackValues[i];
        session::scaleHeapSample(s.inuseObjects, s.inuseBytes, s.rate, &v.inuseObjects,
                                 &v.inuseBytes);
        session::scaleHeapSample(s.allocObjects, s.allocBytes, s.rate, &v.allocObjects,
                                 &v.allocBytes);
        const bool known = s.index < skeleton.stackNode.size();  // else a caller's mistake
        t.stackNode[i] = known ? skeleton.stackNode[s.index] : 0;
        t.stackSelfNode[i] = known ? skeleton.stackSelfNode[s.index] : 0;
        if (!known) continue;
        t.nodes[size_t(t.stackNode[i])].total += v;
        t.nodes[size_t(t.stackSelfNode[i])].self += v;
    }
    for (size_t k = n - 1; k > 0; k--) t.nodes[size_t(t.nodes[k].parent)].total += t.nodes[k].total;
    t.depth = skeleton.depth;
    t.childStore = skeleton.childStore;
    // The nodes with anything in the window (a stack in it has allocated at least one object).
    // When that is every node (a moment late in a session, or a range over all of it), the tree
    // is the skeleton's shape: its child lists, shared, still fit. Otherwise the others are left
    // out and the rest renumbered in order: parents still come first, siblings keep their order.
    auto empty = [](const ProfileNode& node) {
        return node.total.allocObjects == 0 && node.total.inuseObjects == 0;
    };
    size_t kept = 1;
    for (size_t k = 1; k < n; k++) kept += !empty(t.nodes[k]);
    if (kept == n) return t;
    std::vector<int> renumber(n, -1);
    renumber[0] = 0;
    size_t next = 1;
    for (size_t k = 1; k < n; k++) {
        if (empty(t.nodes[k])) continue;
        ProfileNode& node = t.nodes[next];
        node = t.nodes[k];
        node.parent = renumber[size_t(node.parent)];
        renumber[k] = int(next++);
    }
    t.nodes.resize(kept);
    for (int& node : t.stackNode) node = renumber[size_t(node)];
    for (int& node : t.stackSelfNode) node = renumber[size_t(node)];
    t.linkChildren();
    return t;
}

std::vector<size_t> stacksThrough(const ProfileTree& t, int node) {
    std::vector<size_t> out;
    for (size_t i = 0; i < t.stackNode.size(); i++)
        if (t.isAncestorOrSelf(node, t.stackNode[i])) out.push_back(i);
    return out;
}

ProfileSearch searchProfile(const ProfileTree& t, const QString& needle) {
    ProfileSearch s;
    s.needle = needle;
    s.matchedNode.assign(t.nodes.size(), false);
    if (needle.isEmpty()) return s;
    std::vector<bool> frameMatches(t.frames.size());
    for (size_t f = 0; f < t.frames.size(); f++)
        frameMatches[f] = t.frames[f].function.contains(needle, Qt::CaseInsensitive);
    for (size_t n = 1; n < t.nodes.size(); n++)
        if (frameMatches[size_t(t.nodes[n].frame)]) s.matchedNode[n] = true, s.matchedNodes++;
    for (size_t i = 0; i < t.stackNode.size(); i++) {
        for (int n = t.stackNode[i]; n > 0; n = t.nodes[size_t(n)].parent)
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
