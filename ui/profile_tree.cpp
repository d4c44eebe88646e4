// The heap profile's call trees (see profile_tree.h).
#include "profile_tree.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace spanscope::ui {

int64_t ProfileValues::get(ProfileMetric m) const {
    switch (m) {
    case ProfileMetric::InuseBytes: return inuseBytes;
    case ProfileMetric::InuseObjects: return inuseObjects;
    case ProfileMetric::AllocBytes: return allocBytes;
    case ProfileMetric::AllocObjects: return allocObjects;
    }
    return 0;
}

int64_t ProfileValues::bytes(ProfileMetric m) const { return metricIsInuse(m) ? inuseBytes : allocBytes; }
int64_t ProfileValues::objects(ProfileMetric m) const { return metricIsInuse(m) ? inuseObjects : allocObjects; }

ProfileValues& ProfileValues::operator+=(const ProfileValues& o) {
    inuseBytes += o.inuseBytes;
    inuseObjects += o.inuseObjects;
    allocBytes += o.allocBytes;
    allocObjects += o.allocObjects;
    return *this;
}

bool metricIsBytes(ProfileMetric m) { return m == ProfileMetric::InuseBytes || m == ProfileMetric::AllocBytes; }
bool metricIsInuse(ProfileMetric m) { return m == ProfileMetric::InuseBytes || m == ProfileMetric::InuseObjects; }

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

int ProfileTree::maxDepth() const {
    int d = 0;
    for (const ProfileNode& n : nodes) d = std::max(d, n.depth);
    return d;
}

std::vector<FlameFrame> stackFrames(const session::HeapProfile& p, const session::ProfileStack& s) {
    std::vector<FlameFrame> out;
    // pcs are innermost first, and so are each location's inlined frames: collect, then reverse.
    for (uint64_t pc : s.pcs) {
        auto it = p.locations.find(pc);
        if (it == p.locations.end() || it->second.frames.empty()) {
            out.push_back(FlameFrame{QStringLiteral("0x%1").arg(pc, 0, 16), {}, 0});
            continue;
        }
        for (const session::ProfileFrame& f : it->second.frames)
            out.push_back(FlameFrame{QString::fromStdString(f.function), QString::fromStdString(f.file), f.line});
    }
    if (out.empty()) out.push_back(FlameFrame{QStringLiteral("(no stack)"), {}, 0});
    std::reverse(out.begin(), out.end());
    return out;
}

ProfileTree buildProfileTree(const session::HeapProfile& p, bool bottomUp) {
    ProfileTree t;
    t.bottomUp = bottomUp;
    t.nodes.push_back(ProfileNode{});
    std::map<std::tuple<QString, QString, int>, int> frameIndex;
    std::unordered_map<uint64_t, int> child;  // parent << 32 | frame -> node
    t.stackNode.resize(p.stacks.size());
    t.stackValues.resize(p.stacks.size());
    for (size_t i = 0; i < p.stacks.size(); i++) {
        const session::ProfileStack& s = p.stacks[i];
        ProfileValues v;
        session::scaleHeapSample(s.inuseObjects, s.inuseBytes, s.rate, &v.inuseObjects, &v.inuseBytes);
        session::scaleHeapSample(s.allocObjects, s.allocBytes, s.rate, &v.allocObjects, &v.allocBytes);
        t.stackValues[i] = v;
        std::vector<FlameFrame> frames = stackFrames(p, s);
        if (bottomUp) std::reverse(frames.begin(), frames.end());
        int node = 0, firstNode = 0;
        t.nodes[0].total += v;
        for (FlameFrame& f : frames) {
            auto [fit, fresh] = frameIndex.try_emplace(std::make_tuple(f.function, f.file, f.line), int(t.frames.size()));
            if (fresh) t.frames.push_back(std::move(f));
            const uint64_t key = uint64_t(uint32_t(node)) << 32 | uint32_t(fit->second);
            auto [cit, added] = child.try_emplace(key, int(t.nodes.size()));
            if (added) {
                ProfileNode n;
                n.parent = node;
                n.frame = fit->second;
                n.depth = t.nodes[size_t(node)].depth + 1;
                t.nodes.push_back(n);
                t.nodes[size_t(node)].children.push_back(cit->second);
            }
            node = cit->second;
            if (firstNode == 0) firstNode = node;
            t.nodes[size_t(node)].total += v;
        }
        // Self: where the allocator was called, the path's end top-down and its start bottom-up.
        const int allocating = bottomUp ? firstNode : node;
        t.nodes[size_t(allocating)].self += v;
        t.stackNode[i] = node;
    }
    for (ProfileNode& n : t.nodes)
        std::sort(n.children.begin(), n.children.end(), [&](int a, int b) {
            const FlameFrame& fa = t.frames[size_t(t.nodes[size_t(a)].frame)];
            const FlameFrame& fb = t.frames[size_t(t.nodes[size_t(b)].frame)];
            return std::tie(fa.function, fa.file, fa.line) < std::tie(fb.function, fb.file, fb.line);
        });
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

std::vector<session::ProfileSample> liveSamplesOf(const session::HeapProfile& p, const std::vector<size_t>& stacks) {
    std::unordered_set<uint64_t> ids;
    for (size_t i : stacks)
        if (i < p.stacks.size()) ids.insert(p.stacks[i].id);
    std::vector<session::ProfileSample> out;
    for (const session::ProfileSample& s : p.live)
        if (ids.count(s.stack)) out.push_back(s);
    return out;
}

bool spanFilledBy(const session::HeapProfile& p, uint64_t lo, uint64_t hi, SpanFiller* out) {
    auto first = std::lower_bound(p.live.begin(), p.live.end(), lo,
                                  [](const session::ProfileSample& s, uint64_t a) { return s.addr < a; });
    std::unordered_map<uint64_t, uint64_t> bytesByStack;
    size_t n = 0;
    for (auto it = first; it != p.live.end() && it->addr < hi; ++it, ++n) bytesByStack[it->stack] += it->bytes;
    if (n == 0) return false;
    uint64_t best = 0, bestBytes = 0;
    for (const auto& [stack, bytes] : bytesByStack)
        if (bytes > bestBytes || (bytes == bestBytes && stack < best)) best = stack, bestBytes = bytes;
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
