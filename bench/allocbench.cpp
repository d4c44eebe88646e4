// allocbench: allocator workloads for comparing malloc implementations (issue 2).
//
// Uses only the plain malloc/free/realloc and operator new/delete, so that LD_PRELOAD swaps the
// allocator under test (glibc, jemalloc, tcmalloc, mimalloc, libspanscope.so). Links nothing of
// spanscope. Run one pattern per process:
//
//   allocbench PATTERN [--threads N] [--scale X] [--seed S]
//   allocbench list
//
// Each pattern does a fixed amount of work (scaled by --scale), not a fixed time, and prints one
// line
//   pattern=NAME ops=N seconds=S ops_per_sec=X peak_rss_kb=K
// where ops counts allocator calls (malloc/new, free/delete, realloc), seconds is wall time of the
// work (thread start-up included) and peak_rss_kb is getrusage(RUSAGE_SELF).ru_maxrss at the end.
//
// Every object is stamped when allocated (an 8-byte header with its size and a serial number, and a
// check byte in its last byte; large objects also get one byte per 4 KiB page) and verified before
// it is freed, so RSS is real and an allocator that hands out overlapping memory or loses realloc
// contents is caught: the program then prints "allocbench: CORRUPTION ..." and exits with status 3.
// Seeds are fixed (--seed changes them), so every run of a pattern does the same calls.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// Helpers

struct Options {
    int threads = 2;
    double scale = 1.0;
    uint64_t seed = 42;
    std::string pattern;
};

// xoshiro-ish generator: splitmix64, fast and deterministic.
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) { return next() % n; }
    double unit() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
};

inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 33)) * 0xFF51AFD7ED558CCDull;
    z = (z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53ull;
    return z ^ (z >> 33);
}

[[noreturn]] void corruption(const char* what, const void* p, size_t size) {
    std::fprintf(stderr, "allocbench: CORRUPTION %s at %p (size %zu)\n", what, p, size);
    std::fflush(stderr);
    std::_Exit(3);
}

[[noreturn]] void outOfMemory(size_t size) {
    std::fprintf(stderr, "allocbench: allocation of %zu bytes returned NULL\n", size);
    std::fflush(stderr);
    std::_Exit(4);
}

inline void* xmalloc(size_t size) {
    void* p = std::malloc(size);
    if (!p) outOfMemory(size);
    return p;
}

// Object stamp: header word = size << 40 | serial (40 bits) at offset 0; if size > 8, the last byte
// holds a check byte derived from the header. Requires size >= 8 and size < 2^24.
inline uint64_t header(size_t size, uint64_t serial) {
    return (uint64_t(size) << 40) | (serial & 0xFFFFFFFFFFull);
}
inline uint8_t checkByte(uint64_t h) {
    return uint8_t(mix64(h));
}

inline void stamp(void* p, size_t size, uint64_t serial) {
    uint64_t h = header(size, serial);
    std::memcpy(p, &h, 8);
    if (size > 8) static_cast<uint8_t*>(p)[size - 1] = checkByte(h);
}

// Verifies a stamp; returns the header. expectSize 0: take the size from the header.
inline uint64_t verify(const void* p, size_t expectSize) {
    uint64_t h;
    std::memcpy(&h, p, 8);
    size_t size = size_t(h >> 40);
    if (expectSize && size != expectSize) corruption("header size mismatch", p, expectSize);
    if (size < 8) corruption("header size invalid", p, size);
    if (size > 8 && static_cast<const uint8_t*>(p)[size - 1] != checkByte(h))
        corruption("tail check byte", p, size);
    return h;
}

// Large objects: also one byte per 4 KiB page, so that the whole object is resident.
constexpr size_t kPage = 4096;
inline void touchPages(void* p, size_t from, size_t to, uint64_t h) {
    uint8_t* b = static_cast<uint8_t*>(p);
    size_t first = (from + kPage - 1) & ~(kPage - 1);
    if (first < 8) first = kPage;  // page 0 holds the header
    for (size_t off = first; off < to; off += kPage) b[off] = uint8_t(h + (off >> 12));
}
inline void verifyPages(const void* p, size_t to, uint64_t h) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    for (size_t off = kPage; off < to; off += kPage)
        if (b[off] != uint8_t(h + (off >> 12))) corruption("page byte", p, to);
}

// Mixed small sizes 8..1024: pick a power of two 8..512 uniformly, then a size in [2^b, 2^(b+1)].
// Mean ~220 B; small sizes are as frequent as large ones per octave, as in real programs.
inline size_t smallSize(Rng& r) {
    unsigned b = 3 + unsigned(r.below(7));  // 3..9
    size_t base = size_t(1) << b;
    return base + r.below(base + 1);  // 8..1024
}

uint64_t scaled(uint64_t n, double scale) {
    double v = double(n) * scale;
    return v < 1 ? 1 : uint64_t(v);
}

// ---------------------------------------------------------------------------------------------
// churn: a live set of small objects of mixed sizes; each step frees a random one and allocates a
// replacement of a new random size.

struct Slot {
    void* p;
    uint32_t size;
};

uint64_t churnWorker(uint64_t seed, size_t live, uint64_t steps) {
    Rng r(seed);
    uint64_t ops = 0, serial = seed << 32;
    std::vector<Slot> slots(live);
    for (auto& s : slots) {
        s.size = uint32_t(smallSize(r));
        s.p = xmalloc(s.size);
        stamp(s.p, s.size, ++serial);
        ++ops;
    }
    for (uint64_t i = 0; i < steps; ++i) {
        Slot& s = slots[r.below(live)];
        verify(s.p, s.size);
        std::free(s.p);
        s.size = uint32_t(smallSize(r));
        s.p = xmalloc(s.size);
        stamp(s.p, s.size, ++serial);
        ops += 2;
    }
    for (auto& s : slots) {
        verify(s.p, s.size);
        std::free(s.p);
        ++ops;
    }
    return ops;
}

constexpr size_t kChurnLive = 100000;
constexpr uint64_t kChurnSteps = 7000000;  // replacements (free + malloc each)

uint64_t runChurn1t(const Options& o) {
    return churnWorker(o.seed, kChurnLive, scaled(kChurnSteps, o.scale));
}

// Each thread churns its own live set of ~100k objects; the total number of replacements is the
// same as churn-1t's, split among the threads, so ops/s on 2 cores ideally doubles.
uint64_t runChurnMt(const Options& o) {
    int n = o.threads;
    uint64_t total = scaled(kChurnSteps, o.scale);
    std::vector<uint64_t> ops(n);
    std::vector<std::thread> ts;
    for (int t = 0; t < n; ++t)
        ts.emplace_back([&, t] { ops[t] = churnWorker(o.seed + 1000 + t, kChurnLive, total / n); });
    for (auto& t : ts) t.join();
    uint64_t sum = 0;
    for (auto v : ops) sum += v;
    return sum;
}

// ---------------------------------------------------------------------------------------------
// prodcons: producers allocate objects of mixed sizes 16..1024 and pass them in batches of 64
// through a bounded queue (256 batches) to consumers, which verify and free them: every free is a
// cross-thread free. threads/2 producers and threads/2 consumers (at least one of each).

constexpr size_t kBatch = 64;
constexpr size_t kQueueCap = 256;
constexpr uint64_t kProdConsObjects = 5000000;

struct Batch {
    size_t n;
    void* p[kBatch];
};

class BoundedQueue {
public:
    BoundedQueue() : ring_(kQueueCap) {}
    void push(const Batch& b) {
        std::unique_lock<std::mutex> lk(mu_);
        notFull_.wait(lk, [&] { return count_ < kQueueCap; });
        ring_[(head_ + count_) % kQueueCap] = b;
        ++count_;
        notEmpty_.notify_one();
    }
    // False when the queue is empty and closed.
    bool pop(Batch& b) {
        std::unique_lock<std::mutex> lk(mu_);
        notEmpty_.wait(lk, [&] { return count_ > 0 || closed_; });
        if (count_ == 0) return false;
        b = ring_[head_];
        head_ = (head_ + 1) % kQueueCap;
        --count_;
        notFull_.notify_one();
        return true;
    }
    void close() {
        std::lock_guard<std::mutex> lk(mu_);
        closed_ = true;
        notEmpty_.notify_all();
    }

private:
    std::mutex mu_;
    std::condition_variable notFull_, notEmpty_;
    std::vector<Batch> ring_;
    size_t head_ = 0, count_ = 0;
    bool closed_ = false;
};

uint64_t runProdCons(const Options& o) {
    int producers = o.threads / 2 < 1 ? 1 : o.threads / 2;
    int consumers = o.threads - producers < 1 ? 1 : o.threads - producers;
    uint64_t total = scaled(kProdConsObjects, o.scale);
    BoundedQueue q;
    std::vector<uint64_t> ops(producers + consumers);
    std::vector<std::thread> prod, cons;
    for (int t = 0; t < consumers; ++t)
        cons.emplace_back([&, t] {
            Batch b;
            uint64_t n = 0;
            while (q.pop(b)) {
                for (size_t i = 0; i < b.n; ++i) {
                    verify(b.p[i], 0);
                    std::free(b.p[i]);
                }
                n += b.n;
            }
            ops[producers + t] = n;
        });
    for (int t = 0; t < producers; ++t)
        prod.emplace_back([&, t] {
            Rng r(o.seed + 2000 + t);
            uint64_t mine = total / producers, serial = uint64_t(t) << 36;
            Batch b;
            b.n = 0;
            for (uint64_t i = 0; i < mine; ++i) {
                size_t size = smallSize(r);
                if (size < 16) size = 16;
                void* p = xmalloc(size);
                stamp(p, size, ++serial);
                b.p[b.n++] = p;
                if (b.n == kBatch) {
                    q.push(b);
                    b.n = 0;
                }
            }
            if (b.n) q.push(b);
            ops[t] = mine;
        });
    for (auto& t : prod) t.join();
    q.close();
    for (auto& t : cons) t.join();
    uint64_t sum = 0;
    for (auto v : ops) sum += v;
    return sum;
}

// ---------------------------------------------------------------------------------------------
// bintree: the benchmarks game's binary-trees (and Go's test/bench/garbage tree): a long-lived tree
// of depth maxDepth, a stretch tree of depth maxDepth+1, then for depths 4, 6, .., maxDepth build
// and check 2^(maxDepth-depth+4) trees each and delete them; the depth loop runs 4 times (at scale
// 1) so that the pattern takes long enough to measure. 16-byte nodes via new/delete.

struct Node {
    Node* left;
    Node* right;
};

Node* build(int depth, uint64_t& ops) {
    Node* n = new Node;
    ++ops;
    if (depth > 0) {
        n->left = build(depth - 1, ops);
        n->right = build(depth - 1, ops);
    } else {
        n->left = n->right = nullptr;
    }
    return n;
}

uint64_t check(const Node* n) {
    return 1 + (n->left ? check(n->left) + check(n->right) : 0);
}

void destroy(Node* n, uint64_t& ops) {
    if (n->left) {
        destroy(n->left, ops);
        destroy(n->right, ops);
    }
    delete n;
    ++ops;
}

uint64_t runBintree(const Options& o) {
    // maxDepth 16 at scale 1; scale changes the number of iterations per depth.
    const int maxDepth = 16, minDepth = 4, repeats = 4;
    uint64_t ops = 0;
    auto expect = [](int d) { return (uint64_t(1) << (d + 1)) - 1; };
    Node* stretch = build(maxDepth + 1, ops);
    if (check(stretch) != expect(maxDepth + 1)) corruption("stretch tree node count", stretch, 16);
    destroy(stretch, ops);
    Node* longLived = build(maxDepth, ops);
    for (int d = minDepth; d <= maxDepth; d += 2) {
        uint64_t iters = scaled(uint64_t(repeats) << (maxDepth - d + minDepth), o.scale);
        for (uint64_t i = 0; i < iters; ++i) {
            Node* t = build(d, ops);
            if (check(t) != expect(d)) corruption("tree node count", t, 16);
            destroy(t, ops);
        }
    }
    if (check(longLived) != expect(maxDepth))
        corruption("long-lived tree node count", longLived, 16);
    destroy(longLived, ops);
    return ops;
}

// ---------------------------------------------------------------------------------------------
// realloc: 32 growing buffers, grown round-robin by a random factor 1.1..2.0 (vectors double,
// strings grow by less) from 16 B to ~1 MiB; a buffer that reaches 1 MiB is freed and restarted at
// 16 B. Each realloc checks that the old contents survived (header and old last byte) and touches
// the new part (one byte per 4 KiB page and the last byte).

constexpr size_t kReallocBuffers = 32;
constexpr size_t kReallocMax = 1 << 20;
constexpr uint64_t kReallocSteps = 100000;

uint64_t runRealloc(const Options& o) {
    Rng r(o.seed + 3000);
    uint64_t ops = 0, serial = 0;
    struct Buf {
        void* p;
        size_t size;
        uint64_t h;
    };
    std::vector<Buf> bufs(kReallocBuffers);
    auto start = [&](Buf& b) {
        b.size = 16;
        b.p = xmalloc(b.size);
        stamp(b.p, b.size, ++serial);
        std::memcpy(&b.h, b.p, 8);
        ++ops;
    };
    for (auto& b : bufs) start(b);
    uint64_t steps = scaled(kReallocSteps, o.scale);
    for (uint64_t i = 0; i < steps; ++i) {
        Buf& b = bufs[i % kReallocBuffers];
        if (b.size >= kReallocMax) {
            verify(b.p, b.size);
            verifyPages(b.p, b.size - 1, b.h);
            std::free(b.p);
            ++ops;
            start(b);
            continue;
        }
        size_t grown = size_t(double(b.size) * (1.1 + 0.9 * r.unit())) + 1;
        if (grown > kReallocMax) grown = kReallocMax;
        size_t old = b.size;
        void* p = std::realloc(b.p, grown);
        if (!p) outOfMemory(grown);
        ++ops;
        // Old contents must have moved along: header, page bytes and old last byte.
        uint64_t h;
        std::memcpy(&h, p, 8);
        if (h != b.h) corruption("realloc lost header", p, grown);
        if (static_cast<uint8_t*>(p)[old - 1] != checkByte(h))
            corruption("realloc lost old last byte", p, old);
        if (old >= 2 * kPage) verifyPages(p, old - 1, h);
        // Restamp with the new size, keep the serial.
        uint64_t nh = header(grown, h);
        std::memcpy(p, &nh, 8);
        touchPages(p, 0, grown - 1,
                   nh);  // page bytes depend on the header: rewrite the old ones too
        static_cast<uint8_t*>(p)[grown - 1] = checkByte(nh);
        b.p = p;
        b.size = grown;
        b.h = nh;
    }
    for (auto& b : bufs) {
        verify(b.p, b.size);
        verifyPages(b.p, b.size - 1, b.h);
        std::free(b.p);
        ++ops;
    }
    return ops;
}

// ---------------------------------------------------------------------------------------------
// large: a live set of 64 large objects, sizes log-uniform in 32 KiB..4 MiB, randomly replaced;
// every 4 KiB page of each new object is written, and checked before the object is freed.

constexpr size_t kLargeLive = 64;
constexpr uint64_t kLargeSteps = 40000;

inline size_t largeSize(Rng& r) {
    double lo = std::log2(32.0 * 1024), hi = std::log2(4.0 * 1024 * 1024);
    return size_t(std::exp2(lo + (hi - lo) * r.unit()));
}

uint64_t runLarge(const Options& o) {
    Rng r(o.seed + 4000);
    uint64_t ops = 0, serial = 0;
    struct Obj {
        void* p;
        size_t size;
        uint64_t h;
    };
    std::vector<Obj> objs(kLargeLive);
    auto make = [&](Obj& x) {
        x.size = largeSize(r);
        x.p = xmalloc(x.size);
        stamp(x.p, x.size, ++serial);
        std::memcpy(&x.h, x.p, 8);
        touchPages(x.p, 0, x.size - 1, x.h);
        ++ops;
    };
    auto drop = [&](Obj& x) {
        verify(x.p, x.size);
        verifyPages(x.p, x.size - 1, x.h);
        std::free(x.p);
        ++ops;
    };
    for (auto& x : objs) make(x);
    uint64_t steps = scaled(kLargeSteps, o.scale);
    for (uint64_t i = 0; i < steps; ++i) {
        Obj& x = objs[r.below(kLargeLive)];
        drop(x);
        make(x);
    }
    for (auto& x : objs) drop(x);
    return ops;
}

// ---------------------------------------------------------------------------------------------
// frag: fragmentation stress. Each round allocates 100k objects of size A, frees every other one,
// then allocates 50k objects of a different (larger or smaller) size B, which cannot reuse the
// holes left by A unless the allocator coalesces or the sizes share a class. The survivors of a
// round form a generation; the last 3 generations stay live (the live set), older ones are freed.
// Peak RSS is the figure of interest here.

constexpr size_t kFragCount = 100000;
constexpr uint64_t kFragRounds = 40;
constexpr size_t kFragGenerations = 3;
constexpr size_t kFragSizes[] = {16, 48, 128, 256, 24, 96, 512, 64, 32, 200, 1024, 80};
constexpr size_t kNumFragSizes = sizeof(kFragSizes) / sizeof(kFragSizes[0]);

uint64_t runFrag(const Options& o) {
    Rng r(o.seed + 5000);
    uint64_t ops = 0, serial = 0;
    std::vector<std::vector<Slot>> gens;
    uint64_t rounds = scaled(kFragRounds, o.scale);
    auto freeGen = [&](std::vector<Slot>& g) {
        for (auto& s : g) {
            verify(s.p, s.size);
            std::free(s.p);
            ++ops;
        }
        g.clear();
        g.shrink_to_fit();
    };
    for (uint64_t round = 0; round < rounds; ++round) {
        size_t a = kFragSizes[(round + r.below(2)) % kNumFragSizes];
        size_t b = kFragSizes[(round + 5) % kNumFragSizes];
        if (b == a) b = a * 2;
        std::vector<Slot> as(kFragCount);
        for (auto& s : as) {
            s.size = uint32_t(a);
            s.p = xmalloc(a);
            stamp(s.p, a, ++serial);
            ++ops;
        }
        std::vector<Slot> gen;
        gen.reserve(kFragCount);
        for (size_t i = 0; i < as.size(); ++i) {
            if (i & 1) {
                verify(as[i].p, as[i].size);
                std::free(as[i].p);
                ++ops;
            } else {
                gen.push_back(as[i]);
            }
        }
        for (size_t i = 0; i < kFragCount / 2; ++i) {
            void* p = xmalloc(b);
            stamp(p, b, ++serial);
            gen.push_back({p, uint32_t(b)});
            ++ops;
        }
        gens.push_back(std::move(gen));
        if (gens.size() > kFragGenerations) {
            freeGen(gens.front());
            gens.erase(gens.begin());
        }
    }
    for (auto& g : gens) freeGen(g);
    return ops;
}

// ---------------------------------------------------------------------------------------------
// server: the Larson/Krishnan server pattern. Each of --threads "chairs" holds a live set of 8192
// objects of 16..512 B; a worker thread replaces 4096 random objects of it (free + malloc), then
// hands the whole live set to a successor thread and exits (the chair starts the successor once the
// worker has exited). So most frees are of objects whose allocating thread is gone: about 79% of a
// worker's frees are of its predecessors' objects.

constexpr size_t kServerLive = 8192;
constexpr uint64_t kServerStepsPerThread = 4096;
constexpr uint64_t kServerSteps = 12000000;  // replacements in all

inline size_t serverSize(Rng& r) {
    return 16 + r.below(497);
}  // 16..512

uint64_t serverWorker(std::vector<Slot>& slots, uint64_t seed, uint64_t steps, uint64_t& serial) {
    Rng r(seed);
    uint64_t ops = 0;
    for (uint64_t i = 0; i < steps; ++i) {
        Slot& s = slots[r.below(slots.size())];
        verify(s.p, s.size);
        std::free(s.p);
        s.size = uint32_t(serverSize(r));
        s.p = xmalloc(s.size);
        stamp(s.p, s.size, ++serial);
        ops += 2;
    }
    return ops;
}

uint64_t runServer(const Options& o) {
    const int n = o.threads;
    const uint64_t perChair = scaled(kServerSteps, o.scale) / uint64_t(n);
    std::vector<uint64_t> ops(n);
    std::vector<std::thread> chairs;
    for (int c = 0; c < n; ++c)
        chairs.emplace_back([&, c] {
            std::vector<Slot> slots(kServerLive);
            uint64_t serial = uint64_t(c + 1) << 36, done = 0, gen = 0;
            std::thread([&] {  // the first worker builds the live set
                Rng r(o.seed + 7000 + uint64_t(c));
                for (auto& s : slots) {
                    s.size = uint32_t(serverSize(r));
                    s.p = xmalloc(s.size);
                    stamp(s.p, s.size, ++serial);
                    ++ops[c];
                }
            })
                .join();
            while (done < perChair) {
                uint64_t steps = perChair - done < kServerStepsPerThread ? perChair - done
                                                                         : kServerStepsPerThread;
                std::thread([&] {
                    ops[c] += serverWorker(slots, o.seed * 1000003 + uint64_t(c) * 7919 + gen,
                                           steps, serial);
                }).join();
                done += steps;
                ++gen;
            }
            std::thread([&] {  // the last successor frees the live set
                for (auto& s : slots) {
                    verify(s.p, s.size);
                    std::free(s.p);
                    ++ops[c];
                }
            })
                .join();
        });
    for (auto& t : chairs) t.join();
    uint64_t sum = 0;
    for (auto v : ops) sum += v;
    return sum;
}

// ---------------------------------------------------------------------------------------------
// fragrounds: fragmentation rounds with random sizes. Each round allocates 50,000 objects of one
// size (any size 16..1024 B), frees every other one, then allocates 25,000 objects of another
// random size; the survivors form a generation and the last 4 generations stay live. Unlike frag's
// fixed size list, sizes land anywhere in the class table, so classes are rarely shared.

constexpr size_t kRoundsCount = 50000;
constexpr uint64_t kRoundsRounds = 40;
constexpr size_t kRoundsGenerations = 4;

uint64_t runFragRounds(const Options& o) {
    Rng r(o.seed + 9000);
    uint64_t ops = 0, serial = 0;
    std::vector<std::vector<Slot>> gens;
    const uint64_t rounds = scaled(kRoundsRounds, o.scale);
    for (uint64_t round = 0; round < rounds; ++round) {
        const size_t a = 16 + r.below(1009), b = 16 + r.below(1009);
        std::vector<Slot> as(kRoundsCount);
        for (auto& s : as) {
            s.size = uint32_t(a);
            s.p = xmalloc(a);
            stamp(s.p, a, ++serial);
            ++ops;
        }
        std::vector<Slot> gen;
        gen.reserve(kRoundsCount);
        for (size_t i = 0; i < as.size(); ++i) {
            if (i & 1) {
                verify(as[i].p, as[i].size);
                std::free(as[i].p);
                ++ops;
            } else {
                gen.push_back(as[i]);
            }
        }
        for (size_t i = 0; i < kRoundsCount / 2; ++i) {
            void* p = xmalloc(b);
            stamp(p, b, ++serial);
            gen.push_back({p, uint32_t(b)});
            ++ops;
        }
        gens.push_back(std::move(gen));
        if (gens.size() > kRoundsGenerations) {
            for (auto& s : gens.front()) {
                verify(s.p, s.size);
                std::free(s.p);
                ++ops;
            }
            gens.erase(gens.begin());
        }
    }
    for (auto& g : gens)
        for (auto& s : g) {
            verify(s.p, s.size);
            std::free(s.p);
            ++ops;
        }
    return ops;
}

// ---------------------------------------------------------------------------------------------

struct Pattern {
    const char* name;
    uint64_t (*run)(const Options&);
    const char* help;
};

const Pattern kPatterns[] = {
    {"churn-1t", runChurn1t,
     "single-thread churn of ~100k small objects (8..1024 B), random replace"},
    {"churn-mt", runChurnMt,
     "churn-1t on --threads threads (default 2), each with its own live set"},
    {"prodcons", runProdCons,
     "producers allocate, consumers free (cross-thread) via a bounded queue"},
    {"bintree", runBintree,
     "binary-trees: build/discard trees of depth 4..16 (x4), one long-lived tree"},
    {"realloc", runRealloc, "32 buffers grown by realloc from 16 B to 1 MiB, round-robin"},
    {"large", runLarge,
     "live set of 64 large objects 32 KiB..4 MiB, random replace, pages touched"},
    {"frag", runFrag, "allocate 100k, free every other, allocate another size; 3 generations live"},
    {"server", runServer,
     "--threads chairs; workers replace 16..512 B objects, hand the live set on, exit"},
    {"fragrounds", runFragRounds,
     "50k of a random size, free every other, 25k of another; 4 generations live"},
};

[[noreturn]] void usage(int status) {
    std::FILE* f = status ? stderr : stdout;
    std::fprintf(f,
                 "usage: allocbench PATTERN [--threads N] [--scale X] [--seed S]\n       "
                 "allocbench list\npatterns:\n");
    for (const auto& p : kPatterns) std::fprintf(f, "  %-9s %s\n", p.name, p.help);
    std::exit(status);
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (argc < 2) usage(2);
    o.pattern = argv[1];
    if (o.pattern == "-h" || o.pattern == "--help") usage(0);
    if (o.pattern == "list") {
        for (const auto& p : kPatterns) std::printf("%s\n", p.name);
        return 0;
    }
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "allocbench: %s needs a value\n", a.c_str());
                usage(2);
            }
            return argv[++i];
        };
        if (a == "--threads") {
            o.threads = std::atoi(value());
            if (o.threads < 1) {
                std::fprintf(stderr, "allocbench: --threads must be >= 1\n");
                return 2;
            }
        } else if (a == "--scale") {
            o.scale = std::atof(value());
            if (!(o.scale > 0)) {
                std::fprintf(stderr, "allocbench: --scale must be > 0\n");
                return 2;
            }
        } else if (a == "--seed") {
            o.seed = std::strtoull(value(), nullptr, 10);
        } else if (a == "-h" || a == "--help") {
            usage(0);
        } else {
            std::fprintf(stderr, "allocbench: unknown option %s\n", a.c_str());
            usage(2);
        }
    }
    const Pattern* pat = nullptr;
    for (const auto& p : kPatterns)
        if (o.pattern == p.name) pat = &p;
    if (!pat) {
        std::fprintf(stderr, "allocbench: unknown pattern '%s'\n", o.pattern.c_str());
        usage(2);
    }

    auto t0 = std::chrono::steady_clock::now();
    uint64_t ops = pat->run(o);
    auto t1 = std::chrono::steady_clock::now();
    double seconds = std::chrono::duration<double>(t1 - t0).count();

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    std::printf("pattern=%s ops=%llu seconds=%.4f ops_per_sec=%.0f peak_rss_kb=%ld\n", pat->name,
                (unsigned long long)ops, seconds, seconds > 0 ? double(ops) / seconds : 0.0,
                ru.ru_maxrss);
    return 0;
}
