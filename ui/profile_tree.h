// The heap profile as call trees (issue 14's GUI): a session's sampled allocations
// (spanscope/profile.h) folded into a top-down tree (callers first: the flame graph and the
// top-down table) and a bottom-up tree (the allocating frame first, then its callers). Pure data,
// built on the session worker's thread and read by the profile models and the flame graph.
//
// Values are Go's estimates: each stack's sampled counts scaled by scaleHeapSample with that
// stack's own average size, as 'spanscope-cli top' and 'spanscope-cli pprof' scale them, then
// summed; so the root of either tree holds the same totals as the CLI's per-site sum.
// A node's "self" is what stacks ending at it carry: in the top-down tree, what the function
// allocated itself (it called the allocator there); in the bottom-up tree only the roots (the
// allocating frames) have any.
//
// The viewer moves the cursor often over one session: it builds a skeleton of each tree once over
// every stack of the session (buildProfileTree on HeapProfileData::stacks()), and per moment only
// puts that window's values on its shape (profileTreeForWindow: one pass over the stacks, none over
// the nodes, no sorting, no lookups); the nodes with nothing in the window are not shown.
#pragma once
#include <QString>
#include <cstdint>
#include <memory>
#include <vector>

#include "spanscope/profile.h"

namespace spanscope::ui {

// What the profile measures. In use: at the moment (or, in a range, of what the range allocated);
// allocated: since the start (or within the range).
enum class ProfileMetric { InuseBytes, InuseObjects, AllocBytes, AllocObjects };

struct ProfileValues {
    int64_t inuseBytes = 0, inuseObjects = 0, allocBytes = 0, allocObjects = 0;
    int64_t get(ProfileMetric m) const;
    // The bytes and objects that go with m (in use, or allocated).
    int64_t bytes(ProfileMetric m) const;
    int64_t objects(ProfileMetric m) const;
    ProfileValues& operator+=(const ProfileValues& o);
};

bool metricIsBytes(ProfileMetric m);
bool metricIsInuse(ProfileMetric m);

// One frame of a stack: a function at a source line (an inlined frame is a frame of its own).
struct FlameFrame {
    QString function;
    QString file;  // full path as symbolized; empty if unknown
    int line = 0;
    QString fileLine() const;  // "parser.c:120" (base name), or empty
    QString label() const;     // "json_decode (parser.c:120)", or the function alone
};

// A node's children: a range of its shape's child list (every tree over one shape shares it, so a
// node costs no allocation of its own).
struct ChildList {
    const int* first = nullptr;
    const int* last = nullptr;
    const int* begin() const { return first; }
    const int* end() const { return last; }
    size_t size() const { return size_t(last - first); }
    bool empty() const { return first == last; }
    int operator[](size_t i) const { return first[i]; }
};

// The structure of a call tree, built once over a set of stacks and shared by every tree of values
// over it. Node 0 is the root ("all"); a parent comes before its children; siblings are ordered by
// label, so that the layout does not jump as values change. The stacks are kept in path order
// (sorted by their paths of frames), so the stacks through a node are one contiguous run of that
// order, and the stacks whose path ends at a node come first in its run: any node's values are
// one subtraction of prefix sums over the stacks (ProfileTree::total), whatever the tree's size.
struct ProfileShape {
    bool bottomUp = false;
    std::vector<FlameFrame> frames;  // distinct frames
    std::vector<int> parent;         // per node; -1 for the root
    std::vector<int> frame;          // per node: index into frames; -1 for the root
    std::vector<int> depth;          // per node; the root is 0
    std::vector<int> childStart;  // per node + 1: node n's children are childStore[childStart[n]..]
    std::vector<int> childStore;
    std::vector<int> runStart, runEnd;  // per node: its stacks' positions in path order
    std::vector<int> selfEnd;           // per node: [runStart, selfEnd) is what its self holds
    struct StackPlace {
        int pos = 0;   // the stack's position in path order
        int node = 0;  // the node its path ends at
    };
    std::vector<StackPlace> stacks;  // per stack
    int maxDepth = 0;
    size_t size() const { return parent.size(); }
    ChildList children(int node) const {
        const int* base = childStore.data();
        return ChildList{base + childStart[size_t(node)], base + childStart[size_t(node) + 1]};
    }
};

// A node as a value: its place in the shape and its values in the tree.
struct ProfileNode {
    int parent = -1;
    int frame = -1;      // index into the frames; -1 for the root ("all")
    int depth = 0;       // the root is 0
    ChildList children;  // every child in the shape, those with nothing in this tree included
    ProfileValues total, self;
};

// A call tree: a shape and the values of one profile (a window of the session, or the profile it
// was built from) over it. Building it costs a pass over the profile's stacks, not over the nodes.
// Nodes with nothing in the profile (no object allocated or in use) stay in the shape but are not
// present(): what the views show are the present children (shownChildren).
struct ProfileTree {
    std::shared_ptr<const ProfileShape> shape;  // null: no tree at all
    std::vector<ProfileValues> prefix;          // per path-order position + 1: the values before it
    std::vector<int> stackNode;  // per HeapProfile::stacks index: the node its path ends at
    std::vector<ProfileValues> stackValues;  // per HeapProfile::stacks index: its scaled values

    size_t size() const { return shape ? shape->size() : 0; }  // nodes in the shape
    bool bottomUp() const { return shape && shape->bottomUp; }
    const std::vector<FlameFrame>& frames() const;
    int parent(int node) const { return shape->parent[size_t(node)]; }
    int frame(int node) const { return shape->frame[size_t(node)]; }
    int depth(int node) const { return shape->depth[size_t(node)]; }
    ChildList children(int node) const { return shape->children(node); }
    ProfileValues total(int node) const;
    ProfileValues self(int node) const;
    bool present(int node) const;                    // anything allocated or in use there
    std::vector<int> shownChildren(int node) const;  // the present children, in order
    ProfileNode node(int node) const;
    ProfileNode root() const { return node(0); }
    QString label(int node) const;  // the node's frame label ("all" for the root)
    bool isAncestorOrSelf(int ancestor, int node) const;
    int maxDepth() const { return shape ? shape->maxDepth : 0; }
};

// The frames of stack s, outermost (e.g. main) first, inlined frames expanded; a stack without
// symbols gets its addresses as function names (the reader fills those in).
std::vector<FlameFrame> stackFrames(const session::HeapProfile& p, const session::ProfileStack& s);

ProfileTree buildProfileTree(const session::HeapProfile& p, bool bottomUp);

// The tree of window w (a HeapProfileData::window) over the skeleton's shape, built over all the
// session's stacks (buildProfileTree of a profile holding HeapProfileData::stacks(), in index
// order): the same present nodes and values as buildProfileTree(w, skeleton.bottomUp()), in a time
// proportional to the session's stacks, whatever the number of nodes.
ProfileTree profileTreeForWindow(const ProfileTree& skeleton, const session::HeapProfile& w);
// A profile holding every stack of d with no counts: what skeletons are built from.
session::HeapProfile allStacksOf(const session::HeapProfileData& d);

// Indices into HeapProfile::stacks of the stacks whose path passes through node.
std::vector<size_t> stacksThrough(const ProfileTree& t, int node);

// Search by function name (case-insensitive substring): the nodes whose function matches, and
// the share of the profile in stacks with at least one matching frame (each stack counted once).
struct ProfileSearch {
    QString needle;
    std::vector<bool> matchedNode;  // per node
    ProfileValues matched;          // summed over matching stacks
    size_t matchedNodes = 0;
};
ProfileSearch searchProfile(const ProfileTree& t, const QString& needle);

// The live sampled objects of the given stacks (HeapProfile::live filtered), by address.
std::vector<session::ProfileSample> liveSamplesOf(const session::HeapProfile& p,
                                                  const std::vector<size_t>& stacks);

// The site that filled [lo, hi): of the live samples there, the stack with the most sampled
// bytes; its allocating frame. False if no sampled object lives there.
struct SpanFiller {
    FlameFrame frame;
    size_t samples = 0;      // live samples in the range
    size_t otherStacks = 0;  // other stacks with samples there
};
bool spanFilledBy(const session::HeapProfile& p, uint64_t lo, uint64_t hi, SpanFiller* out);

}  // namespace spanscope::ui
