// Marking (Go's mgcmark.go, mbitmap.go, mwbbuf.go): work buffers, greying objects, scanning
// objects by their pointer bitmaps, and the hybrid write barrier. See spanscope/gc.h.
#include <algorithm>
#include <cstring>

#include "mgc.h"
#include "spanscope/detail/emit.h"
#include "spanscope/detail/mheap.h"

namespace spanscope::detail {

WorkPool g_workPool;

void LfStack::push(WorkBuf* b) {
    const uint64_t ptr = reinterpret_cast<uint64_t>(b);
    if (ptr >> kPtrBits) fatal("work buffer above the 48-bit address space");
    uint64_t old = m_head.load(std::memory_order_relaxed);
    for (;;) {
        __atomic_store_n(&b->next,
                         reinterpret_cast<WorkBuf*>(old & ((uint64_t{1} << kPtrBits) - 1)),
                         __ATOMIC_RELAXED);
        const uint64_t cnt = ((old >> kPtrBits) + 1) << kPtrBits;
        if (m_head.compare_exchange_weak(old, cnt | ptr, std::memory_order_release,
                                         std::memory_order_relaxed))
            return;
    }
}

WorkBuf* LfStack::pop() {
    uint64_t old = m_head.load(std::memory_order_acquire);
    for (;;) {
        auto* b = reinterpret_cast<WorkBuf*>(old & ((uint64_t{1} << kPtrBits) - 1));
        if (!b) return nullptr;
        // b may be popped and reused meanwhile: its memory stays a WorkBuf (never unmapped), and
        // the count in the head makes the CAS fail then.
        WorkBuf* next = __atomic_load_n(&b->next, __ATOMIC_RELAXED);
        const uint64_t nu =
            (old & ~((uint64_t{1} << kPtrBits) - 1)) | reinterpret_cast<uint64_t>(next);
        if (m_head.compare_exchange_weak(old, nu, std::memory_order_acquire,
                                         std::memory_order_acquire))
            return b;
    }
}

WorkBuf* WorkPool::getEmpty() {
    WorkBuf* b = m_empty.pop();
    if (!b) {
        LockGuard g(m_lock);
        if (m_alloc.size() == 0) m_alloc.init(sizeof(WorkBuf));
        b = static_cast<WorkBuf*>(m_alloc.alloc());
    }
    b->n = 0;
    __atomic_store_n(&b->next, static_cast<WorkBuf*>(nullptr), __ATOMIC_RELAXED);
    return b;
}

void GcWork::putSlow() {
    if (buf) g_workPool.putFull(buf);
    buf = g_workPool.getEmpty();
}

bool GcWork::getSlow() {
    WorkBuf* full = g_workPool.tryGetFull();
    if (!full) return false;
    if (buf) g_workPool.putEmpty(buf);
    buf = full;
    return true;
}

// Go's handoff: the older half (nearer the roots: the larger subtrees) goes to the pool, the newer
// half stays.
void GcWork::balance() {
    if (!buf || buf->n <= 4) return;
    WorkBuf* mine = g_workPool.getEmpty();
    const size_t n = buf->n / 2;
    buf->n -= n;
    std::memcpy(mine->obj, buf->obj + buf->n, n * sizeof(uintptr_t));
    mine->n = n;
    g_workPool.putFull(buf);
    buf = mine;
}

void GcWork::flush() {
    if (buf && buf->n) {
        g_workPool.putFull(buf);
        buf = nullptr;
    }
    if (bytesMarked) g_gc.bytesMarked.fetch_add(bytesMarked, std::memory_order_relaxed);
    if (scanWork) g_gc.scanWork.fetch_add(scanWork, std::memory_order_relaxed);
    bytesMarked = scanWork = 0;
}

// Go's greyobject: set the mark bit; pointerful objects are queued for scanning.
void greyObject(uintptr_t p, GcWork& w) {
    MSpan* s = spanOf(p);
    if (!s || !s->managed ||
        __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != static_cast<uint8_t>(SpanState::InUse))
        return;
    if (p < s->startAddr || p >= s->limit) return;
    size_t idx = s->isLarge() ? 0 : s->objIndex(p);
    if (idx >= s->nelems) return;
    uint64_t bit = uint64_t{1} << (idx % 64);
    if (__atomic_load_n(&s->gcmarkBits[idx / 64], __ATOMIC_RELAXED) & bit) return;
    if (__atomic_fetch_or(&s->gcmarkBits[idx / 64], bit, __ATOMIC_ACQ_REL) & bit) return;
    w.bytesMarked += s->elemsize;
    const bool noscan = spanClassNoscan(s->spanclass);
    if (SPANSCOPE_OBJECT_EVENTS())  // a pointer-free object has nothing to scan: black at once
        SPANSCOPE_RECORD(objMark(s->spanclass, s->startAddr + idx * s->elemsize,
                                 noscan ? record::MarkColour::Black : record::MarkColour::Grey));
    if (!noscan) w.put(s->startAddr + idx * s->elemsize);
}

namespace {
inline void scanWord(uintptr_t slot, GcWork& w) {
    uintptr_t v = __atomic_load_n(reinterpret_cast<uintptr_t*>(slot), __ATOMIC_RELAXED);
    if (v) greyObject(v, w);
}

// Scans [obj, obj+bytes) using an element type repeated every t->size bytes.
void scanTyped(uintptr_t obj, size_t bytes, const gc::Type* t, GcWork& w) {
    if (!t || !t->ptrdata) return;
    for (size_t elem = 0; elem + t->size <= bytes; elem += t->size) {
        for (size_t k = 0; k * 8 < t->ptrdata; k++)
            if ((t->ptrmask[k / 64] >> (k % 64)) & 1) scanWord(obj + elem + k * 8, w);
    }
}
}  // namespace

void heapSetType(MSpan* s, uintptr_t obj, const gc::Type* t, size_t bytes) {
    // Go's writeHeapBitsSmall: the object's pointer bits built once (a slot with heap bits holds
    // at most 512 B, 64 words), then written over the bitmap's bytes with plain loads and stores.
    // The span's owner is its heap bits' one writer (it alone allocates from the span; the next
    // owner takes it through the mcentral lock), and scanners only read them, so no
    // read-modify-write need be atomic.
    const size_t words = s->elemsize / 8;
    const size_t n = std::min(bytes, size_t{s->elemsize}) / 8;  // words inside the object
    uint64_t src = 0;
    if (t->ptrdata && t->size % 8 == 0) {  // pointerful types are word-sized multiples
        const size_t ew = t->size / 8, pw = (t->ptrdata + 7) / 8;
        const uint64_t tm = pw < 64 ? t->ptrmask[0] & ((uint64_t{1} << pw) - 1) : t->ptrmask[0];
        for (size_t k = 0; k < n; k += ew) src |= tm << k;
    } else if (t->ptrdata) {
        for (size_t k = 0; k < n; k++) {
            const size_t inElem = k * 8 % t->size / 8;
            if (inElem * 8 < t->ptrdata && ((t->ptrmask[inElem / 64] >> (inElem % 64)) & 1))
                src |= uint64_t{1} << k;
        }
    }
    if (n < 64) src &= (uint64_t{1} << n) - 1;
    uint8_t* bits = s->heapBits();
    for (size_t bit = (obj - s->startAddr) / 8, left = words; left;) {
        const size_t off = bit % 8, take = std::min(8 - off, left);
        const auto m = static_cast<uint8_t>(((1u << take) - 1) << off);
        uint8_t* p = &bits[bit / 8];
        const uint8_t v = __atomic_load_n(p, __ATOMIC_RELAXED);
        __atomic_store_n(p, static_cast<uint8_t>((v & ~m) | ((src << off) & m)), __ATOMIC_RELAXED);
        src >>= take;
        bit += take;
        left -= take;
    }
}

namespace {
constexpr size_t kMaxObletBytes = 128 << 10;  // Go's maxObletBytes

// Scans bytes [from, to) of a large object at base, of elements of type t (whole elements only,
// as scanTyped), total bytes long.
// Element by element, as Go 1.22's typePointersOfType walks a large object's type: one division
// per oblet, none per word (a modulo per word made a 16 MiB array of pointers take 1.6x Go
// 1.19's mark time, its heap bitmap read two bits a word).
void scanLargeRange(uintptr_t base, size_t from, size_t to, size_t total, const gc::Type* t,
                    GcWork& w) {
    if (!t || !t->ptrdata) return;
    const size_t size = t->size, whole = total / size * size;
    to = std::min(to, whole);
    if (from >= to) return;
    if (size % 8) {  // not whole words (no pointerful type is; the C API does not check): by word
        for (size_t off = from; off < to; off += 8) {
            const size_t k = off % size / 8;
            if (k * 8 < t->ptrdata && ((t->ptrmask[k / 64] >> (k % 64)) & 1))
                scanWord(base + off, w);
        }
        return;
    }
    if (size == 8) {  // an array of pointers: every word
        if (t->ptrmask[0] & 1)
            for (size_t off = from; off < to; off += 8) scanWord(base + off, w);
        return;
    }
    const size_t ptrWords = (t->ptrdata + 7) / 8;  // the words of an element that may hold one
    size_t elem = from / size * size, k = (from - elem) / 8;
    for (; elem < to; elem += size, k = 0)
        for (; k < ptrWords; k++) {
            const size_t off = elem + k * 8;
            if (off >= to) return;
            if ((t->ptrmask[k / 64] >> (k % 64)) & 1) scanWord(base + off, w);
        }
}

// Go's oblets: a large object is scanned 128 KiB at a time; scanning its first oblet queues the
// others, so assists and other workers can share one big array.
void scanLarge(MSpan* s, uintptr_t obj, GcWork& w) {
    const auto* t = static_cast<const gc::Type*>(__atomic_load_n(&s->largeType, __ATOMIC_ACQUIRE));
    const size_t total = s->limit - s->startAddr, from = obj - s->startAddr;
    if (from == 0 && total > kMaxObletBytes && t && t->ptrdata)
        for (size_t o = kMaxObletBytes; o < total; o += kMaxObletBytes) w.put(s->startAddr + o);
    const size_t to = std::min(total, from + kMaxObletBytes);
    w.scanWork += to - from;
    scanLargeRange(s->startAddr, from, to, total, t, w);
}
}  // namespace

// Go's scanobject: find the pointer words of a grey object and grey what they point to.
void scanObject(uintptr_t obj, GcWork& w) {
    MSpan* s = spanOf(obj);
    if (!s) return;
    if (SPANSCOPE_OBJECT_EVENTS() &&
        (!s->isLarge() || obj == s->startAddr))  // an oblet is not an object
        SPANSCOPE_RECORD(objMark(s->spanclass, obj, record::MarkColour::Black));
    if (s->isLarge()) {
        scanLarge(s, obj, w);
        return;
    }
    w.scanWork += s->elemsize;
    if (s->elemsize > kMinSizeForMallocHeader) {
        // Malloc header: word 0 holds the type; the object follows.
        auto* t = reinterpret_cast<const gc::Type*>(
            __atomic_load_n(reinterpret_cast<uintptr_t*>(obj), __ATOMIC_ACQUIRE));
        scanTyped(obj + kMallocHeaderSize, s->elemsize - kMallocHeaderSize, t, w);
        return;
    }
    const uint8_t* bits = s->heapBits();
    size_t first = (obj - s->startAddr) / 8, words = s->elemsize / 8;
    for (size_t k = 0; k < words; k++) {
        size_t wi = first + k;
        if ((__atomic_load_n(&bits[wi / 8], __ATOMIC_RELAXED) >> (wi % 8)) & 1)
            scanWord(obj + k * 8, w);
    }
}

// Go never meets this case: it forks only to exec. In a fork child only the forking thread is
// left, and the grey objects the others held die with them: the mark workers' and assists' local
// buffers (a linked structure's whole frontier can sit in one), an object whose mark bit was set
// but not yet queued, and their unflushed bytesMarked. Their children would stay white and the
// sweep would free reachable objects. Scanning every marked object again re-greys whatever was
// lost (scanning a black object twice only finds marked objects), and bytesMarked is counted
// again from the mark bits. The cost, a scan of the marked heap, is paid once by a child forked
// mid-mark; the grey objects found go to the pool for the restarted workers.
void remarkAfterFork() {
    if (g_gc.phase.load(std::memory_order_relaxed) != GCPhase::Mark) return;
    GcWork w;
    uint64_t marked = 0;
    auto marks = [](const MSpan* s, size_t word) {
        return __atomic_load_n(&s->gcmarkBits[word], __ATOMIC_RELAXED);
    };
    g_gcHeap.forEachSpanLocked([&](MSpan* s) {
        if (!s->managed || s->state != static_cast<uint8_t>(SpanState::InUse) || !s->gcmarkBits)
            return;
        const bool scan = !spanClassNoscan(s->spanclass);
        for (size_t word = 0; word * 64 < s->nelems; word++) {
            for (uint64_t m = marks(s, word); m; m &= m - 1) {
                const size_t idx = word * 64 + static_cast<size_t>(__builtin_ctzll(m));
                if (idx < s->nelems && scan) scanObject(s->startAddr + idx * s->elemsize, w);
            }
        }
    });
    // Counted after the scan: it may have marked more.
    g_gcHeap.forEachSpanLocked([&](MSpan* s) {
        if (!s->managed || s->state != static_cast<uint8_t>(SpanState::InUse) || !s->gcmarkBits)
            return;
        for (size_t word = 0; word * 64 < s->nelems; word++) {
            uint64_t m = marks(s, word);
            if (const size_t left = s->nelems - word * 64; left < 64)
                m &= (uint64_t{1} << left) - 1;
            marked += static_cast<uint64_t>(__builtin_popcountll(m)) * s->elemsize;
        }
    });
    w.bytesMarked = 0;
    w.flush();
    g_gc.bytesMarked.store(marked, std::memory_order_relaxed);
}

size_t drainWork(GcWork& w, size_t budget) {
    size_t done = 0;
    uintptr_t obj;
    while (done < budget) {
        if (g_workPool.empty()) w.balance();  // as Go's gcDrain does at every object
        if (!w.tryGet(&obj)) break;
        size_t before = w.scanWork;
        scanObject(obj, w);
        done += w.scanWork - before;
    }
    return done;
}

}  // namespace spanscope::detail
