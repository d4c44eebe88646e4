// The collector's grey-object buffers (allocator/mgcwork.h): GcWork::balance, Go's gcWork.balance,
// which hands half of a marker's grey objects to the global pool when the pool has run dry, so that
// other markers have work. (The collector's own threads are not started in this process: the pool
// is the test's alone.)
#include "mgcwork.h"

#include <gtest/gtest.h>

#include <vector>

namespace spanscope::detail {
namespace {

// Empties the global pool, returning what it held, in the order taken.
std::vector<uintptr_t> takeAll() {
    std::vector<uintptr_t> out;
    while (WorkBuf* b = g_workPool.tryGetFull()) {
        for (size_t i = 0; i < b->n; i++) out.push_back(b->obj[i]);
        g_workPool.putEmpty(b);
    }
    return out;
}

TEST(GcWork, BalanceHandsTheOlderHalfToAnEmptyPool) {
    ASSERT_TRUE(g_workPool.empty());
    GcWork w;
    // A depth-first scan's stack: 20 grey objects, far from a full buffer, none in the pool.
    for (uintptr_t i = 1; i <= 20; i++) w.put(i * 16);
    w.balance();
    EXPECT_FALSE(g_workPool.empty());
    // The pool has the 10 pushed first (nearest the roots); the marker keeps the 10 newest, and
    // takes them newest first.
    std::vector<uintptr_t> pooled = takeAll();
    ASSERT_EQ(pooled.size(), 10u);
    for (size_t i = 0; i < 10; i++) EXPECT_EQ(pooled[i], (i + 1) * 16);
    std::vector<uintptr_t> kept;
    for (uintptr_t o; w.tryGet(&o);) kept.push_back(o);
    ASSERT_EQ(kept.size(), 10u);
    for (size_t i = 0; i < 10; i++) EXPECT_EQ(kept[i], (20 - i) * 16);
}

TEST(GcWork, BalanceKeepsAFewObjects) {
    ASSERT_TRUE(g_workPool.empty());
    GcWork w;
    for (uintptr_t i = 1; i <= 4; i++) w.put(i * 16);
    w.balance();  // four or fewer: not worth a buffer of their own (Go's threshold)
    EXPECT_TRUE(g_workPool.empty());
    size_t n = 0;
    for (uintptr_t o; w.tryGet(&o);) n++;
    EXPECT_EQ(n, 4u);
    GcWork none;
    none.balance();  // no buffer at all
    EXPECT_TRUE(g_workPool.empty());
}

}  // namespace
}  // namespace spanscope::detail
