// The heap profiler (Go's mprof.go and malloc.go's profilealloc/nextSample/fastexprand): sampled
// allocations, their stacks deduplicated into buckets, and their frees counted against the same
// bucket. Both heaps, every thread; nothing here allocates from a spanscope heap.
//
//   sampleAlloc (inline, mprof.h): c->nextSample -= slot bytes; at <= 0 -> profileAlloc:
//     draw the next distance from an exponential distribution with mean MemProfileRate (Go's
//     fastexprand), capture the stack (at most 64 frames: "Stacks" below), find or make its
//     bucket (Go's stkbucket), remember the object (address -> bucket, bytes, in a table; a large
//     object's in its span, as Go attaches a profile special to the span) and count it in its
//     span's nsampled, emit ProfStack (once per bucket per stream) and ProfAlloc.
//   free (malloc mode): free() looks at its span's nsampled; only when it is non-zero does it look
//     the address up here (profileFree). Managed heap: the sweeper does the same for the slots it
//     frees (profileSweep), as Go's sweep frees profile specials.
//
// Stacks come from .eh_frame (no frame pointers needed, so it works in Debian's python3 and libc):
// with libunwind (SPANSCOPE_LIBUNWIND, Debian's libunwind-dev), unw_backtrace, which caches each
// return address's frame rule per thread and walks a 13-frame stack in about 1.5 k instructions
// (a thread's first walks use unw_step instead: see kStepWalks);
// otherwise libgcc's _Unwind_Backtrace, which decodes .eh_frame again at every frame of every walk
// (about 10 k instructions for the same stack; docs/BENCHMARKS.md, "Heap profiling").
// ThreadSanitizer builds use libgcc's (libunwind's per-thread cache destructor runs after TSan has
// torn the thread down). These are the only things beyond libc and pthreads the allocator uses.
// Should an unwinder allocate, the allocation is not sampled (t_inProfiler) and takes no profiler
// lock. Go delays frees to the end of a GC cycle (memRecord cycles) so that its profile is
// consistent as of the last GC; spanscope counts them at once and leaves time to the session.
#include "spanscope/mprof.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unwind.h>
#if SPANSCOPE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "spanscope/detail/emit.h"
#include "spanscope/detail/mheap.h"
#include "spanscope/detail/mprof.h"

namespace spanscope {
namespace detail {
namespace {

// With profiling off a thread looks at the rate again after this many bytes (so turning it on
// reaches every thread), which costs one out-of-line call per 64 MiB.
constexpr int64_t kOffRecheck = int64_t{64} << 20;
constexpr size_t kBucketHashSize = size_t{1} << 16;  // Go's buckHashSize is 179999

struct Bucket {
    Bucket* next;  // hash chain
    uint64_t hash;
    uint32_t id;
    uint32_t nstk;
    std::atomic<uint32_t> epoch;  // g_sinkEpoch when the stack was last sent
    uint64_t allocs, allocBytes, frees, freeBytes;
    uintptr_t stk[];
};

// A sampled object still live: open addressing, linear probing, backward-shift deletion.
struct Sample {
    uintptr_t addr;  // 0 = empty
    Bucket* bucket;
    uint64_t bytes;  // bit 63: managed heap
};
constexpr uint64_t kManagedBit = uint64_t{1} << 63;

SpinLock g_lock;                  // a leaf: nothing is called with it held but mmap
std::atomic<int64_t> g_rate{-1};  // -1 = not yet read from the environment
Bucket** g_buckhash = nullptr;
Bucket** g_byId = nullptr;  // id - 1 -> bucket
size_t g_byIdCap = 0;
uint32_t g_nbuckets = 0;
char* g_arena = nullptr;  // bump allocation of buckets (Go's persistentalloc)
size_t g_arenaLeft = 0;
Sample* g_samples = nullptr;
size_t g_samplesCap = 0;  // power of two
// Large objects' samples are kept in their spans (MSpan::profBucket), which this list finds for
// walkSampledObjects: a span pointer per slot, or a free slot (odd: the next free slot's index + 1,
// shifted left one, then |1). Its live part is as small as the large samples alive, so an insert
// or a remove touches a line or two that are usually cached, where the table above would cost a
// miss into a cold slot each (`large` and `realloc` sample every few allocations).
uintptr_t* g_large = nullptr;
size_t g_largeCap = 0, g_largeLen = 0;
size_t g_largeFree = 0;  // first free slot's index + 1, 0 = none
size_t g_nsamples = 0;
std::atomic<bool> g_forkRegistered{false};

// Unwinding across fork. An unwinder keeps state of its own, and a fork while another thread is
// inside it copies that state half-done into a child that has one thread, whose first stack walk
// then waits forever:
// - first use: libgcc's and libunwind's pthread_once initialisation (glibc restarts a once that a
//   fork interrupted, ThreadSanitizer's pthread_once does not) and libunwind's init lock. So the
//   unwinder is used once at load (warmUnwinder, from the constructor profilerAtStart), before
//   the program has threads.
// - libunwind also takes locks at every walk that misses its caches (its register-state cache and
//   its memory pools). So, with libunwind, the prepare handler closes a gate (a sampler that finds
//   it closed records its sample with no stack rather than wait: it may be a mutator that the
//   fork's own prepare handlers wait for) and waits for the walks in flight to finish. A walk that
//   does not finish within kUnwindForkWaitNs (one that needs a lock an earlier prepare handler
//   took) is left behind, and the child, which finds it in the gate's count, then records no more
//   stacks (g_unwindPoisoned): its samples still count, with no stack. libgcc's walk, after its
//   first use, takes only the dynamic loader's lock, which glibc's fork resets in the child;
//   ThreadSanitizer builds use it, and could not wait here (TSan holds its own locks across the
//   prepare handlers, and the walk calls into TSan).
#if SPANSCOPE_LIBUNWIND
ForkGate g_unwinders;           // threads inside captureStack; closed while a fork is prepared
bool g_unwindPoisoned = false;  // a child only
constexpr long kUnwindForkWaitNs = 500'000'000;
#endif

thread_local bool t_inProfiler __attribute__((tls_model("initial-exec"))) = false;
}  // namespace
constinit thread_local uintptr_t t_allocatorWork __attribute__((tls_model("initial-exec"))) = 0;
namespace {
thread_local uint64_t t_rand __attribute__((tls_model("initial-exec"))) = 0;

void* mapMeta(size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fatal("heap profiler: out of memory mapping %zu bytes", bytes);
    return p;
}

int64_t readRateFromEnvironment() {
    int64_t rate = kDefaultMemProfileRate;
    if (const char* g = getenv("GODEBUG"))
        if (const char* m = strstr(g, "memprofilerate=")) rate = strtoll(m + 15, nullptr, 10);
    if (const char* e = getenv("SPANSCOPE_MEMPROFILERATE")) rate = strtoll(e, nullptr, 10);
    return rate < 0 ? 0 : rate;
}

// xorshift64*, seeded per thread from its id and the clock (Go's fastrand is per M).
uint32_t fastrand() {
    if (SPANSCOPE_UNLIKELY(t_rand == 0))
        t_rand = (nanotime() ^ (uint64_t(currentTid()) << 32) ^ 0x9e3779b97f4a7c15ull) | 1;
    t_rand ^= t_rand >> 12;
    t_rand ^= t_rand << 25;
    t_rand ^= t_rand >> 27;
    return static_cast<uint32_t>((t_rand * 0x2545f4914f6cdd1dull) >> 32);
}

// log2(m) for m in [1, 2], by the series 2 atanh(z) with z = (m - 1) / (m + 1) <= 1/3, to double
// precision; at compile time only (the table below).
constexpr double log2Series(double m) {
    const double z = (m - 1) / (m + 1), z2 = z * z;
    double term = z, sum = 0;
    for (int k = 1; k <= 41; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return 2 * sum * 1.4426950408889634;  // ln(m) / ln(2)
}

// Go's fastlog2table: log2(1 + i/32) for i in 0..32 (mkfastlog2table.go).
constexpr int kFastlogNumBits = 5;
constexpr int kFastlogScaleBits = 20;
struct FastlogTable {
    double v[(1 << kFastlogNumBits) + 1];
};
constexpr FastlogTable makeFastlogTable() {
    FastlogTable t{};
    for (int i = 0; i <= (1 << kFastlogNumBits); i++)
        t.v[i] = log2Series(1.0 + double(i) / (1 << kFastlogNumBits));
    return t;
}
constexpr FastlogTable kFastlogTable = makeFastlogTable();

// Go's fastlog2 (fastlog2.go): the exponent, plus log2 of the mantissa interpolated linearly
// between the table's points by the mantissa's next 20 bits. Its error (under 2e-4) is what Go's
// sampling distances have. (Until 2026-12-03 an 11-term series with a division per term, accurate
// to 1e-9 and a tenth of `large`'s profiling cost: docs/BENCHMARKS.md, "Heap profiling".)
double fastlog2(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    const int64_t exp = static_cast<int64_t>((bits >> 52) & 0x7ff) - 1023;
    const uint64_t index = (bits >> (52 - kFastlogNumBits)) % (1 << kFastlogNumBits);
    const uint64_t scale =
        (bits >> (52 - kFastlogNumBits - kFastlogScaleBits)) % (1 << kFastlogScaleBits);
    const double low = kFastlogTable.v[index], high = kFastlogTable.v[index + 1];
    return static_cast<double>(exp) + low +
           (high - low) * static_cast<double>(scale) * (1.0 / (1 << kFastlogScaleBits));
}

// Go's fastexprand: an exponential sample with the given mean, at least 1.
int64_t fastexprand(int64_t mean) {
    if (mean > 0x7000000) mean = 0x7000000;
    constexpr int kRandomBitCount = 26;
    const uint32_t q = (fastrand() & ((1u << kRandomBitCount) - 1)) + 1;
    double qlog = fastlog2(static_cast<double>(q)) - kRandomBitCount;
    if (qlog > 0) qlog = 0;
    constexpr double kMinusLog2 = -0.6931471805599453;
    return static_cast<int64_t>(qlog * (kMinusLog2 * static_cast<double>(mean))) + 1;
}

// Go's nextSample.
int64_t nextSample(int64_t rate) {
    if (rate == 0) return kOffRecheck;
    if (rate == 1) return 0;
    return fastexprand(rate);
}

struct UnwindState {
    uintptr_t* out;
    int n, skip;
    uintptr_t cut;  // an AllocatorWorkScope's frame address, or 0
};

_Unwind_Reason_Code unwindStep(_Unwind_Context* ctx, void* arg) {
    auto* st = static_cast<UnwindState*>(arg);
    const uintptr_t ip = _Unwind_GetIP(ctx);
    if (ip == 0) return _URC_END_OF_STACK;
    if (st->skip > 0) {
        st->skip--;
        return _URC_NO_REASON;
    }
    // The stack grows down. What _Unwind_GetCFA gives in this callback is the canonical frame
    // address of the frame called by this one, i.e. this frame's stack pointer: at or below the
    // scope's frame for the scope's function and the frames it called, above it from the scope
    // function's caller on, the first frame not kept.
    if (st->cut && _Unwind_GetCFA(ctx) > st->cut) return _URC_END_OF_STACK;
    st->out[st->n++] = ip;
    return st->n == kMaxProfileStack ? _URC_END_OF_STACK : _URC_NO_REASON;
}

#if SPANSCOPE_LIBUNWIND
// Inside an AllocatorWorkScope: step frame by frame, and stop after the scope's function. A frame's
// caller's stack pointer is the frame's canonical frame address, so the first frame whose caller's
// SP is above the scope's frame is the scope's function (as unwindStep's CFA test).
SPANSCOPE_NOINLINE int captureStackUpTo(uintptr_t* out, int skip, uintptr_t cut) {
    unw_context_t ctx;
    unw_cursor_t cur;
    if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0) return 0;
    int n = 0;
    for (;;) {
        unw_word_t ip = 0, sp = 0;
        if (unw_get_reg(&cur, UNW_REG_IP, &ip) != 0 || ip == 0) break;
        const bool keep = skip-- <= 0;
        if (keep) out[n++] = ip;
        if (n == kMaxProfileStack || unw_step(&cur) <= 0) break;
        if (keep && unw_get_reg(&cur, UNW_REG_SP, &sp) == 0 && sp > cut) break;
    }
    return n;
}
#endif

#if SPANSCOPE_LIBUNWIND
// unw_backtrace's first walk in a thread builds that thread's trace cache (libunwind's Gtrace.c: a
// table of 16 K frame entries, 256 KiB mapped and filled), which the thread's exit unmaps again (a
// TLB shoot-down). A program whose threads sample a few times and exit (the `server` pattern's
// successor threads) paid that for nearly every sample: 2.6x its time at the default rate. So a
// thread's first kStepWalks walks are libgcc's (_Unwind_Backtrace: no per-thread state, its FDE
// lookup glibc's lock-free _dl_find_object), and only a thread that keeps sampling moves on to
// unw_backtrace. (Stepping with unw_step instead, as these walks did until 2026-12-03, mapped
// nothing, but its per-thread frame-rule cache starts cold, and each of its misses looks the
// frame up with signals blocked around dl_iterate_phdr: two rt_sigprocmask calls a frame,
// about 35 a thread in `server`, 7% of that program's CPU at the default rate.)
constexpr uint32_t kStepWalks = 16;
thread_local uint32_t t_walks __attribute__((tls_model("initial-exec"))) = 0;
#endif

// Return addresses from profileAlloc's caller (the allocation entry point) outwards; inside an
// AllocatorWorkScope, only up to the scope's function. Inlined into profileAlloc, whose frame is
// the first one walked and skipped: a frame of its own cost every sample one more frame to walk
// (libunwind's walk is most of the profiler's cost where it samples most, docs/BENCHMARKS.md).
SPANSCOPE_INLINE int captureStack(uintptr_t* out) {
    constexpr int kSkip = 1;
#if SPANSCOPE_LIBUNWIND
    if (t_allocatorWork) {
        // captureStackUpTo is a frame deeper and skips itself too; the asm keeps its call from
        // becoming a tail call, which would take this function's frame off the stack.
        const int n = captureStackUpTo(out, kSkip + 1, t_allocatorWork);
        asm volatile("" ::: "memory");
        return n;
    }
    if (t_walks < kStepWalks) {
        t_walks++;
        UnwindState st{out, 0, kSkip, 0};
        _Unwind_Backtrace(unwindStep, &st);
        return st.n;
    }
    void* buf[kMaxProfileStack + kSkip];
    const int got = unw_backtrace(buf, kMaxProfileStack + kSkip);
    const int n = got > kSkip ? got - kSkip : 0;
    for (int i = 0; i < n; i++) out[i] = reinterpret_cast<uintptr_t>(buf[i + kSkip]);
    return n;
#else
    UnwindState st{out, 0, kSkip, t_allocatorWork};
    _Unwind_Backtrace(unwindStep, &st);
    return st.n;
#endif
}

// One walk, so that the unwinder's first-use initialisation is done (see "Unwinding across fork").
void warmUnwinder() {
    const bool nested = t_inProfiler;
    t_inProfiler = true;  // what the unwinder allocates is not sampled
    uintptr_t stk[kMaxProfileStack];
#if SPANSCOPE_LIBUNWIND
    // unw_step's frame-rule cache per thread (AllocatorWorkScope walks): the global one takes a
    // lock with signals blocked (two sigprocmask calls) at every walk. Setting the policy runs
    // libunwind's own initialisation (tdep_init); the walk below is libgcc's (t_walks is 0 here),
    // which makes libgcc's first-use setup. unw_backtrace's first use (its trace cache key's
    // pthread_once) is left to the first thread that keeps sampling: glibc restarts a once that a
    // fork interrupted, and walking it here would give the main thread a 256 KiB trace cache
    // whether or not it ever samples again.
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
#endif
    (void)captureStack(stk);
    t_inProfiler = nested;
}

uint64_t hashStack(const uintptr_t* stk, int n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++) {
        h ^= stk[i];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h;
}

void* arenaAlloc(size_t bytes) {
    bytes = (bytes + 15) & ~size_t{15};
    if (g_arenaLeft < bytes) {
        constexpr size_t kChunk = 256 << 10;
        g_arena = static_cast<char*>(mapMeta(kChunk));
        g_arenaLeft = kChunk;
    }
    void* p = g_arena;
    g_arena += bytes;
    g_arenaLeft -= bytes;
    return p;
}

// Go's stkbucket: the bucket of this stack (hash h), made if new. g_lock held.
Bucket* stackBucket(const uintptr_t* stk, int n, uint64_t h) {
    if (!g_buckhash) g_buckhash = static_cast<Bucket**>(mapMeta(kBucketHashSize * sizeof(Bucket*)));
    Bucket** head = &g_buckhash[h % kBucketHashSize];
    for (Bucket* b = *head; b; b = b->next)
        if (b->hash == h && b->nstk == static_cast<uint32_t>(n) &&
            memcmp(b->stk, stk, n * sizeof(uintptr_t)) == 0)
            return b;
    if (g_nbuckets == g_byIdCap) {
        const size_t cap = g_byIdCap ? g_byIdCap * 2 : 4096;
        auto* grown = static_cast<Bucket**>(mapMeta(cap * sizeof(Bucket*)));
        if (g_byId) {
            memcpy(grown, g_byId, g_byIdCap * sizeof(Bucket*));
            munmap(g_byId, g_byIdCap * sizeof(Bucket*));
        }
        g_byId = grown;
        g_byIdCap = cap;
    }
    auto* b = static_cast<Bucket*>(arenaAlloc(sizeof(Bucket) + n * sizeof(uintptr_t)));
    b->hash = h;
    b->nstk = static_cast<uint32_t>(n);
    memcpy(b->stk, stk, n * sizeof(uintptr_t));
    b->id = ++g_nbuckets;
    g_byId[b->id - 1] = b;
    b->next = *head;
    *head = b;
    return b;
}

size_t slotOf(uintptr_t addr, size_t cap) {
    return static_cast<size_t>(((addr >> 4) * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

void insertSample(const Sample& s);

void growSamples() {
    Sample* old = g_samples;
    const size_t oldCap = g_samplesCap;
    g_samplesCap = oldCap ? oldCap * 2 : 4096;
    g_samples = static_cast<Sample*>(mapMeta(g_samplesCap * sizeof(Sample)));
    g_nsamples = 0;
    for (size_t i = 0; i < oldCap; i++)
        if (old[i].addr) insertSample(old[i]);
    if (old) munmap(old, oldCap * sizeof(Sample));
}

void insertSample(const Sample& s) {
    if ((g_nsamples + 1) * 2 > g_samplesCap) growSamples();
    size_t i = slotOf(s.addr, g_samplesCap);
    while (g_samples[i].addr && g_samples[i].addr != s.addr) i = (i + 1) & (g_samplesCap - 1);
    if (!g_samples[i].addr) g_nsamples++;
    g_samples[i] = s;
}

// Removes addr; returns false if it was not sampled.
bool removeSample(uintptr_t addr, Sample* out) {
    if (!g_samplesCap) return false;
    const size_t mask = g_samplesCap - 1;
    size_t i = slotOf(addr, g_samplesCap);
    while (g_samples[i].addr != addr) {
        if (!g_samples[i].addr) return false;
        i = (i + 1) & mask;
    }
    *out = g_samples[i];
    // Backward-shift deletion: pull later entries of the run into the hole when their home allows.
    size_t hole = i;
    for (size_t j = (i + 1) & mask; g_samples[j].addr; j = (j + 1) & mask) {
        const size_t home = slotOf(g_samples[j].addr, g_samplesCap);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            g_samples[hole] = g_samples[j];
            hole = j;
        }
    }
    g_samples[hole].addr = 0;
    g_nsamples--;
    return true;
}

void insertLarge(MSpan* s, Bucket* b, uint64_t bytes) {
    size_t i;
    if (g_largeFree) {
        i = g_largeFree - 1;
        g_largeFree = g_large[i] >> 1;
    } else {
        if (g_largeLen == g_largeCap) {
            const size_t cap = g_largeCap ? g_largeCap * 2 : 512;
            auto* grown = static_cast<uintptr_t*>(mapMeta(cap * sizeof(uintptr_t)));
            if (g_large) {
                memcpy(grown, g_large, g_largeLen * sizeof(uintptr_t));
                munmap(g_large, g_largeCap * sizeof(uintptr_t));
            }
            g_large = grown;
            g_largeCap = cap;
        }
        i = g_largeLen++;
    }
    g_large[i] = reinterpret_cast<uintptr_t>(s);
    s->profBucket = b;
    s->profBytes = bytes;
    s->profSlot = static_cast<uint32_t>(i);
}

// The sample a large span holds (insertLarge).
Sample largeSample(const MSpan* s) {
    return Sample{s->startAddr, static_cast<Bucket*>(s->profBucket), s->profBytes};
}

// The sample of large span s, if it holds one; false if not.
bool removeLarge(MSpan* s, Sample* out) {
    if (s->nsampled == 0) return false;
    *out = largeSample(s);
    const size_t i = s->profSlot;
    g_large[i] = (g_largeFree << 1) | 1;
    g_largeFree = i + 1;
    return true;
}

// A sampled object's record, in the table or, for a large object (its span's base), in its span.
void insertSampled(MSpan* s, const Sample& smp) {
    if (s->isLarge() && smp.addr == s->startAddr)
        insertLarge(s, smp.bucket, smp.bytes);
    else
        insertSample(smp);
}
bool removeSampled(MSpan* s, uintptr_t addr, Sample* out) {
    if (s->isLarge() && addr == s->startAddr) return removeLarge(s, out);
    return removeSample(addr, out);
}

// The bucket's ProfStack records, unless this stream has had them already.
void sendStack(Bucket* b, bool force) {
    const uint32_t epoch = g_sinkEpoch.load(std::memory_order_relaxed);
    if (!force && b->epoch.exchange(epoch, std::memory_order_relaxed) == epoch) return;
    constexpr uint32_t kPer = record::kProfStackFramesPerRecord;
    for (uint32_t i = 0, chunk = 0; i < b->nstk || chunk == 0; i += kPer, chunk++) {
        const uint32_t k = b->nstk - i < kPer ? b->nstk - i : kPer;
        SPANSCOPE_RECORD(
            profStack(b->id, static_cast<uint8_t>(chunk), b->stk + i, k, i + k >= b->nstk));
    }
}

// Counts a dead sampled object. g_lock held.
void countFree(MSpan* s, const Sample& smp) {
    const uint64_t bytes = smp.bytes & ~kManagedBit;
    smp.bucket->frees++;
    smp.bucket->freeBytes += bytes;
    __atomic_store_n(&s->nsampled, static_cast<uint16_t>(s->nsampled - 1), __ATOMIC_RELAXED);
    if (s->nsampled == 0) __atomic_store_n(&s->sampledSlots, uint64_t{0}, __ATOMIC_RELAXED);
}

// Always inlined, as it was before the typed records: GCC otherwise splits the record into a
// separate part and profileFree's no-sink path saves one more register.
SPANSCOPE_INLINE void emitFree(const Sample& smp) {
    SPANSCOPE_RECORD(profFree(smp.addr, smp.bytes & ~kManagedBit, smp.bucket->id,
                              (smp.bytes & kManagedBit) != 0));
}

}  // namespace

void profileAlloc(MCache* c, void* p, size_t size, bool managed) {
    const int64_t rate = memProfileRate();
    const bool first = !c->sampleSeeded;
    c->sampleSeeded = true;
    c->nextSample = nextSample(rate);
    // A thread's first countdown starts at zero: draw it rather than sample (Go draws it in
    // allocmcache).
    if (rate == 0 || !p || t_inProfiler || (first && rate != 1)) return;
    t_inProfiler = true;
    uintptr_t stk[kMaxProfileStack];
#if SPANSCOPE_LIBUNWIND
    int n = 0;
    if (!g_unwindPoisoned && g_unwinders.tryEnter()) {
        n = captureStack(stk);
        g_unwinders.exit();
    }
#else
    const int n = captureStack(stk);
#endif
    const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
    MSpan* s = spanOf(addr);
    // The thread's last buckets first: a bucket's hash and stack never change once made, and
    // buckets are never freed, so they are read without the lock.
    const uint64_t h = hashStack(stk, n);
    const size_t ci = h % 8;
    Bucket* b = static_cast<Bucket*>(c->bucket[ci]);
    if (b && !(c->bucketHash[ci] == h && b->nstk == static_cast<uint32_t>(n) &&
               memcmp(b->stk, stk, n * sizeof(uintptr_t)) == 0))
        b = nullptr;
    {
        LockGuard g(g_lock);
        if (!b) {
            b = stackBucket(stk, n, h);
            c->bucketHash[ci] = h;
            c->bucket[ci] = b;
        }
        b->allocs++;
        b->allocBytes += size;
        if (s) {
            insertSampled(s, Sample{addr, b, size | (managed ? kManagedBit : 0)});
            __atomic_store_n(&s->nsampled, static_cast<uint16_t>(s->nsampled + 1),
                             __ATOMIC_RELAXED);
            // A large span holds one object, which nobody frees while it is being allocated.
            if (s->isLarge())
                __atomic_store_n(&s->sampledSlots, uint64_t{1}, __ATOMIC_RELAXED);
            else
                __atomic_fetch_or(&s->sampledSlots, uint64_t{1} << (s->objIndex(addr) % 64),
                                  __ATOMIC_RELAXED);
        }
    }
    if (g_eventSink.load(std::memory_order_relaxed)) {
        sendStack(b, false);
        SPANSCOPE_RECORD(profAlloc(s ? s->spanclass : 0, addr, size, b->id,
                                   static_cast<uint64_t>(rate), managed));
    }
    t_inProfiler = false;
}

void profileFree(MSpan* s, uintptr_t p) {
    Sample smp;
    {
        LockGuard g(g_lock);
        if (!removeSampled(s, p, &smp)) return;
        countFree(s, smp);
    }
    emitFree(smp);
}

void profileSweep(MSpan* s, size_t w, uint64_t freed) {
    while (freed) {
        const size_t i = w * 64 + static_cast<size_t>(__builtin_ctzll(freed));
        freed &= freed - 1;
        Sample smp;
        {
            LockGuard g(g_lock);
            if (!removeSampled(s, s->startAddr + i * s->elemsize, &smp)) continue;
            countFree(s, smp);
        }
        emitFree(smp);
    }
}

void mprofForkPrepare() {
#if SPANSCOPE_LIBUNWIND
    g_unwinders.closeAndWait(kUnwindForkWaitNs);  // a walk still inside is left behind
#endif
    g_lock.lock();
}
void mprofForkParent() {
    g_lock.unlock();
#if SPANSCOPE_LIBUNWIND
    g_unwinders.open();
#endif
}
void mprofForkChild() {
    g_lock.unlock();
#if SPANSCOPE_LIBUNWIND
    if (g_unwinders.count() != 0) g_unwindPoisoned = true;  // a walk the fork left behind
    g_unwinders.reset();
#endif
}

void registerProfileForkHandlers() {
    if (!g_forkRegistered.exchange(true, std::memory_order_relaxed))
        pthread_atfork(mprofForkPrepare, mprofForkParent, mprofForkChild);
}

namespace {
// At load, before the program has threads (a preload's constructors run before the program's):
// the fork handlers must be registered before any thread can sample. Registered by the first
// sampler instead, they could miss a fork that another thread had begun (glibc lets handlers be
// registered while prepare handlers run, and runs none of the new ones for that fork), whose
// child then inherits the profile's lock held by the sampler. The process's malloc is set up
// first, so that pthread_atfork's own allocation does not register the heap's handlers from inside
// pthread_atfork. The unwinder is used once, too (see "Unwinding across fork").
__attribute__((constructor)) void profilerAtStart() {
    free(malloc(1));
    if (memProfileRate() != 0) warmUnwinder();
    registerProfileForkHandlers();
}
}  // namespace

}  // namespace detail

using namespace detail;

int64_t memProfileRate() {
    int64_t r = g_rate.load(std::memory_order_relaxed);
    if (SPANSCOPE_LIKELY(r >= 0)) return r;
    r = readRateFromEnvironment();
    int64_t unread = -1;
    g_rate.compare_exchange_strong(unread, r, std::memory_order_relaxed);
    return g_rate.load(std::memory_order_relaxed);
}

void setMemProfileRate(int64_t rate) {
    g_rate.store(rate < 0 ? 0 : rate, std::memory_order_relaxed);
    t_mcache.sampleSeeded = true;
    t_mcache.nextSample = nextSample(memProfileRate());
}

size_t memProfile(void (*fn)(const MemProfileRecord&, void*), void* ctx) {
    LockGuard g(g_lock);
    for (uint32_t i = 0; i < g_nbuckets; i++) {
        const Bucket* b = g_byId[i];
        fn(MemProfileRecord{b->id, b->nstk, b->stk, b->allocs, b->allocBytes, b->frees,
                            b->freeBytes},
           ctx);
    }
    return g_nbuckets;
}

size_t walkSampledObjects(void (*fn)(const SampledObject&, void*), void* ctx) {
    LockGuard g(g_lock);
    size_t n = 0;
    auto visit = [&](const Sample& s) {
        fn(SampledObject{s.addr, s.bytes & ~kManagedBit, s.bucket->id,
                         (s.bytes & kManagedBit) != 0},
           ctx);
        n++;
    };
    for (size_t i = 0; i < g_samplesCap; i++)
        if (g_samples[i].addr) visit(g_samples[i]);
    for (size_t i = 0; i < g_largeLen; i++)
        if (!(g_large[i] & 1)) visit(largeSample(reinterpret_cast<const MSpan*>(g_large[i])));
    return n;
}

bool emitProfileStack(uint32_t id) {
    Bucket* b = nullptr;
    {
        LockGuard g(g_lock);
        if (id == 0 || id > g_nbuckets) return false;
        b = g_byId[id - 1];
    }
    b->epoch.store(g_sinkEpoch.load(std::memory_order_relaxed), std::memory_order_relaxed);
    sendStack(b, true);
    return true;
}

}  // namespace spanscope
