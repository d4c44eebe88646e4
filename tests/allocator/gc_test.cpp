// The managed heap and its collector: reachable objects survive (checksums, several mutator threads
// storing pointers while marking runs), unreachable ones are reclaimed within two cycles, the
// tiny allocator packs, the pacer follows Go's formulas, gctrace prints Go's line.
#include "spanscope/gc.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "spanscope/allocator.h"
#include "spanscope/detail/mheap.h"

using namespace spanscope;
using namespace spanscope::gc;

namespace {

struct Node {
    Ptr<Node> left, right;
    uint64_t value;
    uint64_t check;  // value mixed, verified after every cycle
};
constexpr uint64_t kNodeMask[1] = {0b011};  // words 0 and 1 are pointers
const Type kNodeType{sizeof(Node), 16, kNodeMask, "Node"};

// A pointerful object over 512 bytes: takes the malloc-header path.
struct Big {
    Ptr<Node> items[80];
    uint64_t tag;
};
uint64_t kBigMask[2] = {~0ull, 0xffff};  // 80 pointer words
const Type kBigType{sizeof(Big), 80 * 8, kBigMask, "Big"};

uint64_t mix(uint64_t v) {
    return v * 0x9e3779b97f4a7c15ull ^ (v >> 17);
}

Node* newNode(uint64_t v) {
    auto* n = static_cast<Node*>(alloc(&kNodeType));
    n->value = v;
    n->check = mix(v);
    return n;
}

Node* build(int depth, uint64_t& next) {
    if (depth == 0) return nullptr;
    Root<Node> n(newNode(next++));
    n->left = build(depth - 1, next);
    n->right = build(depth - 1, next);
    return n.get();
}

size_t verify(const Node* n) {
    if (!n) return 0;
    EXPECT_EQ(n->check, mix(n->value)) << "a reachable object was freed or overwritten";
    return 1 + verify(n->left.get()) + verify(n->right.get());
}

uint64_t heapObjects() {
    GCStats st;
    readGCStats(&st);
    return st.heap.Mallocs - st.heap.Frees;
}

}  // namespace

TEST(GC, ReachableSurviveAndGarbageIsReclaimed) {
    collect();
    uint64_t base = heapObjects();
    Root<Node> keep;
    uint64_t next = 1;
    keep = build(12, next);  // 4095 nodes
    for (int i = 0; i < 20; i++) {
        uint64_t junk = 1000000;
        build(10, junk);  // 1023 unreachable nodes each
    }
    collect();
    collect();  // unreachable objects are gone within two cycles
    EXPECT_EQ(verify(keep.get()), 4095u);
    EXPECT_EQ(heapObjects(), base + 4095);
    keep = nullptr;
    collect();
    collect();
    EXPECT_EQ(heapObjects(), base);
    char why[256] = "";
    EXPECT_TRUE(validate(why, sizeof why)) << why;
}

TEST(GC, HeaderObjectsAndArraysAreScanned) {
    collect();
    Root<Big> big(static_cast<Big*>(alloc(&kBigType)));
    for (int i = 0; i < 80; i++) big->items[i] = newNode(static_cast<uint64_t>(i));
    Root<Node> arr(static_cast<Node*>(allocArray(&kNodeType, 100)));
    for (int i = 0; i < 100; i++) arr.get()[i].left = newNode(static_cast<uint64_t>(1000 + i));
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5000; i++) newNode(99);  // garbage
        collect();
    }
    for (int i = 0; i < 80; i++) ASSERT_EQ(big->items[i]->check, mix(static_cast<uint64_t>(i)));
    for (int i = 0; i < 100; i++)
        ASSERT_EQ(arr.get()[i].left->check, mix(static_cast<uint64_t>(1000 + i)));
}

// Pointers in words 0 and 2, an integer (a decoy: an address the collector must not follow) in
// word 1.
struct Tri {
    Ptr<Node> p;
    uint64_t decoy;
    Ptr<Node> q;
};
constexpr uint64_t kTriMask[1] = {0b101};
const Type kTriType{sizeof(Tri), 24, kTriMask, "Tri"};

// Small pointerful objects (no malloc header) carry their pointer bits in the span's heap bitmap:
// a slot reused by another type must get exactly its own bits. Every word here that is not a
// pointer holds the address of an otherwise unreferenced node, so a stale or wrong bit keeps that
// node alive (the object count says so), and a missing bit frees a referenced one (its check says
// so). Types with the pointer after a scalar, arrays of 1-9 elements over several size classes,
// and slots whose size class is bigger than the object.
TEST(GC, SmallObjectsGetExactlyTheirPointerBits) {
    struct AllPtr {
        Ptr<Node> a, b;
    };
    static constexpr uint64_t kAllMask[1] = {0b11};
    static const Type kAllType{sizeof(AllPtr), 16, kAllMask, "AllPtr"};
    struct Pair {
        uint64_t decoy;  // not a pointer
        Ptr<Node> p;
    };
    static constexpr uint64_t kPairMask[1] = {0b10};
    static const Type kPairType{sizeof(Pair), 16, kPairMask, "Pair"};
    static constexpr uint64_t kSlotMask[1] = {0b1};
    static const Type kSlotType{sizeof(void*), 8, kSlotMask, "*any"};

    collect();
    // Slots of the classes used below, freed with every pointer bit set.
    for (int i = 0; i < 20000; i++) allocArray(&kAllType, static_cast<size_t>(1 + i % 16));
    collect();
    collect();
    const uint64_t base = heapObjects();
    constexpr int kObjects = 3000;
    Root<Ptr<void>> holders(static_cast<Ptr<void>*>(allocArray(&kSlotType, kObjects)));
    uint64_t next = 1;
    int pointers = 0;
    for (int i = 0; i < kObjects; i++) {
        const size_t n = static_cast<size_t>(1 + i % 9);
        if (i % 2 == 0) {
            auto* arr = static_cast<Pair*>(allocArray(&kPairType, n));
            holders.get()[i] = arr;
            for (size_t k = 0; k < n; k++) {
                arr[k].decoy = reinterpret_cast<uint64_t>(newNode(0));  // garbage
                arr[k].p = newNode(next++);
                pointers++;
            }
        } else {
            auto* arr = static_cast<Tri*>(allocArray(&kTriType, n));
            holders.get()[i] = arr;
            for (size_t k = 0; k < n; k++) {
                arr[k].p = newNode(next++);
                arr[k].decoy = reinterpret_cast<uint64_t>(newNode(0));  // garbage
                arr[k].q = newNode(next++);
                pointers += 2;
            }
        }
    }
    collect();
    collect();
    // The holder array, the kObjects arrays and one node per pointer word: no decoy's node.
    EXPECT_EQ(heapObjects(), base + 1 + kObjects + static_cast<uint64_t>(pointers));
    uint64_t v = 1;
    for (int i = 0; i < kObjects; i++) {
        const size_t n = static_cast<size_t>(1 + i % 9);
        if (i % 2 == 0) {
            auto* arr = static_cast<Pair*>(holders.get()[i].get());
            for (size_t k = 0; k < n; k++) ASSERT_EQ(arr[k].p->check, mix(v++)) << i;
        } else {
            auto* arr = static_cast<Tri*>(holders.get()[i].get());
            for (size_t k = 0; k < n; k++) {
                ASSERT_EQ(arr[k].p->check, mix(v++)) << i;
                ASSERT_EQ(arr[k].q->check, mix(v++)) << i;
            }
        }
    }
}

// free() of an object of the managed heap is the program's mistake (its collector frees it):
// reported, never taken into malloc's free cache, from where malloc would hand it out again.
TEST(GCDeathTest, FreeOfAManagedObjectIsReported) {
    EXPECT_DEATH(ssFree(allocBytes(64)), "an object of the managed heap");
    EXPECT_DEATH(ssFree(allocBytes(100000)), "an object of the managed heap");
}

// A large array is scanned an oblet (128 KiB) at a time, and an oblet may begin inside an element
// (24-byte elements: 131072 is not a multiple of 24): in every oblet, each element's pointer
// words (0 and 2) are scanned and its word 1, which holds a node's address as an integer, is not.
TEST(GC, LargeArraysOfStructsAreScannedAcrossOblets) {
    constexpr size_t kElems = 40000;  // 960,000 bytes: 8 oblets, 7 of them starting mid-element
    collect();
    collect();
    const uint64_t base = heapObjects();
    Root<Tri> arr(static_cast<Tri*>(allocArray(&kTriType, kElems)));
    for (size_t k = 0; k < kElems; k++) {
        arr.get()[k].p = newNode(2 * k + 1);
        arr.get()[k].decoy = reinterpret_cast<uint64_t>(newNode(0));  // garbage
        arr.get()[k].q = newNode(2 * k + 2);
    }
    collect();
    collect();
    EXPECT_EQ(heapObjects(), base + 1 + 2 * kElems) << "a decoy kept alive, or a pointer missed";
    for (size_t k = 0; k < kElems; k++) {
        ASSERT_EQ(arr.get()[k].p->check, mix(2 * k + 1)) << k;
        ASSERT_EQ(arr.get()[k].q->check, mix(2 * k + 2)) << k;
    }
}

TEST(GC, LargeObjectsLiveAndDie) {
    collect();
    GCStats a;
    readGCStats(&a);
    Root<Node> arr(static_cast<Node*>(allocArray(&kNodeType, 10000)));  // 320 KB: a large span
    arr.get()[9999].right = newNode(7);
    for (int i = 0; i < 20; i++) allocBytes(100000);  // large garbage
    collect();
    collect();
    EXPECT_EQ(arr.get()[9999].right->check, mix(7));
    GCStats b;
    readGCStats(&b);
    EXPECT_EQ(b.heap.BySize[0].Frees - a.heap.BySize[0].Frees, 20u);
}

TEST(GC, TinyAllocatorPacksSmallPointerFreeObjects) {
    collect();
    GCStats a;
    readGCStats(&a);
    auto* p1 = static_cast<char*>(allocBytes(4));
    auto* p2 = static_cast<char*>(allocBytes(4));
    auto* p3 = static_cast<char*>(allocBytes(8));
    EXPECT_EQ(p2, p1 + 4) << "4-byte objects are 4-aligned in one 16-byte block";
    EXPECT_EQ(p3, p1 + 8);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p3) % 8, 0u);
    auto* p4 = static_cast<char*>(allocBytes(16));  // 16 B is not tiny: a whole class-2 slot
    EXPECT_TRUE(p4 < p1 || p4 >= p1 + 16) << "not inside the tiny block";
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p4) % 16, 0u);
    GCStats b;
    readGCStats(&b);
    EXPECT_GE(b.tinyAllocs - a.tinyAllocs, 2u);
}

TEST(GC, PacerFollowsGoFormulas) {
    int old = setGCPercent(100);
    Root<Node> keep;
    uint64_t next = 1;
    keep = build(15, next);  // ~1 MiB live (32767 nodes of 32 B)
    collect();
    GCStats st;
    readGCStats(&st);
    // goal = heapMarked + (heapMarked + globals) * GOGC/100, at least 4 MiB * GOGC/100.
    uint64_t want = std::max<uint64_t>(st.heapMarked * 2, 4u << 20);
    EXPECT_NEAR(static_cast<double>(st.heapGoal), static_cast<double>(want), 70000.0);
    // trigger between 45/64 and 61/64 of the runway (or goal - 4 MiB when larger).
    uint64_t d = st.heapGoal - st.heapMarked;
    EXPECT_GE(st.trigger, st.heapMarked + d * 45 / 64);
    EXPECT_LE(st.trigger, std::max(st.heapMarked + d * 61 / 64,
                                   st.heapGoal > (4u << 20) ? st.heapGoal - (4u << 20) : 0));
    // MemStats.NextSweep is the goal on the managed heap (Go's NextGC: what the timeline draws).
    EXPECT_EQ(st.heap.NextSweep, st.heapGoal);
    setGCPercent(400);
    readGCStats(&st);
    EXPECT_NEAR(static_cast<double>(st.heapGoal),
                static_cast<double>(std::max<uint64_t>(st.heapMarked * 5, 16u << 20)), 70000.0);
    EXPECT_EQ(st.heap.NextSweep, st.heapGoal);
    // Under a memory limit the heap's trigger is 0 (every slow path asks the pacer): the goal is
    // still reported.
    const int64_t oldLimit = setMemoryLimit(12 << 20);
    readGCStats(&st);
    EXPECT_LT(st.heapGoal, uint64_t{12} << 20);
    EXPECT_EQ(st.heap.NextSweep, st.heapGoal);
    setMemoryLimit(oldLimit);
    setGCPercent(-1);
    readGCStats(&st);
    EXPECT_GT(st.heapGoal, uint64_t{1} << 60) << "GOGC=off: no goal";
    EXPECT_EQ(st.heap.NextSweep, 0u) << "no goal: none reported";
    setGCPercent(old);
    keep = nullptr;
}

TEST(GC, GoalComesDownWhenTheLiveHeapDrops) {
    int old = setGCPercent(100);
    uint64_t next = 1;
    Root<Node> keep(build(18, next));  // 262143 nodes of 32 B: 8 MiB live
    collect();
    GCStats st;
    readGCStats(&st);
    ASSERT_GT(st.heapMarked, 7u << 20);
    ASSERT_GT(st.heapGoal, 14u << 20);
    keep = build(12, next);  // the live set drops to 4095 nodes
    // Go's resetLive forgets where the last cycle started: the next goal follows the new live heap.
    collect();
    readGCStats(&st);
    const double want = static_cast<double>(std::max<uint64_t>(2 * st.heapMarked, 4u << 20));
    EXPECT_LT(st.heapMarked, 1u << 20);
    EXPECT_NEAR(static_cast<double>(st.heapGoal), want, want * 0.10) << "marked " << st.heapMarked;
    setGCPercent(old);
    keep = nullptr;
}

TEST(GC, ReadGCStatsCountsEveryAllocation) {
    RootScope<100> keep;
    GCStats before, after;
    readGCStats(&before);
    for (size_t i = 0; i < 100; i++) keep.set(i, newNode(i));
    readGCStats(&after);
    // Go's ReadMemStats flushes every mcache: the 100 objects are counted at once.
    EXPECT_EQ(after.heap.Mallocs - before.heap.Mallocs, 100u);
    EXPECT_GE(after.heap.HeapAlloc - before.heap.HeapAlloc, 100u * sizeof(Node));
    // Each tiny allocation is a malloc (a new 16-byte block, or a tiny hit counted as a malloc and
    // a free, as Go counts them): 64 allocations, 64 mallocs.
    readGCStats(&before);
    for (int i = 0; i < 64; i++) allocBytes(8);
    readGCStats(&after);
    EXPECT_EQ(after.heap.Mallocs - before.heap.Mallocs, 64u);
    EXPECT_GE(after.tinyAllocs - before.tinyAllocs, 31u);
}

TEST(GC, FreeOSMemoryReleasesEveryFreePage) {
    {
        Root<Big> big;
        for (int i = 0; i < 4000; i++) big = static_cast<Big*>(alloc(&kBigType));  // ~4.5 MiB
        for (int i = 0; i < 16; i++) allocBytes(256 << 10);  // large spans, garbage at once
    }
    freeOSMemory();
    GCStats st;
    readGCStats(&st);
    EXPECT_EQ(st.heap.HeapIdle, st.heap.HeapReleased) << "free pages left unreleased";
    EXPECT_GT(st.heap.HeapReleased, 4u << 20);
}

// Go's initHeapBits: a new small pointerful span's heap bits are written (cleared) when the span
// is allocated. Before spanscope did so, the first allocation's read-modify-write of the bits on a
// never-touched page took two faults: the read mapped the shared zero page, the write copied it
// and flushed the TLB of every CPU running the process (13% of a 64-byte allocation loop). Fresh
// pages here: 16 MiB of pointerful 64-byte objects allocated with the collector off after every
// free page was released, never written by this test, so the bitmap writes are the only faults.
// Not under the sanitizers: their shadow memory takes page faults of its own on every write.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST(GC, FreshPointerfulSpansTakeOneFaultForTheirHeapBits) {
    static constexpr uint64_t kFirst[1] = {1};
    static const Type kObj64{64, 8, kFirst, "obj64"};
    freeOSMemory();
    const int before = setGCPercent(-1);
    constexpr int kSpans = 2048, kPerSpan = (8192 - 8192 / 64) / 64;  // 126 objects a span
    rusage r0{}, r1{};
    getrusage(RUSAGE_THREAD, &r0);
    for (int i = 0; i < kSpans * kPerSpan; i++) alloc(&kObj64);
    getrusage(RUSAGE_THREAD, &r1);
    setGCPercent(before);
    collect();
    const double perSpan = static_cast<double>(r1.ru_minflt - r0.ru_minflt) / kSpans;
    EXPECT_LT(perSpan, 1.5) << "heap bits read before their page was written (zero-page copies)";
}
#endif

// A cycle can start inside an allocation (the heap trigger is checked when a span is refilled or
// a large object's pages are taken). The object that allocation returns exists nowhere the root
// scan of that cycle could see, so it must be allocated black (Go's gcmarknewobject, decided after
// the slot is taken): were it white, a Root holding it would not save it and its memory would be
// reused while the program still uses it. Large objects check the trigger on every allocation, so
// here most cycles start inside one, half of them inside the rooted one.
TEST(GC, AnObjectAllocatedAsACycleStartsSurvivesIt) {
    const int old = setGCPercent(10);
    constexpr size_t kBytes = 48 << 10, kLast = kBytes / 8 - 1, kRing = 16;
    GCStats before, after;
    readGCStats(&before);
    // Every allocation here is rooted (a ring of 16 root slots, stored without a write barrier as
    // a stack slot is) and checks the trigger, so every cycle starts inside a rooted allocation.
    // An object is checked when the ring comes round to it: a lost one's pages are freed at sweep
    // and zeroed by a later allocation that reuses them.
    RootScope<kRing> ring;
    for (uint64_t i = 1; i <= 4000; i++) {
        if (const auto* q = ring.get<uint64_t>(i % kRing)) {
            ASSERT_EQ(q[0], i - kRing)
                << "a rooted object was freed by the cycle its allocation started";
            ASSERT_EQ(q[kLast], i - kRing);
        }
        auto* p = static_cast<uint64_t*>(allocBytes(kBytes));
        p[0] = p[kLast] = i;
        ring.set(i % kRing, p);
    }
    readGCStats(&after);
    EXPECT_GT(after.numGC - before.numGC, 20u) << "too few cycles to test anything";
    char why[256] = "";
    EXPECT_TRUE(validate(why, sizeof why)) << why;
    setGCPercent(old);
}

// The background sweeper sweeps one span at a time, outside any stop-the-world. A cycle must not
// start marking while it is still sweeping a span it took: that sweep would install the new
// cycle's first marks as allocation bits and clear them, and the objects would be freed at the
// end of the cycle while reachable (found at the next sweep as marks on free slots, or as data
// overwritten). The test hook holds the sweeper between taking a span and sweeping it, so that
// nearly every cycle starts with a sweep in flight; the workload is demo server's, checked.
TEST(GC, NoCycleStartsWhileTheBackgroundSweeperSweeps) {
    struct Item {
        Ptr<uint64_t> payload;
        uint64_t id;
    };
    static constexpr uint64_t kItemMask[1] = {0b1};
    static const Type kItemType{sizeof(Item), 8, kItemMask, "Item"};
    static constexpr uint64_t kSlotMask[1] = {0b1};
    static const Type kSlotType{sizeof(void*), 8, kSlotMask, "*Item"};
    auto newItem = [](std::mt19937_64& rng) {
        Root<Item> it(static_cast<Item*>(alloc(&kItemType)));
        it->id = rng() | 1;
        const size_t words = 2 + rng() % 60;
        auto* p = static_cast<uint64_t*>(allocBytes(words * 8));
        for (size_t k = 0; k < words; k++) p[k] = it->id;
        it->payload = p;
        return it.get();
    };
    const int old = setGCPercent(25);
    detail::g_bgSweepPauseUsForTests.store(300);
    std::mt19937_64 rng(7);
    constexpr size_t kLive = 20000;
    Root<Ptr<Item>> slots(static_cast<Ptr<Item>*>(allocArray(&kSlotType, kLive)));
    for (size_t i = 0; i < kLive; i++) slots.get()[i] = newItem(rng);
    GCStats before, after;
    readGCStats(&before);
    const auto t0 = std::chrono::steady_clock::now();
    do {
        for (int r = 0; r < 2000; r++) {
            for (int k = 0; k < 4; k++) allocBytes(64 + rng() % 2000);  // request garbage
            slots.get()[rng() % kLive] = newItem(rng);
            const Item* it = slots.get()[rng() % kLive].get();
            ASSERT_EQ(it->payload.get()[0], it->id) << "a reachable payload was freed and reused";
        }
        readGCStats(&after);
    } while (after.numGC - before.numGC < 40 &&
             std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
    detail::g_bgSweepPauseUsForTests.store(0);
    EXPECT_GE(after.numGC - before.numGC, 40u);
    for (size_t i = 0; i < kLive; i++) {
        const Item* it = slots.get()[i].get();
        ASSERT_EQ(it->payload.get()[0], it->id) << "slot " << i;
    }
    collect();  // its sweep is where a lost object's mark would be found on a free slot
    char why[256] = "";
    EXPECT_TRUE(validate(why, sizeof why)) << why;
    setGCPercent(old);
}

// Idle marking (mgc.cpp) runs on ordinary threads that back off when another thread wants their
// CPU. No collector thread may be SCHED_IDLE: on a busy machine the kernel
// can leave such a thread off the CPU for minutes, stranding the grey objects it holds (seen: 0.8 s
// marks) and holding up the process's exit, which waits for every thread to run (seen: 146 s).
TEST(GC, NoCollectorThreadIsLeftToIdlePriority) {
    collect();  // the collector's threads exist once it has started
    int idleMarkers = 0, threads = 0;
    DIR* dir = opendir("/proc/self/task");
    ASSERT_NE(dir, nullptr);
    while (dirent* e = readdir(dir)) {
        int tid = atoi(e->d_name);
        if (tid <= 0) continue;
        threads++;
        EXPECT_NE(sched_getscheduler(tid), SCHED_IDLE) << "thread " << tid;
        char path[64], comm[32] = {};
        snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
        FILE* f = fopen(path, "r");
        if (!f) continue;
        if (fgets(comm, sizeof comm, f) && !strcmp(comm, "spanscope-idle\n")) idleMarkers++;
        fclose(f);
    }
    closedir(dir);
    EXPECT_GE(threads, 3) << "the test, the mark worker and the idle marker at least";
    EXPECT_GE(idleMarkers, 1);
}

TEST(GC, ConcurrentMutatorsWhileMarking) {
    // Several threads keep a shared array of trees and replace subtrees with pointer stores while
    // allocation-triggered cycles mark concurrently. Checksums are verified after each cycle.
    setGCPercent(50);  // frequent cycles
    const int kThreads = 3, kSlots = 64;
    Root<Big> shared(static_cast<Big*>(alloc(&kBigType)));
    uint64_t cyclesBefore;
    {
        GCStats st;
        readGCStats(&st);
        cyclesBefore = st.numGC;
    }
    std::atomic<bool> failed{false}, done{false};
    std::atomic<int> cyclesVerified{0};
    // A verifier mutator walks the whole shared graph after every cycle it sees end. A walk
    // allocates nothing, so no cycle can finish during it (stopping the world waits for it).
    std::thread verifier([&] {
        uint64_t last = cyclesBefore;
        while (!done.load()) {
            GCStats st;
            readGCStats(&st);
            if (st.numGC != last) {
                last = st.numGC;
                for (int k = 0; k < kSlots; k++)
                    for (Node* n = shared->items[k].get(); n; n = n->left.get())
                        if (n->check != mix(n->value)) failed = true;
                cyclesVerified++;
            }
            BlockingRegion idle;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        detachThread();
    });
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; t++) {
        ts.emplace_back([&, t] {
            std::mt19937_64 rng(t);
            uint64_t next = static_cast<uint64_t>(t) << 40;
            // At least 3000 rounds, and on until the verifier has checked two cycles (a loaded
            // machine may not schedule it often enough otherwise).
            for (int i = 0; i < 3000 || (cyclesVerified.load() < 2 && i < 1000000); i++) {
                int k = static_cast<int>(rng() % kSlots);
                Root<Node> fresh(build(4, next));
                if (k < 80)
                    shared->items[k] = fresh.get();  // barrier-ed store into a shared object
                if (Node* n = shared->items[rng() % kSlots].get())
                    if (n->check != mix(n->value)) failed = true;
                for (int g = 0; g < 20; g++) newNode(1);  // garbage to drive cycles
            }
            detachThread();
        });
    }
    {
        BlockingRegion blocking;  // joining must not hold up a stop-the-world
        for (auto& t : ts) t.join();
        done = true;
        verifier.join();
    }
    EXPECT_FALSE(failed.load());
    EXPECT_GE(cyclesVerified.load(), 2) << "the graph was checked after cycles as they ended";
    collect();
    size_t total = 0;
    for (int k = 0; k < kSlots; k++) total += verify(shared->items[k].get());
    EXPECT_GT(total, 0u);
    GCStats st;
    readGCStats(&st);
    EXPECT_GE(st.numGC - cyclesBefore, 3u) << "allocation should have triggered cycles";
    char why[256] = "";
    EXPECT_TRUE(validate(why, sizeof why)) << why;
    setGCPercent(100);
}

TEST(GC, RootScopesHoldManyPointers) {
    RootScope<3> frame;
    frame.set(0, newNode(10));
    frame.set(2, newNode(12));
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 2000; k++) newNode(0);
        collect();
    }
    EXPECT_EQ(frame.get<Node>(0)->check, mix(10));
    EXPECT_EQ(frame.get<Node>(1), nullptr);
    EXPECT_EQ(frame.get<Node>(2)->check, mix(12));
}

TEST(GC, GlobalsAreRoots) {
    static Node* global = nullptr;
    registerGlobal(reinterpret_cast<void**>(&global));
    writePointer(reinterpret_cast<void**>(&global), newNode(42));
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 2000; k++) newNode(0);
        collect();
    }
    EXPECT_EQ(global->check, mix(42));
    unregisterGlobal(reinterpret_cast<void**>(&global));
}

namespace {
// Forks while another mutator exists (busy: allocating at that very moment; or parked), then
// checks that the child's heap is consistent and collectable and that a rooted object survived.
void forkWithAnotherMutator(bool busy) {
    Root<Node> keep(newNode(5));
    std::atomic<bool> ready{false}, go{false};
    std::thread other([&] {
        for (int i = 0; i < (busy ? 20000 : 2000); i++) {
            newNode(1);
            if (busy && i == 100) ready = true;
        }
        ready = true;
        if (!busy) {
            BlockingRegion parked;  // holds cached spans, allocates nothing, across the fork
            while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        detachThread();
    });
    pid_t pid;
    {
        BlockingRegion blocking;
        while (!ready.load()) std::this_thread::yield();
        pid = fork();
    }
    if (pid == 0) {
        for (int i = 0; i < 50000; i++) newNode(2);
        collect();
        collect();
        char why[256] = "";
        bool ok = validate(why, sizeof why);
        if (!ok) fprintf(stderr, "child: validate: %s\n", why);
        if (keep->check != mix(5)) fprintf(stderr, "child: the rooted object was lost\n");
        _exit(ok && keep->check == mix(5) ? 0 : 1);
    }
    int status = 0;
    {
        BlockingRegion blocking;
        waitpid(pid, &status, 0);
        go = true;
        other.join();
    }
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}
}  // namespace

TEST(GC, ForkedChildKeepsACollectableHeap) {
    forkWithAnotherMutator(false);
}

// ASan's own allocator is not fork-safe: a child forked while another thread is inside it cannot
// create a thread (pthread_create allocates), and the child needs its mark worker. The busy case
// runs in the plain and TSan builds.
#if !defined(__SANITIZE_ADDRESS__)
TEST(GC, ForkedChildOfABusyMutatorKeepsACollectableHeap) {
    forkWithAnotherMutator(true);
}
#endif

namespace {
// A fork while a collection marks a long linked list: its whole grey frontier is one object, most
// of the time in a mark worker's local buffer, which does not survive the fork. The child must
// still keep every node: it collects, reuses every freed slot, then walks the list.
constexpr int kListLen = 300000;
Node* listHead() {
    static Root<Node> head;
    if (!head.get()) {
        head = newNode(0);
        Node* tail = head.get();
        for (int i = 1; i < kListLen; i++) {
            Node* n = newNode(static_cast<uint64_t>(i));
            tail->left = n;
            tail = n;
        }
    }
    return head.get();
}

int forkDuringMark(std::chrono::microseconds delay) {
    Node* head = listHead();
    std::atomic<bool> started{false};
    std::thread collector([&] {
        started = true;
        collect();
        detachThread();
    });
    pid_t pid;
    {
        BlockingRegion blocking;
        while (!started.load()) std::this_thread::yield();
        std::this_thread::sleep_for(delay);
        pid = fork();
    }
    if (pid == 0) {
        collect();
        for (int i = 0; i < kListLen; i++) newNode(7);  // takes every slot the sweep freed
        collect();
        int n = 0;
        for (Node* p = head; p; p = p->left.get(), n++) {
            if (p->value != static_cast<uint64_t>(n) || p->check != mix(static_cast<uint64_t>(n))) {
                fprintf(stderr, "child: node %d of the list was freed and reused\n", n);
                _exit(1);
            }
        }
        _exit(n == kListLen ? 0 : 2);
    }
    int status = 0;
    {
        BlockingRegion blocking;
        waitpid(pid, &status, 0);
        collector.join();
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

// Without remarkAfterFork, most of these children abort on a dangling pointer (the list's tail
// freed). The forks are spread over one collection's length, measured here (only to place them).
TEST(GC, ForkDuringMarkKeepsEveryReachableObject) {
    listHead();
    const auto t0 = std::chrono::steady_clock::now();
    collect();
    const auto cycle = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - t0);
    for (int k = 0; k < 12; k++) {
        const auto delay = cycle * k / 10;
        EXPECT_EQ(forkDuringMark(delay), 0)
            << "fork " << delay.count() << " us into a collection of " << cycle.count() << " us";
    }
}

namespace {
// GC.ForkDuringASweepKeepsEveryLiveObject's hook: holds the sweeper thread inside the sweep of a
// span of the list, after the sweep and before the span is placed, until the parent has forked or
// the fork waits for this sweep to end (MHeap::lockForFork).
std::atomic<std::thread::id> g_holdThread;  // the sweeping thread, set by itself
std::vector<uintptr_t> g_holdSpans;         // sorted span bases of the list's nodes
std::atomic<bool> g_holdArmed{false}, g_holding{false}, g_forked{false};
void holdSweptSpan(detail::MSpan* s) {
    if (std::this_thread::get_id() != g_holdThread ||
        !std::binary_search(g_holdSpans.begin(), g_holdSpans.end(), s->startAddr) ||
        !g_holdArmed.exchange(false))
        return;
    g_holding = true;
    while (!g_forked.load() && !detail::g_gcHeap.sweepsHeldForFork())
        std::this_thread::sleep_for(std::chrono::microseconds(100));
}
}  // namespace

// A fork while another thread sweeps a span: the child must not find the span half swept (its
// marks already installed as allocation bits and cleared) and sweep it again with no marks, which
// freed every live object in it. The sweeper is held at that point by a test hook.
TEST(GC, ForkDuringASweepKeepsEveryLiveObject) {
    constexpr int kLen = 50000;
    Root<Node> head(newNode(0));
    {
        Node* tail = head.get();
        for (int i = 1; i < kLen; i++) {
            Node* n = newNode(static_cast<uint64_t>(i));
            tail->left = n;
            tail = n;
        }
    }
    g_holdSpans.clear();
    for (Node* p = head.get(); p; p = p->left.get())
        g_holdSpans.push_back(detail::spanOf(reinterpret_cast<uintptr_t>(p))->startAddr);
    std::sort(g_holdSpans.begin(), g_holdSpans.end());
    g_holdSpans.erase(std::unique(g_holdSpans.begin(), g_holdSpans.end()), g_holdSpans.end());
    collect();  // nothing left unswept: the sweeper's gcStart sweeps nothing under the cycle lock
    g_forked = false;
    g_holding = false;
    g_holdArmed = true;
    // The background sweeper is slowed so that the sweeping thread meets the list's spans.
    detail::g_bgSweepPauseUsForTests.store(2000);
    detail::g_sweptHookForTests.store(&holdSweptSpan);
    std::thread sweeper([] {
        g_holdThread = std::this_thread::get_id();
        collect();  // the cycle, then its sweep in this thread
        detachThread();
    });
    pid_t pid;
    {
        BlockingRegion blocking;
        while (!g_holding.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
        pid = fork();
        if (pid != 0) g_forked = true;
    }
    if (pid == 0) {
        collect();
        for (int i = 0; i < kLen; i++) newNode(7);  // takes every slot the sweep freed
        collect();
        int n = 0;
        for (Node* p = head.get(); p; p = p->left.get(), n++) {
            if (p->value != static_cast<uint64_t>(n) || p->check != mix(static_cast<uint64_t>(n))) {
                fprintf(stderr, "child: node %d of the list was freed and reused\n", n);
                _exit(1);
            }
        }
        char why[256] = "";
        if (!validate(why, sizeof why)) {
            fprintf(stderr, "child: validate: %s\n", why);
            _exit(3);
        }
        _exit(n == kLen ? 0 : 2);
    }
    int status = 0;
    {
        BlockingRegion blocking;
        waitpid(pid, &status, 0);
        sweeper.join();
    }
    detail::g_sweptHookForTests.store(nullptr);
    detail::g_bgSweepPauseUsForTests.store(0);
    ASSERT_TRUE(WIFEXITED(status)) << "child killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(GC, GctraceLineHasGoFormat) {
    // Run a child copy of this binary with gctrace on (the setting is read once per process).
    std::string cmd =
        "GODEBUG=gctrace=1 /proc/" + std::to_string(getpid()) +
        "/exe --gtest_filter=GC.ReachableSurviveAndGarbageIsReclaimed 2>&1 >/dev/null";
    FILE* f = popen(cmd.c_str(), "r");
    ASSERT_NE(f, nullptr);
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
    // gc 1 @0.012s 0%: 0.015+1.1+0.003 ms clock, 0.030+0.58/0.022/0+0.006 ms cpu, 4->4->1 MB, 4 MB
    // goal, 0 MB stacks, 0 MB globals, 2 P (forced)
    EXPECT_NE(out.find("gc 1 @"), std::string::npos) << out;
    EXPECT_NE(out.find(" ms clock, "), std::string::npos) << out;
    EXPECT_NE(out.find(" ms cpu, "), std::string::npos) << out;
    EXPECT_NE(out.find(" MB goal, 0 MB stacks, "), std::string::npos) << out;
    EXPECT_NE(out.find(" (forced)"), std::string::npos) << out;
}
