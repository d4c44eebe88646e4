// IntrusiveList (allocator/spanscope/detail/intrusive_list.h): the one list type behind mcentral's
// span sets, allspans, the thread-cache and mutator lists and the root handles. Checked here on a
// plain node type, walking the links both ways after every change.
#include "spanscope/detail/intrusive_list.h"

#include <gtest/gtest.h>

#include <vector>

namespace spanscope::detail {
namespace {

struct Node {
    int id = 0;
    Node* next = nullptr;
    Node* prev = nullptr;
    Node* otherNext = nullptr;  // a second pair of links: one node on two lists at once
    Node* otherPrev = nullptr;
};
using List = IntrusiveList<Node, &Node::next, &Node::prev>;
using OtherList = IntrusiveList<Node, &Node::otherNext, &Node::otherPrev>;

// Constant-initialised, as the allocator's lists in static and thread-local storage must be.
constinit List g_static;

// The ids front to back, after checking that the backward walk and size() agree with it.
template <typename L>
std::vector<int> ids(const L& l) {
    std::vector<int> fwd, back;
    for (Node* n : l) fwd.push_back(n->id);
    for (Node* n = l.last(); n; n = L::prev(n)) back.insert(back.begin(), n->id);
    EXPECT_EQ(fwd, back) << "forward and backward walks differ";
    EXPECT_EQ(fwd.size(), l.size());
    EXPECT_EQ(l.empty(), fwd.empty());
    return fwd;
}

TEST(IntrusiveListTest, PushesAtBothEnds) {
    Node n[4];
    for (int i = 0; i < 4; i++) n[i].id = i;
    List l;
    EXPECT_TRUE(ids(l).empty());
    l.pushBack(&n[1]);
    l.pushBack(&n[2]);
    l.pushFront(&n[0]);
    l.pushBack(&n[3]);
    EXPECT_EQ(ids(l), (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(l.first(), &n[0]);
    EXPECT_EQ(l.last(), &n[3]);
    EXPECT_EQ(List::next(&n[1]), &n[2]);
    EXPECT_EQ(List::prev(&n[1]), &n[0]);
}

TEST(IntrusiveListTest, RemovesFromFrontMiddleAndBackAndClearsTheLinks) {
    Node n[5];
    for (int i = 0; i < 5; i++) n[i].id = i;
    List l;
    for (Node& x : n) l.pushBack(&x);
    l.remove(&n[2]);
    EXPECT_EQ(ids(l), (std::vector<int>{0, 1, 3, 4}));
    l.remove(&n[0]);
    EXPECT_EQ(ids(l), (std::vector<int>{1, 3, 4}));
    l.remove(&n[4]);
    EXPECT_EQ(ids(l), (std::vector<int>{1, 3}));
    for (int i : {0, 2, 4}) {
        EXPECT_EQ(n[i].next, nullptr) << i;
        EXPECT_EQ(n[i].prev, nullptr) << i;
    }
    l.remove(&n[1]);
    l.remove(&n[3]);
    EXPECT_TRUE(ids(l).empty());
    EXPECT_EQ(l.first(), nullptr);
    EXPECT_EQ(l.last(), nullptr);
    // A removed node can go on again.
    l.pushFront(&n[3]);
    EXPECT_EQ(ids(l), (std::vector<int>{3}));
}

TEST(IntrusiveListTest, PopFrontIsFirstInFirstOutAfterPushBack) {
    Node n[3];
    for (int i = 0; i < 3; i++) n[i].id = i;
    List l;
    for (Node& x : n) l.pushBack(&x);
    EXPECT_EQ(l.popFront(), &n[0]);
    EXPECT_EQ(l.popFront(), &n[1]);
    EXPECT_EQ(ids(l), (std::vector<int>{2}));
    EXPECT_EQ(l.popFront(), &n[2]);
    EXPECT_EQ(l.popFront(), nullptr);
    EXPECT_EQ(l.size(), 0u);
}

TEST(IntrusiveListTest, ContainsTellsListedFromUnlistedNodes) {
    Node n[3];
    List l;
    EXPECT_FALSE(l.contains(&n[0]));
    l.pushBack(&n[0]);
    l.pushBack(&n[1]);
    EXPECT_TRUE(l.contains(&n[0]));  // the first: no previous node
    EXPECT_TRUE(l.contains(&n[1]));
    EXPECT_FALSE(l.contains(&n[2]));
    l.remove(&n[0]);
    EXPECT_FALSE(l.contains(&n[0]));
    EXPECT_TRUE(l.contains(&n[1]));
}

TEST(IntrusiveListTest, EachPairOfLinksIsItsOwnList) {
    Node n[3];
    for (int i = 0; i < 3; i++) n[i].id = i;
    List a;
    OtherList b;
    for (Node& x : n) a.pushBack(&x);
    for (Node& x : n) b.pushFront(&x);
    a.remove(&n[1]);
    EXPECT_EQ(ids(a), (std::vector<int>{0, 2}));
    EXPECT_EQ(ids(b), (std::vector<int>{2, 1, 0}));
}

TEST(IntrusiveListTest, ClearForgetsTheNodesAndStartsEmpty) {
    Node n[2];
    g_static.pushBack(&n[0]);
    g_static.pushBack(&n[1]);
    EXPECT_EQ(g_static.size(), 2u);
    g_static.clear();
    EXPECT_TRUE(ids(g_static).empty());
    n[0] = Node{};
    g_static.pushBack(&n[0]);
    EXPECT_EQ(g_static.first(), &n[0]);
    EXPECT_EQ(g_static.last(), &n[0]);
    g_static.clear();
}

}  // namespace
}  // namespace spanscope::detail
