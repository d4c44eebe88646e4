// spanscope's managed heap: Go's garbage collector (concurrent tri-colour mark-sweep with the
// hybrid write barrier, mark assists, a background mark worker, Go's pacer and sweeper) over the
// same spans as malloc mode. See spanscope/allocator.h for the allocator overview and
// docs/ARCHITECTURE.md ("The collector") for the cycle.
//
// Rules for mutator code: pointers into the managed heap live in (a) managed objects, stored with
// writePointer() or through Ptr<T>; (b) Root<T> handles or registered globals. A thread that
// allocates is a mutator; it reaches a safe point at every allocation and at poll(), and must
// wrap long blocking calls in a BlockingRegion so a stop-the-world need not wait for it.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "spanscope/allocator.h"

namespace spanscope::gc {

// A type descriptor (Go's _type, reduced): size and which words hold pointers.
struct Type {
    size_t size;              // bytes of one element
    size_t ptrdata;           // bytes from the start that may hold pointers (0: noscan)
    const uint64_t* ptrmask;  // bit i = word i is a pointer, for words below ptrdata/8
    const char* name;
};

// Allocates a zeroed object (or n elements) of type t. Never returns null: out of memory aborts,
// as Go's does.
void* alloc(const Type* t);
void* allocArray(const Type* t, size_t n);
// Pointer-free bytes (the tiny allocator serves sizes under 16).
void* allocBytes(size_t n);

// The write barrier: every store of a managed pointer into a managed object or a global goes
// through it (Go's hybrid barrier: shade the old and the new value while marking).
void writePointer(void** slot, void* ptr);

// A pointer field of a managed object; assignment applies the write barrier.
template <typename T>
class Ptr {
public:
    Ptr() = default;
    Ptr(const Ptr&) = delete;
    Ptr& operator=(T* p) {
        writePointer(reinterpret_cast<void**>(&m_p), p);
        return *this;
    }
    Ptr& operator=(const Ptr& o) { return *this = o.get(); }
    T* get() const { return __atomic_load_n(&m_p, __ATOMIC_ACQUIRE); }
    T* operator->() const { return get(); }
    explicit operator bool() const { return get() != nullptr; }

private:
    T* m_p = nullptr;
};

// A root: keeps its object alive (like a stack slot: assignments need no barrier). RootBase is a
// block of n pointer slots on this thread's root list; Root<T> is a block of one, RootScope<N> a
// frame of N (Go's stack frame, scanned once per cycle at sweep termination).
class RootBase {
public:
    RootBase(void** slots, size_t n);
    ~RootBase();
    RootBase(const RootBase&) = delete;
    RootBase& operator=(const RootBase&) = delete;

protected:
    void** m_slots;
    size_t m_n;
    RootBase* m_prev;
    RootBase* m_next;
    friend struct RootAccess;
};

template <typename T>
class Root : public RootBase {
public:
    Root() : RootBase(&m_p, 1) {}
    explicit Root(T* p) : RootBase(&m_p, 1) { set(p); }
    void set(T* p) { __atomic_store_n(&m_p, static_cast<void*>(p), __ATOMIC_RELEASE); }
    Root& operator=(T* p) {
        set(p);
        return *this;
    }
    T* get() const { return static_cast<T*>(__atomic_load_n(&m_p, __ATOMIC_ACQUIRE)); }
    T* operator->() const { return get(); }

private:
    void* m_p = nullptr;
};

// N root slots in one scope, for code that holds many pointers at once.
template <size_t N>
class RootScope : public RootBase {
public:
    RootScope() : RootBase(m_slots, N) {}
    template <typename T>
    void set(size_t i, T* p) {
        __atomic_store_n(&m_slots[i], static_cast<void*>(p), __ATOMIC_RELEASE);
    }
    template <typename T>
    T* get(size_t i) const {
        return static_cast<T*>(__atomic_load_n(&m_slots[i], __ATOMIC_ACQUIRE));
    }

private:
    void* m_slots[N] = {};
};

// Registered globals: the slot is scanned as a root until unregistered. Stores into a registered
// global must use writePointer.
void registerGlobal(void** slot);
void unregisterGlobal(void** slot);

// Runtime controls (Go's runtime.GC, debug.SetGCPercent, debug.SetMemoryLimit).
void collect();                         // a full cycle, then finishes sweeping
int setGCPercent(int percent);          // returns the previous value; < 0 turns GC off
int64_t setMemoryLimit(int64_t bytes);  // returns the previous value; < 0 only reads it
void freeOSMemory();                    // debug.FreeOSMemory: collect, then release every free page
void poll();                            // a safe point
void detachThread();                    // a mutator thread that is done (also runs at thread exit)

// A thread inside one is not a mutator: it must not touch managed memory until it leaves.
void enterBlocking();
void exitBlocking();
class BlockingRegion {
public:
    BlockingRegion() { enterBlocking(); }
    ~BlockingRegion() { exitBlocking(); }
    BlockingRegion(const BlockingRegion&) = delete;
    BlockingRegion& operator=(const BlockingRegion&) = delete;
};

struct GCStats {
    MemStats heap;  // the managed heap's MemStats
    uint64_t numGC, numForcedGC;
    uint64_t heapMarked, heapGoal, trigger, heapLive;
    uint64_t pauseTotalNs, lastPauseNs;
    uint64_t lastGCUnixNs;
    int gcPercent;
    int64_t memoryLimit;
    uint64_t tinyAllocs;
    double gcCPUFraction;
};
// Go's ReadMemStats: stops the world and flushes every thread's cached spans, so the counts
// include every allocation made before the call (tiny ones as a malloc and a free, as Go's).
void readGCStats(GCStats* st);
// Checks the managed heap's invariants (quiescent heap; runs with the world stopped).
bool validate(char* why = nullptr, size_t cap = 0);

}  // namespace spanscope::gc
