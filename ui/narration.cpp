// Narration sentences (see narration.h): a case for each record kind whose sentence reads its
// payload, in the order of the kinds table (spanscope/kinds.h); any other kind says its row's
// sentence.
#include "narration.h"

#include <QCoreApplication>

#include "format.h"
#include "spanscope/kinds.h"

namespace spanscope::ui {

namespace {

QString tr(const char* s) {
    return QCoreApplication::translate("Narration", s);
}

QString thread(uint32_t tid) {
    return tr("Thread %1").arg(tid);
}

QString ms(uint64_t ns) {
    return formatDuration(ns);
}

// "class 5 (48 B, 170 objects)" from the session's table; the record's own nelems wins.
// With inUse >= 0: "class 5 (48 B, 170 objects, 12 in use)".
QString classPhrase(uint8_t spanClass, const std::vector<stream::ClassEntry>& classes,
                    uint64_t nelems = 0, int64_t inUse = -1) {
    const int c = spanClass >> 1;
    if (c == 0) return tr("the large class");
    if (static_cast<size_t>(c) >= classes.size()) return tr("class %1").arg(c);
    const auto& ce = classes[static_cast<size_t>(c)];
    const uint64_t n = nelems ? nelems : ce.nelems;
    if (inUse >= 0)
        return tr("class %1 (%2, %3 objects, %4 in use)")
            .arg(c)
            .arg(spokenBytes(ce.size))
            .arg(n)
            .arg(inUse);
    return tr("class %1 (%2, %3 objects)").arg(c).arg(spokenBytes(ce.size)).arg(n);
}

QString pages(uint64_t n) {
    return n == 1 ? tr("1 page") : tr("%1 pages").arg(n);
}

const session::GcPhase* findPhase(const NarrationContext& ctx, const char* name) {
    for (const auto& p : ctx.cyclePhases)
        if (p.phase == name) return &p;
    return nullptr;
}

// The GCPhase record's addr (events.h, detail/emit.h's gcPhase records): the memory limit at sweep
// termination and mark (bytes), the CPU split at mark termination, idle marking and the limit (MiB)
// at off.
QString gcPhase(const Event& e, const NarrationContext& ctx) {
    const QString head = tr("GC %1: ").arg(e.a);
    const uint64_t stwNs = uint64_t{e.npages} * 1000;
    const QString goal = tr("goal %1").arg(spokenBytes(e.c));
    switch (static_cast<GCPhaseKind>(e.flags)) {
        case GCPhaseKind::SweepTermination: {
            const QString limit =
                e.addr ? tr(" under a memory limit of %1").arg(spokenBytes(e.addr)) : QString();
            return head + tr("sweep termination, stop-the-world %1: the heap reached %2 (trigger "
                             "%3), %4%5")
                              .arg(ms(stwNs), spokenBytes(e.b), spokenBytes(e.d), goal, limit);
        }
        case GCPhaseKind::Mark:
            return head + tr("marking began, concurrent with the program; heap %1, %2")
                              .arg(spokenBytes(e.b), goal);
        case GCPhaseKind::MarkTermination: {
            const session::GcPhase* st = findPhase(ctx, "sweep-termination");
            const QString heap =
                st ? QStringLiteral("%1→%2").arg(spokenBytes(st->heapLive), spokenBytes(e.b))
                   : spokenBytes(e.b);
            return head + tr("mark termination, stop-the-world %1, heap %2, %3")
                              .arg(ms(stwNs), heap, goal);
        }
        case GCPhaseKind::Off: {
            // Go's idle mark workers (gctrace's idle column): marking on CPUs nothing else wanted.
            const uint64_t idleNs = payload::gcPhaseHi(e) * 1000;
            const QString idle =
                idleNs
                    ? tr("; idle mark workers marked for %1 on otherwise idle CPUs").arg(ms(idleNs))
                    : QString();
            return head + tr("done: %1 marked live, sweeping begins; next %2%3")
                              .arg(spokenBytes(e.b), goal, idle);
        }
    }
    return head + tr("phase %1").arg(e.flags);
}

}  // namespace

QString spokenBytes(uint64_t b) {
    if (b < 1024) return QStringLiteral("%1 B").arg(b);
    static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = double(b) / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 3) v /= 1024.0, u++;
    const int decimals = v < 10 && v != double(int64_t(v)) ? 1 : 0;
    return QStringLiteral("%1 %2").arg(v, 0, 'f', decimals).arg(QLatin1String(kUnits[u]));
}

static QString narrateRecord(const Event& e, const std::vector<stream::ClassEntry>& classes,
                             const NarrationContext& ctx) {
    const QString who = thread(e.tid);
    const QString at = formatAddress(e.addr);
    switch (static_cast<uint16_t>(e.kind)) {
        case uint16_t(EventKind::SpanAlloc):
            return tr("%1 took a new span of %2 from the page heap at %3 (%4)")
                .arg(who, classPhrase(e.spanClass, classes, e.a), at, pages(e.npages));
        case uint16_t(EventKind::SpanCache):
            return tr("%1 cached a span of %2 into its mcache")
                .arg(who, classPhrase(e.spanClass, classes, e.b, e.a));
        case uint16_t(EventKind::SpanUncache):
            return tr("%1 gave a %2 span of %3 back to mcentral")
                .arg(who, e.flags & 1 ? tr("full") : tr("partly free"),
                     classPhrase(e.spanClass, classes, e.b, static_cast<int64_t>(e.a)));
        case uint16_t(EventKind::SpanSweep):
            return tr("Sweeping a span of %1 at %2 freed %3 objects; %4 stay live")
                .arg(classPhrase(e.spanClass, classes, e.c), at)
                .arg(e.a)
                .arg(e.b);
        case uint16_t(EventKind::SpanFree):
            return tr("A span of %1 at %2 went back to the page heap (%3 free again)")
                .arg(classPhrase(e.spanClass, classes), at, pages(e.npages));
        case uint16_t(EventKind::LargeAlloc):
            if (e.flags & 1)
                return tr("%1 grew a large object in place at %2 to %3 (%4)")
                    .arg(who, at, spokenBytes(e.a), pages(e.npages));
            return tr("%1 allocated a large object of %2 at %3: a span of its own, %4")
                .arg(who, spokenBytes(e.a), at, pages(e.npages));
        case uint16_t(EventKind::LargeFree):
            return tr("The large object at %1 was freed: %2 back to the page heap")
                .arg(at, pages(e.npages));
        case uint16_t(EventKind::ArenaMap):
            return tr("The heap reserved a new arena of %1 at %2").arg(spokenBytes(e.a), at);
        case uint16_t(EventKind::HeapGrow):
            return tr("The page heap grew by %1 at %2").arg(pages(e.npages), at);
        case uint16_t(EventKind::Scavenge):
            return tr("The scavenger released %1 at %2 to the operating system")
                .arg(pages(e.npages), at);
        case uint16_t(EventKind::ScavReuse):
            return tr("The page heap took back %1 of released memory at %2")
                .arg(pages(e.npages), at);
        case uint16_t(EventKind::GCPhase):
            return gcPhase(e, ctx);
        case uint16_t(
            EventKind::MarkAssistBegin):  // sessions recorded before the one-record assist
            return tr("%1 must help the GC mark before it may allocate more (mark assist)")
                .arg(who);
        case uint16_t(EventKind::MarkAssistEnd):  // c = its duration in ns (0 in older sessions)
            if (e.c)
                return tr("%1 helped the GC mark before allocating more (mark assist): %2 units of "
                          "work in %3 µs")
                    .arg(who)
                    .arg(e.a)
                    .arg(QString::number(double(e.c) / 1000.0, 'f', 1));
            return tr("%1 finished its mark assist (%2 units of work)").arg(who).arg(e.a);
        case uint16_t(EventKind::SweepProgress):  // a = pages swept (cumulative), c = sweeps that
                                                  // freed nothing
            if (e.flags & 1)
                return tr("Sweep complete: every span of this cycle swept (%1 swept in all, %2 in "
                          "use)")
                    .arg(pages(e.a), pages(e.b));
            return tr("Sweeping: %1 more spans swept with nothing to free (%2 swept in all, %3 in "
                      "use)")
                .arg(e.c)
                .arg(pages(e.a), pages(e.b));
        case uint16_t(EventKind::ThreadStart):
            return tr("%1 started").arg(who);
        case uint16_t(EventKind::ThreadExit):
            return tr("%1 exited: its mcache goes back to mcentral").arg(who);
        case uint16_t(EventKind::ClassCounters):
            return tr("Counters of class %1: %2 allocated, %3 freed so far")
                .arg(e.spanClass)
                .arg(e.a)
                .arg(e.b);
        case uint16_t(EventKind::HeapTotals):
            return tr("Heap totals: %1 allocated, %2 in spans")
                .arg(spokenBytes(e.a), spokenBytes(e.b));
        case uint16_t(EventKind::ObjAlloc):
            if (e.flags & 1)
                return tr("%1 started a new 16-byte tiny block at %2 for %3")
                    .arg(who, at, spokenBytes(e.a));
            return tr("%1 allocated an object of %2 at %3").arg(who, spokenBytes(e.a), at);
        case uint16_t(EventKind::ObjFree): {
            const int n = __builtin_popcountll(e.a);
            if (n == 1) return tr("Sweeping freed 1 unmarked object in the span at %1").arg(at);
            return tr("Sweeping freed %1 unmarked objects in the span at %2").arg(n).arg(at);
        }
        case uint16_t(EventKind::ObjMark):
            return e.flags & 1
                       ? tr("The GC scanned the object at %1: black (reachable, done)").arg(at)
                       : tr("The GC marked the object at %1: grey (reachable, to be scanned)")
                             .arg(at);
        case uint16_t(EventKind::SweepCycle):
            return tr("Sweep generation %1 began: live heap %2, the next starts at %3")
                .arg(ctx.sweepCycle ? ctx.sweepCycle : int64_t(e.a))
                .arg(spokenBytes(e.b), spokenBytes(e.c));
        case uint16_t(EventKind::SpanRefill): {
            // One record for what were up to three: the old span handed back, the new one swept,
            // cached.
            QString text =
                tr("%1 refilled its mcache with a span of %2")
                    .arg(who, classPhrase(e.spanClass, classes, e.b, static_cast<int64_t>(e.a)));
            if (e.flags & kRefillSwept)
                text += tr(", swept on the way (%1 objects freed)").arg(e.c);
            if (e.flags & kRefillUncached)
                text += tr(", and handed back its %1 span (%2 in use)")
                            .arg(e.flags & kRefillOldFull ? tr("full") : tr("old"))
                            .arg(payload::refillOldAllocCount(e));
            return text;
        }
        case stream::kRundownBegin:
            return tr("Attached: a list of every span the heap holds follows (the rundown)");
        case stream::kSpanState:
            return tr("Rundown: a span of %1 at %2")
                .arg(classPhrase(e.spanClass, classes, payload::spanStateNelems(e),
                                 payload::spanStateAllocCount(e)),
                     at);
        case stream::kSpanBits:
            return tr("Rundown: allocation bits of the span at %1").arg(at);
        case stream::kRundownEnd:
            return tr("Rundown done: %1 spans; from now on every change is recorded").arg(e.a);
        case stream::kDropped:
            return tr("%1 records were lost so far (a thread's buffer was full)").arg(e.a);
        case stream::kHeapSizes:
            return tr("Heap totals: %1 mapped for the heap, %2 from the system")
                .arg(spokenBytes(e.a), spokenBytes(e.b));
        case stream::kHeapCounts:
            return tr("Heap totals: %1 allocations, %2 frees so far; live heap %3")
                .arg(e.a)
                .arg(e.b)
                .arg(spokenBytes(e.c));
        case stream::kWatermark:
            return tr("Every record older than %1 s has arrived").arg(double(e.a) / 1e9, 0, 'f', 6);
        default:  // a kind without a sentence of its own here: the kinds table's
            if (const kinds::KindInfo* k = kinds::find(uint16_t(e.kind))) return tr(k->says);
            return tr("A record of kind %1 (%2)")
                .arg(uint16_t(e.kind))
                .arg(QLatin1String(session::kindName(uint16_t(e.kind))));
    }
}

QString narrate(const Event& e, const std::vector<stream::ClassEntry>& classes,
                const NarrationContext& ctx) {
    QString text = narrateRecord(e, classes, ctx);
    if (ctx.filledBy.isEmpty()) return text;
    text += tr(" — this span was filled by %1").arg(ctx.filledBy);
    if (ctx.filledByOthers == 1)
        text += tr(" and one other site");
    else if (ctx.filledByOthers > 1)
        text += tr(" and %1 other sites").arg(ctx.filledByOthers);
    return text;
}

}  // namespace spanscope::ui
