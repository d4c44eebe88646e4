// The heap profiler's public face (Go's runtime.MemProfileRate and runtime.MemProfile): the
// sampling rate, and a walk over the profile's buckets (one per distinct allocation stack) with
// their allocation and free counts. The sampler itself is in allocator/mprof.cpp.
#pragma once
#include <cstddef>
#include <cstdint>

namespace spanscope {

// Go's default MemProfileRate: on average one sample per 512 KiB allocated.
inline constexpr int64_t kDefaultMemProfileRate = 512 * 1024;
inline constexpr int kMaxProfileStack = 64;  // frames kept per sampled allocation

// Go's MemProfileRate: 0 = profiling off, 1 = every allocation, N = one sample per N bytes on
// average. Read from SPANSCOPE_MEMPROFILERATE (or GODEBUG=memprofilerate=N) at first use.
// Setting it takes effect at each thread's next sample (with the rate off, a thread looks at the
// rate again every 64 MiB it allocates); the calling thread draws its next sample at once.
int64_t memProfileRate();
void setMemProfileRate(int64_t rate);

// One bucket (Go's bucket + memRecord): a distinct stack and what was sampled against it, in
// sampled objects and slot bytes (not scaled by the rate: see scaleHeapSample in the pprof export).
struct MemProfileRecord {
    uint32_t id;  // the bucket's id in ProfAlloc/ProfFree/ProfStack records
    uint32_t nstack;
    const uintptr_t* stack;  // return addresses, innermost first; valid during the callback only
    uint64_t allocObjects, allocBytes, freeObjects, freeBytes;
};
// Calls fn for every bucket, with the profile's lock held: fn must not allocate from a spanscope
// heap. Returns the number of buckets.
size_t memProfile(void (*fn)(const MemProfileRecord&, void* ctx), void* ctx);

// Every sampled object still live (the attach rundown), with its bucket and slot bytes; same lock.
struct SampledObject {
    uintptr_t addr;
    uint64_t bytes;
    uint32_t bucket;
    bool managed;
};
size_t walkSampledObjects(void (*fn)(const SampledObject&, void* ctx), void* ctx);

// Emits the ProfStack records of bucket id (a sink attached late asks for the stacks of the objects
// the rundown names). False if there is no such bucket.
bool emitProfileStack(uint32_t id);

}  // namespace spanscope
