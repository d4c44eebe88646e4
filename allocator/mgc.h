// The collector's shared state (Go's work, gcController and writeBarrier globals), internal to
// mgc.cpp and mgcmark.cpp. See spanscope/gc.h and docs/ARCHITECTURE.md ("The collector").
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mgcwork.h"
#include "spanscope/detail/mspan.h"
#include "spanscope/gc.h"

namespace spanscope::detail {

// Go's gcphase values. writeBarrier.enabled == (phase != Off).
enum class GCPhase : int { Off = 0, Mark = 1, MarkTermination = 2 };

struct GCState {
    std::atomic<int> phase{0};
    std::atomic<bool> blackenEnabled{false};
    std::atomic<uint64_t> bytesMarked{0};
    std::atomic<uint64_t> scanWork{0};
    std::atomic<int64_t> bgScanCredit{0};
    std::atomic<double> assistWorkPerByte{0};
    std::atomic<uint64_t> cycle{0};  // numgc
};
extern GCState g_gc;

inline bool writeBarrierEnabled() { return g_gc.phase.load(std::memory_order_relaxed) != 0; }

void greyObject(uintptr_t p, GcWork& w);
void scanObject(uintptr_t obj, GcWork& w);
size_t drainWork(GcWork& w, size_t budget);  // returns scan work done
void heapSetType(MSpan* s, uintptr_t obj, const gc::Type* t, size_t bytes);

}  // namespace spanscope::detail
