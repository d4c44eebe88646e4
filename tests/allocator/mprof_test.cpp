// The heap profiler (allocator/mprof.cpp, Go's MemProfileRate sampling): exact counts at rate 1,
// Go's scaled estimates within sampling error at the default rate, frees counted against the
// allocating stack in malloc mode (at free, from any thread) and on the managed heap (at sweep),
// and a fork while other threads sample. Its own process: the profile is process-wide.
#include "spanscope/mprof.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "spanscope/allocator.h"
#include "spanscope/detail/mprof.h"  // AllocatorWorkScope
#include "spanscope/gc.h"

using namespace spanscope;

namespace {

struct SiteTotals {
    uint64_t allocObjects = 0, allocBytes = 0, freeObjects = 0, freeBytes = 0;
};

// The name of the function holding a return address (the test is linked with exported symbols).
std::string functionAt(uintptr_t pc) {
    Dl_info info;
    if (!dladdr(reinterpret_cast<void*>(pc - 1), &info) || !info.dli_sname) return {};
    return info.dli_sname;
}

// Per test-site totals: the innermost frame named site_* attributes a bucket.
std::map<std::string, SiteTotals> totalsBySite() {
    std::vector<std::pair<std::vector<uintptr_t>, SiteTotals>> buckets;
    buckets.reserve(1 << 16);  // glibc's heap, not spanscope's: allowed inside the callback
    memProfile(
        [](const MemProfileRecord& r, void* ctx) {
            auto* out = static_cast<decltype(buckets)*>(ctx);
            out->push_back({std::vector<uintptr_t>(r.stack, r.stack + r.nstack),
                            SiteTotals{r.allocObjects, r.allocBytes, r.freeObjects, r.freeBytes}});
        },
        &buckets);
    std::map<std::string, SiteTotals> sites;
    for (auto& [stack, t] : buckets)
        for (uintptr_t pc : stack) {
            std::string f = functionAt(pc);
            if (f.rfind("site_", 0) != 0) continue;
            SiteTotals& s = sites[f];
            s.allocObjects += t.allocObjects;
            s.allocBytes += t.allocBytes;
            s.freeObjects += t.freeObjects;
            s.freeBytes += t.freeBytes;
            break;
        }
    return sites;
}

// The sampled stacks that hold a frame of the function `name`.
std::vector<std::vector<uintptr_t>> stacksHolding(const char* name) {
    std::vector<std::vector<uintptr_t>> stacks;
    stacks.reserve(1 << 16);  // glibc's heap, not spanscope's: allowed inside the callback
    memProfile(
        [](const MemProfileRecord& r, void* ctx) {
            static_cast<std::vector<std::vector<uintptr_t>>*>(ctx)->emplace_back(
                r.stack, r.stack + r.nstack);
        },
        &stacks);
    std::erase_if(stacks, [name](const std::vector<uintptr_t>& stk) {
        return std::none_of(stk.begin(), stk.end(),
                            [name](uintptr_t pc) { return functionAt(pc) == name; });
    });
    return stacks;
}

// The frames a sample keeps before the allocating function: the allocator's entry points only
// (ssMalloc, and mallocSlow where ssMalloc calls it without a tail call, as under TSan), never
// the profiler's own frames. Returns the index of the first frame named `site`, or -1.
int siteAfterEntryFrames(const std::vector<uintptr_t>& stk, const char* site) {
    for (size_t i = 0; i < stk.size() && i < 3; i++) {
        const std::string f = functionAt(stk[i]);
        if (f == site) return i > 0 ? static_cast<int>(i) : -1;
        if (f.find("ssMalloc") == std::string::npos && f.find("mallocSlow") == std::string::npos)
            return -1;
    }
    return -1;
}

// Go's scaleHeapSample: an estimate of the real count and bytes from sampled ones.
double scaledBytes(uint64_t count, uint64_t bytes, int64_t rate) {
    if (count == 0 || bytes == 0) return 0;
    if (rate <= 1) return static_cast<double>(bytes);
    const double avg = static_cast<double>(bytes) / count;
    return bytes / (1 - std::exp(-avg / rate));
}

}  // namespace

// Allocation sites, exported with C names so that dladdr names them.
extern "C" {
__attribute__((noinline)) void site_small(std::vector<void*>* out, size_t n, size_t size) {
    for (size_t i = 0; i < n; i++) out->push_back(ssMalloc(size));
    asm volatile("" ::: "memory");
}
__attribute__((noinline)) void site_large(std::vector<void*>* out, size_t n, size_t size) {
    for (size_t i = 0; i < n; i++) out->push_back(ssMalloc(size));
    asm volatile("" ::: "memory");
}
__attribute__((noinline)) void site_entry(std::vector<void*>* out, size_t n, size_t size) {
    for (size_t i = 0; i < n; i++) out->push_back(ssMalloc(size));
    asm volatile("" ::: "memory");
}
__attribute__((noinline)) void site_new_thread(std::vector<void*>* out) {
    site_entry(out, 32, 4);
    asm volatile("" ::: "memory");  // not a tail call: site_new_thread stays on the stack
}
__attribute__((noinline)) void site_one_bucket(std::vector<void*>* out) {
    site_entry(out, 40, 4);
    asm volatile("" ::: "memory");
}
__attribute__((noinline)) void site_scope_inner(std::vector<void*>* out) {
    out->push_back(ssMalloc(300));
    asm volatile("" ::: "memory");
}
// As the allocator's own thread set-up (initThreadCache): what it allocates is attributed to it,
// with none of its callers.
__attribute__((noinline)) void site_scope_owner(std::vector<void*>* out) {
    spanscope::detail::AllocatorWorkScope own;
    site_scope_inner(out);
    asm volatile("" ::: "memory");
}
__attribute__((noinline)) void site_churn_a(size_t bytes) {
    for (size_t i = 0; i < bytes / 1024; i++) ssFree(ssMalloc(1024));
    asm volatile("" ::: "memory");
}
__attribute__((noinline)) void site_churn_b(size_t bytes) {
    for (size_t i = 0; i < bytes / 1024; i++) ssFree(ssMalloc(1024));
    asm volatile("" ::: "memory");
}
__attribute__((noinline)) void site_churn_c(size_t bytes) {
    for (size_t i = 0; i < bytes / 1024; i++) ssFree(ssMalloc(1024));
    asm volatile("" ::: "memory");
}
__attribute__((noinline)) void site_thread(std::vector<void*>* out, size_t n) {
    for (size_t i = 0; i < n; i++) out->push_back(ssMalloc(48));
    asm volatile("" ::: "memory");
}
__attribute__((noinline)) void* site_managed(size_t size) {
    void* p = gc::allocBytes(size);
    asm volatile("" : "+r"(p) : : "memory");  // not a tail call: site_managed stays on the stack
    return p;
}
__attribute__((noinline)) void* site_tiny(size_t size) {
    void* p = gc::allocBytes(size);
    asm volatile("" : "+r"(p) : : "memory");
    return p;
}
}

class RateGuard {
public:
    explicit RateGuard(int64_t rate) : m_old(memProfileRate()) { setMemProfileRate(rate); }
    ~RateGuard() { setMemProfileRate(m_old); }

private:
    int64_t m_old;
};

TEST(MemProfile, DefaultRateIsGos) {
    // The test runs without SPANSCOPE_MEMPROFILERATE (ctest sets nothing): Go's 512 KiB.
    if (getenv("SPANSCOPE_MEMPROFILERATE") || getenv("GODEBUG"))
        GTEST_SKIP() << "rate set by the environment";
    EXPECT_EQ(memProfileRate(), 512 * 1024);
}

TEST(MemProfile, RateOneCountsEveryAllocationAndFree) {
    RateGuard rate(1);
    std::vector<void*> small, large;
    small.reserve(1000);
    large.reserve(20);
    site_small(&small, 1000, 1024);    // 1024 is a size class: slot bytes = requested bytes
    site_large(&large, 20, 64 << 10);  // large objects: page-rounded
    auto sites = totalsBySite();
    EXPECT_EQ(sites["site_small"].allocObjects, 1000u);
    EXPECT_EQ(sites["site_small"].allocBytes, 1000u * 1024);
    EXPECT_EQ(sites["site_small"].freeObjects, 0u);
    EXPECT_EQ(sites["site_large"].allocObjects, 20u);
    EXPECT_EQ(sites["site_large"].allocBytes, 20u * (64 << 10));
    for (size_t i = 0; i < 500; i++) ssFree(small[i]);
    for (void* p : large) ssFree(p);
    sites = totalsBySite();
    EXPECT_EQ(sites["site_small"].freeObjects, 500u);
    EXPECT_EQ(sites["site_small"].freeBytes, 500u * 1024);
    EXPECT_EQ(sites["site_large"].freeObjects, 20u);
    for (size_t i = 500; i < 1000; i++) ssFree(small[i]);
    sites = totalsBySite();
    EXPECT_EQ(sites["site_small"].freeObjects, sites["site_small"].allocObjects);
    EXPECT_EQ(sites["site_small"].freeBytes, sites["site_small"].allocBytes);
}

TEST(MemProfile, DefaultRateEstimatesWithinSamplingError) {
    RateGuard rate(kDefaultMemProfileRate);
    // 16, 64 and 256 MiB in 1 KiB objects: about 32, 128 and 512 samples, so Go's scaled estimate
    // has a relative standard deviation of about 18%, 9% and 4.4%; the bounds are 4.5 of those.
    site_churn_a(16 << 20);
    site_churn_b(64 << 20);
    site_churn_c(256 << 20);
    auto sites = totalsBySite();
    const struct {
        const char* name;
        double bytes, tolerance;
    } want[] = {{"site_churn_a", 16 << 20, 0.8},
                {"site_churn_b", 64 << 20, 0.4},
                {"site_churn_c", 256 << 20, 0.2}};
    for (const auto& w : want) {
        const SiteTotals& t = sites[w.name];
        const double est = scaledBytes(t.allocObjects, t.allocBytes, kDefaultMemProfileRate);
        EXPECT_NEAR(est / w.bytes, 1.0, w.tolerance)
            << w.name << ": " << t.allocObjects << " samples";
        // Every object was freed: the free side cancels exactly, whatever was sampled.
        EXPECT_EQ(t.freeObjects, t.allocObjects) << w.name;
        EXPECT_EQ(t.freeBytes, t.allocBytes) << w.name;
    }
}

TEST(MemProfile, RateZeroIsOff) {
    RateGuard rate(0);
    auto before = totalsBySite()["site_churn_a"];
    site_churn_a(8 << 20);
    auto after = totalsBySite()["site_churn_a"];
    EXPECT_EQ(after.allocObjects, before.allocObjects);
}

TEST(MemProfile, FreesFromOtherThreadsCount) {
    RateGuard rate(1);
    constexpr int kThreads = 4;
    constexpr size_t kPerThread = 2000;
    std::vector<std::vector<void*>> objs(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++)
        threads.emplace_back([&, t] {
            setMemProfileRate(1);  // this thread's countdown starts at once
            objs[t].reserve(kPerThread);
            site_thread(&objs[t], kPerThread);
        });
    for (auto& th : threads) th.join();
    threads.clear();
    // Each thread frees its neighbour's objects: every free is a cross-thread free.
    for (int t = 0; t < kThreads; t++)
        threads.emplace_back([&, t] {
            for (void* p : objs[(t + 1) % kThreads]) ssFree(p);
        });
    for (auto& th : threads) th.join();
    auto s = totalsBySite()["site_thread"];
    EXPECT_EQ(s.allocObjects, kThreads * kPerThread);
    EXPECT_EQ(s.allocBytes, kThreads * kPerThread * 48);
    EXPECT_EQ(s.freeObjects, s.allocObjects);
}

TEST(MemProfile, ManagedHeapFreesCountAtSweep) {
    RateGuard rate(1);
    void* kept = nullptr;
    gc::registerGlobal(&kept);
    for (int i = 0; i < 100; i++) site_managed(256);
    gc::writePointer(&kept, site_managed(100000));  // large, kept alive
    for (int i = 0; i < 10; i++) site_tiny(8);      // tiny: counted per new 16-byte block
    auto before = totalsBySite()["site_managed"];
    EXPECT_EQ(before.allocObjects, 101u);
    EXPECT_GE(totalsBySite()["site_tiny"].allocObjects, 4u);
    EXPECT_EQ(before.freeObjects, 0u);
    gc::collect();
    auto after = totalsBySite()["site_managed"];
    // Everything but the kept object died at this cycle's sweep.
    EXPECT_EQ(after.freeObjects, before.allocObjects - 1);
    gc::writePointer(&kept, static_cast<void*>(nullptr));
    gc::collect();
    after = totalsBySite()["site_managed"];
    EXPECT_EQ(after.freeObjects, after.allocObjects);
    // The tiny block this thread's cache is still filling may live on; the others died.
    auto tiny = totalsBySite()["site_tiny"];
    EXPECT_GE(tiny.freeObjects + 1, tiny.allocObjects);
    gc::unregisterGlobal(&kept);
}

TEST(MemProfile, ForkWhileOtherThreadsSample) {
    RateGuard rate(1);
    std::atomic<bool> stop{false};
    std::thread churn([&] {
        setMemProfileRate(1);
        while (!stop.load()) site_churn_a(64 << 10);
    });
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            std::vector<void*> v;
            v.reserve(100);
            site_small(&v, 100, 64);
            for (void* p : v) ssFree(p);
            _exit(totalsBySite()["site_small"].allocObjects >= 100 ? 0 : 1);
        }
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
            << "child " << i << " status " << status;
    }
    stop = true;
    churn.join();
}

// How many of want walkSampledObjects lists, each as a malloc-mode object of the given bytes with a
// bucket.
static size_t countListed(const std::vector<void*>& want, uint64_t bytes) {
    struct Ctx {
        const std::vector<void*>* want;
        uint64_t bytes;
        size_t found;
    } ctx{&want, bytes, 0};
    walkSampledObjects(
        [](const SampledObject& o, void* c) {
            auto* x = static_cast<Ctx*>(c);
            for (void* p : *x->want)
                if (reinterpret_cast<uintptr_t>(p) == o.addr && o.bytes == x->bytes && !o.managed &&
                    o.bucket)
                    x->found++;
        },
        &ctx);
    return ctx.found;
}

TEST(MemProfile, WalkSampledObjectsListsLiveOnes) {
    RateGuard rate(1);
    std::vector<void*> v;
    v.reserve(10);
    site_small(&v, 10, 4096);
    EXPECT_EQ(countListed(v, 4096), 10u);
    for (void* p : v) ssFree(p);
}

// Large objects' samples live in their spans and a list of those spans (mprof.cpp): the list grows
// past its first 512 slots, reuses the slots of freed samples, and the walk lists exactly the live
// ones, with their sizes; frees are counted against the site.
TEST(MemProfile, LargeSamplesAreListedUntilFreed) {
    RateGuard rate(1);
    constexpr size_t kBytes = 40 << 10;
    auto walkCount = [](const std::vector<void*>& want) { return countListed(want, kBytes); };
    const auto before = totalsBySite()["site_large"];
    std::vector<void*> v, freed, kept;
    v.reserve(700);
    site_large(&v, 600, kBytes);
    EXPECT_EQ(walkCount(v), 600u);
    for (size_t i = 0; i < v.size(); i++) (i % 2 ? kept : freed).push_back(v[i]);
    for (void* p : freed) ssFree(p);
    EXPECT_EQ(walkCount(freed), 0u);
    EXPECT_EQ(walkCount(kept), 300u);
    std::vector<void*> again;
    again.reserve(100);
    site_large(&again, 100, kBytes);  // into the freed slots
    EXPECT_EQ(walkCount(again), 100u);
    EXPECT_EQ(walkCount(kept), 300u);
    const auto mid = totalsBySite()["site_large"];
    EXPECT_EQ(mid.allocObjects - before.allocObjects, 700u);
    EXPECT_EQ(mid.freeObjects - before.freeObjects, 300u);
    for (void* p : kept) ssFree(p);
    for (void* p : again) ssFree(p);
    EXPECT_EQ(walkCount(kept) + walkCount(again), 0u);
    const auto after = totalsBySite()["site_large"];
    EXPECT_EQ(after.freeObjects - before.freeObjects, 700u);
    EXPECT_EQ(after.freeBytes - before.freeBytes, 700u * kBytes);
}

// A sample's stack starts at the allocation entry point, whichever unwinder walks it (libunwind's
// unw_backtrace, or libgcc's _Unwind_Backtrace under TSan): none of the profiler's own frames
// (captureStack, profileAlloc), an allocator entry point first (ssMalloc, or mallocSlow where
// ssMalloc tail-calls it), the allocating function right behind it, and then its caller.
TEST(MemProfile, StackStartsAtTheAllocationEntryPoint) {
    RateGuard rate(1);
    std::vector<void*> v;
    v.reserve(64);
    site_entry(&v, 32, 200);    // small objects: the fast path's sample
    site_entry(&v, 32, 40000);  // large objects: the slow path's
    const auto stacks = stacksHolding("site_entry");
    for (const auto& stk : stacks) {
        const int at = siteAfterEntryFrames(stk, "site_entry");
        ASSERT_GT(at, 0) << "first frames " << functionAt(stk[0]) << ", "
                         << (stk.size() > 1 ? functionAt(stk[1]) : "");
        ASSERT_GT(stk.size(), static_cast<size_t>(at + 1));
        EXPECT_NE(functionAt(stk[at + 1]).find("StackStartsAtTheAllocationEntryPoint"),
                  std::string::npos)
            << functionAt(stk[at + 1]);
    }
    EXPECT_GE(stacks.size(), 1u) << "no sampled stack holds site_entry";
    for (void* p : v) ssFree(p);
}

// The same in a new thread, whose first walks are libgcc's in the libunwind build (captureStack):
// the first frame kept is still the allocation entry point's caller.
TEST(MemProfile, StackStartsAtTheAllocationEntryPointInANewThread) {
    RateGuard rate(1);
    std::vector<void*> v;
    v.reserve(64);
    std::thread([&v] { site_new_thread(&v); }).join();  // 4 walks: all libgcc's
    const auto stacks = stacksHolding("site_new_thread");
    for (const auto& stk : stacks) {
        const int at = siteAfterEntryFrames(stk, "site_entry");
        ASSERT_GT(at, 0) << "first frames " << functionAt(stk[0]) << ", "
                         << (stk.size() > 1 ? functionAt(stk[1]) : "");
        ASSERT_GT(stk.size(), static_cast<size_t>(at + 1));
        EXPECT_EQ(functionAt(stk[at + 1]), "site_new_thread");
    }
    EXPECT_GE(stacks.size(), 1u) << "no sampled stack from the new thread holds site_entry";
    for (void* p : v) ssFree(p);
}

// A new thread's first 16 samples are walked by libgcc, the later ones by libunwind's
// unw_backtrace (in the libunwind build): both keep the same address for one call site, so the
// samples of one site through malloc's fast path are one bucket (the thread's first allocation
// takes the slow path, a stack of its own).
TEST(MemProfile, OneSiteIsOneBucketWhicheverWalkerSampledIt) {
    RateGuard rate(1);
    std::vector<void*> v;
    v.reserve(64);
    std::thread([&v] { site_one_bucket(&v); }).join();
    struct Found {
        size_t fastBuckets = 0;
        uint64_t allocs = 0, fastAllocs = 0;
    } found;
    memProfile(
        [](const MemProfileRecord& r, void* ctx) {
            auto* f = static_cast<Found*>(ctx);
            for (uint32_t i = 0; i < r.nstack; i++)
                if (functionAt(r.stack[i]) == "site_one_bucket") {
                    f->allocs += r.allocObjects;
                    if (r.nstack && functionAt(r.stack[0]).find("ssMalloc") != std::string::npos) {
                        f->fastBuckets++;
                        f->fastAllocs += r.allocObjects;
                    }
                    return;
                }
        },
        &found);
    EXPECT_EQ(found.allocs, 40u);
    EXPECT_GE(found.fastAllocs, 30u);
    EXPECT_EQ(found.fastBuckets, 1u) << "the walkers disagree on a call site's address";
    for (void* p : v) ssFree(p);
}

// A span's sampledSlots filter has one bit per slot index mod 64: slots i and i + 64 share it.
// Freeing one must leave the other's free still counted (no false "not sampled").
TEST(MemProfile, SlotsSharingAFilterBitAreBothCounted) {
    RateGuard rate(1);
    std::vector<void*> v;
    for (int i = 0; i < 200; i++) v.push_back(ssMalloc(48));  // one span of 170 slots, most of it
    auto frees = [] {
        uint64_t n = 0;
        memProfile([](const MemProfileRecord& r,
                      void* ctx) { *static_cast<uint64_t*>(ctx) += r.freeObjects; },
                   &n);
        return n;
    };
    // Two objects 64 slots apart in one span.
    std::sort(v.begin(), v.end());
    void* a = nullptr;
    void* b = nullptr;
    for (size_t i = 0; i + 64 < v.size() && !a; i++)
        if (static_cast<char*>(v[i + 64]) - static_cast<char*>(v[i]) == 64 * 48) {
            a = v[i];
            b = v[i + 64];
        }
    ASSERT_NE(a, nullptr) << "no two slots 64 apart";
    const uint64_t before = frees();
    ssFree(a);
    EXPECT_EQ(frees(), before + 1);
    ssFree(b);
    EXPECT_EQ(frees(), before + 2);
    for (void* p : v)
        if (p != a && p != b) ssFree(p);
}

// Inside an AllocatorWorkScope the stack ends at the scope's function (both walkers: libunwind's
// frame-by-frame walk compares each caller's stack pointer, libgcc's the canonical frame address).
TEST(MemProfile, StackInsideAllocatorWorkEndsAtTheScopesFunction) {
    RateGuard rate(1);
    std::vector<void*> v;
    v.reserve(4);
    site_scope_owner(&v);
    const auto stacks = stacksHolding("site_scope_inner");
    for (const auto& stk : stacks) {
        const int at = siteAfterEntryFrames(stk, "site_scope_inner");
        ASSERT_GT(at, 0) << "first frame " << functionAt(stk[0]);
        ASSERT_EQ(stk.size(), static_cast<size_t>(at + 2))
            << "last frame " << functionAt(stk.back());
        EXPECT_EQ(functionAt(stk[at + 1]), "site_scope_owner");
    }
    EXPECT_EQ(stacks.size(), 1u);
    for (void* p : v) ssFree(p);
}
