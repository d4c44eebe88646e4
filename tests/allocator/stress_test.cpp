// Randomized multi-threaded stress with invariant checks: allocations of every size, frees from the
// allocating thread and from others (cross-thread), contents verified, validate() between rounds.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "spanscope/allocator.h"

using namespace spanscope;

namespace {
struct Obj {
    unsigned char* p;
    size_t n;
    unsigned char tag;
};

size_t randomSize(std::mt19937_64& rng) {
    switch (rng() % 10) {
        case 0:
            return 1 + rng() % 16;
        case 1:
            return 32768 + rng() % 300000;
        case 2:
            return 1024 + rng() % 31744;
        default:
            return 1 + rng() % 1024;
    }
}

void check(const Obj& o) {
    for (size_t i = 0; i < o.n; i += 1 + o.n / 16) ASSERT_EQ(o.p[i], o.tag) << "object corrupted";
    ASSERT_EQ(o.p[o.n - 1], o.tag);
}
}  // namespace

TEST(Stress, MultiThreadedChurnWithCrossThreadFrees) {
    const int kThreads = 4, kRounds = 6, kOps = 20000;
    std::mutex handoffLock;
    std::vector<Obj> handoff;  // objects allocated by one thread, freed by another
    for (int round = 0; round < kRounds; round++) {
        std::vector<std::thread> ts;
        for (int t = 0; t < kThreads; t++) {
            ts.emplace_back([&, t] {
                std::mt19937_64 rng(round * 100 + t);
                std::vector<Obj> live;
                for (int op = 0; op < kOps; op++) {
                    unsigned r = rng() % 100;
                    if (r < 55 || live.empty()) {
                        size_t n = randomSize(rng);
                        auto* p = static_cast<unsigned char*>(ssMalloc(n));
                        ASSERT_NE(p, nullptr);
                        unsigned char tag = static_cast<unsigned char>(rng());
                        memset(p, tag, n);
                        live.push_back({p, n, tag});
                    } else if (r < 90) {
                        size_t k = rng() % live.size();
                        check(live[k]);
                        ssFree(live[k].p);
                        live[k] = live.back();
                        live.pop_back();
                    } else if (r < 95) {
                        size_t k = rng() % live.size();
                        std::lock_guard<std::mutex> g(handoffLock);
                        handoff.push_back(live[k]);
                        live[k] = live.back();
                        live.pop_back();
                    } else {
                        std::lock_guard<std::mutex> g(handoffLock);
                        if (!handoff.empty()) {
                            check(handoff.back());
                            ssFree(handoff.back().p);
                            handoff.pop_back();
                        }
                    }
                    if (op % 5000 == 0 && !live.empty()) {  // realloc keeps contents
                        Obj& o = live[rng() % live.size()];
                        size_t n2 = randomSize(rng);
                        auto* q = static_cast<unsigned char*>(ssRealloc(o.p, n2));
                        ASSERT_NE(q, nullptr);
                        for (size_t i = 0; i < std::min(o.n, n2); i += 97) ASSERT_EQ(q[i], o.tag);
                        memset(q, o.tag, n2);
                        o = {q, n2, o.tag};
                    }
                }
                for (auto& o : live) {
                    check(o);
                    ssFree(o.p);
                }
            });
        }
        for (auto& t : ts) t.join();
        char why[256] = "";
        ASSERT_TRUE(validateHeap(why, sizeof why)) << "round " << round << ": " << why;
    }
    for (auto& o : handoff) ssFree(o.p);
    sweepAll();
    char why[256] = "";
    ASSERT_TRUE(validateHeap(why, sizeof why)) << why;
}

TEST(Stress, RssStaysBoundedUnderChurn) {
    // A steady live set of ~8 MiB churned 40 times over must not grow the heap without bound.
    std::mt19937_64 rng(7);
    std::vector<void*> live(32768, nullptr);
    for (auto& p : live) p = ssMalloc(256);
    MemStats st;
    uint64_t peak = 0;
    for (int i = 0; i < 40 * 32768; i++) {
        void*& p = live[rng() % live.size()];
        ssFree(p);
        p = ssMalloc(64 + rng() % 400);
        if (i % 65536 == 0) {
            readMemStats(&st);
            peak = std::max<uint64_t>(peak, st.HeapInuse);
        }
    }
    EXPECT_LT(peak, 48u << 20) << "heap in use should stay within a few times the live set";
    for (void* p : live) ssFree(p);
}

TEST(Stress, ThreadsComeAndGo) {
    std::vector<void*> survivors(64);
    for (int gen = 0; gen < 50; gen++) {
        std::thread([&] {
            for (auto& p : survivors) {
                ssFree(p);
                p = ssMalloc(100);
            }
            std::vector<void*> tmp;
            for (int i = 0; i < 1000; i++) tmp.push_back(ssMalloc(i % 500 + 1));
            for (void* p : tmp) ssFree(p);
        }).join();  // the thread's cache is flushed at exit
    }
    char why[256] = "";
    EXPECT_TRUE(validateHeap(why, sizeof why)) << why;
    for (void* p : survivors) ssFree(p);
}
