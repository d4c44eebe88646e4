// The probe's part in the heap profile: the loaded objects (so that the recorder can symbolize
// the stacks after the program is gone) and, at an attach's rundown, the profile so far.
//   emitModules: on the sampler thread, each period; dl_iterate_phdr's load/unload counters tell
//     whether anything was dlopen'd or dlclose'd since the last look (an exec starts a new stream,
//     whose first look sends every object). Each object: one kModule record and its path in
//     kModuleName records.
//   rundownProfile: on the drain thread, after the span rundown: every bucket's stack (ProfStack)
//     and every live sampled object (ProfAlloc), as if they had just been sampled.
// Nothing here allocates.
#include "spanscope/detail/probe_profile.h"

#include <link.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "spanscope/detail/platform.h"
#include "spanscope/mprof.h"

namespace spanscope::probe::profile {

namespace {
using namespace spanscope::stream;

unsigned long long g_adds = 0, g_subs = 0;  // dl_iterate_phdr's counters at the last look
uint32_t g_moduleSeq = 0;

struct ModuleCtx {
    void (*out)(const Event&);
    Event base;
};

void emitModule(const ModuleCtx& ctx, const char* path, uintptr_t lo, uintptr_t hi,
                uintptr_t bias) {
    const size_t len = strlen(path);
    Event m = ctx.base;
    m.kind = static_cast<EventKind>(kModule);
    m.addr = lo;
    m.a = hi;
    m.b = bias;
    m.c = ++g_moduleSeq;
    m.d = len;
    m.npages = static_cast<uint32_t>((len + 39) / 40);
    ctx.out(m);
    for (size_t off = 0, chunk = 0; off < len; off += 40, chunk++) {
        Event n = ctx.base;
        n.kind = static_cast<EventKind>(kModuleName);
        n.npages = m.c;
        n.spanClass = static_cast<uint8_t>(chunk);
        const size_t k = len - off < 40 ? len - off : 40;
        n.flags = static_cast<uint8_t>(k);
        memcpy(&n.addr, path + off, k);  // addr, a, b, c, d are 40 contiguous bytes
        ctx.out(n);
    }
}

int onObject(dl_phdr_info* info, size_t, void* arg) {
    auto* ctx = static_cast<ModuleCtx*>(arg);
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD) continue;
        const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
        if (start < lo) lo = start;
        if (start + ph.p_memsz > hi) hi = start + ph.p_memsz;
    }
    if (hi == 0) return 0;
    const char* name = info->dlpi_name;
    char exe[4096];
    if (!name || !*name) {  // the main program
        const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) return 0;
        exe[n] = 0;
        name = exe;
    }
    char full[4096];
    if (name[0] != '/') {  // LD_PRELOAD=relative/lib.so; the vDSO (linux-vdso.so.1) has no file
        if (!realpath(name, full)) return 0;  // with a buffer, realpath does not allocate
        name = full;
    }
    emitModule(*ctx, name, lo, hi, info->dlpi_addr);
    return 0;
}

int readCounters(dl_phdr_info* info, size_t size, void* arg) {
    auto* c = static_cast<unsigned long long*>(arg);
    if (size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        c[0] = info->dlpi_adds;
        c[1] = info->dlpi_subs;
    }
    return 1;  // the first object is enough
}

struct RundownCtx {
    void (*out)(const Event&);
    Event base;
    int64_t rate;
};

void rundownBucket(const MemProfileRecord& r, void* arg) {
    auto* ctx = static_cast<RundownCtx*>(arg);
    for (uint32_t i = 0, chunk = 0; i < r.nstack || chunk == 0; i += 5, chunk++) {
        Event e = ctx->base;
        e.kind = EventKind::ProfStack;
        e.npages = r.id;
        e.spanClass = static_cast<uint8_t>(chunk);
        const uint32_t k = r.nstack - i < 5 ? r.nstack - i : 5;
        e.flags = payload::packProfStackFlags(k, i + k >= r.nstack);
        uint64_t* dst[5] = {&e.addr, &e.a, &e.b, &e.c, &e.d};
        for (uint32_t j = 0; j < 5; j++) *dst[j] = j < k ? r.stack[i + j] : 0;
        ctx->out(e);
    }
}

void rundownObject(const SampledObject& o, void* arg) {
    auto* ctx = static_cast<RundownCtx*>(arg);
    Event e = ctx->base;
    e.kind = EventKind::ProfAlloc;
    e.flags = o.managed ? 1 : 0;
    e.addr = o.addr;
    e.a = o.bytes;
    e.b = o.bucket;
    e.c = static_cast<uint64_t>(ctx->rate);
    ctx->out(e);
}

}  // namespace

void emitModules(const Event& base, void (*out)(const Event&), bool all) {
    unsigned long long counters[2] = {0, 0};
    dl_iterate_phdr(readCounters, counters);
    if (!all && counters[0] == g_adds && counters[1] == g_subs) return;
    g_adds = counters[0];
    g_subs = counters[1];
    ModuleCtx ctx{out, base};
    dl_iterate_phdr(onObject, &ctx);
}

uint64_t rundownProfile(const Event& base, void (*out)(const Event&)) {
    RundownCtx ctx{out, base, memProfileRate()};
    memProfile(rundownBucket, &ctx);
    // The objects are stamped with the time of the walk, not of the rundown's start: an object
    // sampled, freed and its slot sampled again meanwhile must sort before the walk's copy, which
    // the recorder then drops as the same object seen twice.
    ctx.base.timeNs = spanscope::detail::nanotime();
    walkSampledObjects(rundownObject, &ctx);
    return ctx.base.timeNs;
}

}  // namespace spanscope::probe::profile
