// The typed records (allocator/spanscope/detail/emit.h): each spanscope::record function, called
// with a distinct value per parameter, hands the hook exactly one record whose every field says
// what event_kinds.h documents for its kind (packed fields read back through spanscope::payload,
// the accessors the recorder, span model and narration decode with); every kind the allocator
// emits has a function; SPANSCOPE_RECORD emits only with a sink, evaluating its arguments only
// then, and not at all when built with SPANSCOPE_EVENTS off.
#include "spanscope/detail/emit.h"

#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>

#include "spanscope/detail/platform.h"

namespace spanscope {
namespace {

// The records this thread emitted since the last take() (the allocator's own threads may emit
// meanwhile: they are not ours). A fixed array: the sink must not allocate.
struct Captured {
    uint32_t tid = 0;
    Event events[8];
    int n = 0;
};
Captured g_captured;

void captureSink(const Event& e, void*) {
    if (e.tid != g_captured.tid) return;
    if (g_captured.n < 8) g_captured.events[g_captured.n] = e;
    g_captured.n++;
}

class SinkScope {
public:
    SinkScope() {
        g_captured = {};
        g_captured.tid = static_cast<uint32_t>(detail::currentTid());
        setEventSink(captureSink, nullptr);
    }
    ~SinkScope() { setEventSink(nullptr, nullptr); }
};

// The one record emitted since the last call (a failure if there was not exactly one).
Event take() {
    EXPECT_EQ(g_captured.n, 1) << "records emitted";
    Event e = g_captured.n ? g_captured.events[0] : Event{};
    g_captured.n = 0;
    return e;
}

// Every payload field of got against want: fields want leaves out must be zero.
void expectFields(const Event& got, const Event& want) {
    EXPECT_EQ(got.kind, want.kind);
    EXPECT_EQ(got.spanClass, want.spanClass) << "spanClass";
    EXPECT_EQ(got.flags, want.flags) << "flags";
    EXPECT_EQ(got.npages, want.npages) << "npages";
    EXPECT_EQ(got.addr, want.addr) << "addr";
    EXPECT_EQ(got.a, want.a) << "a";
    EXPECT_EQ(got.b, want.b) << "b";
    EXPECT_EQ(got.c, want.c) << "c";
    EXPECT_EQ(got.d, want.d) << "d";
}

constexpr uint8_t kSpc = 21 << 1 | 1;  // size class 21, noscan
constexpr uint64_t kBase = 0xc000246000;
constexpr uint64_t kOldBase = 0xc00037a000;

// One typed call and what its record must say.
struct Case {
    const char* name;
    void (*emit)();
    void (*check)(const Event&);
};
void PrintTo(const Case& c, std::ostream* os) {
    *os << c.name;
}

const Case kCases[] = {
    {"SpanAlloc", [] { record::spanAlloc(kSpc, kBase, 3, 96); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::SpanAlloc,
                          .spanClass = kSpc,
                          .npages = 3,
                          .addr = kBase,
                          .a = 96});
     }},
    {"SpanUncachePartial", [] { record::spanUncache(kSpc, kBase, 3, 40, 96); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::SpanUncache,
                          .spanClass = kSpc,
                          .flags = 0,
                          .npages = 3,
                          .addr = kBase,
                          .a = 40,
                          .b = 96});
     }},
    {"SpanUncacheFull", [] { record::spanUncache(kSpc, kBase, 3, 96, 96); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::SpanUncache,
                          .spanClass = kSpc,
                          .flags = 1,
                          .npages = 3,
                          .addr = kBase,
                          .a = 96,
                          .b = 96});
     }},
    {"SpanRefillSweptAndHandedBackFull",
     [] {
         record::spanRefill(kSpc, kBase, 4, 17, 128, 9, {kOldBase, 128, true});
     },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::SpanRefill,
                          .spanClass = kSpc,
                          .flags = kRefillSwept | kRefillUncached | kRefillOldFull,
                          .npages = 4,
                          .addr = kBase,
                          .a = 17,
                          .b = 128,
                          .c = 9,
                          .d = payload::packRefillOld(kOldBase, 128)});
         EXPECT_EQ(payload::refillOldBase(e), kOldBase);
         EXPECT_EQ(payload::refillOldAllocCount(e), 128u);
     }},
    {"SpanRefillHandedBackPartialNotSwept",
     [] {
         record::spanRefill(kSpc, kBase, 4, 17, 128, -1, {kOldBase, 0x1fff, false});
     },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::SpanRefill,
                          .spanClass = kSpc,
                          .flags = kRefillUncached,
                          .npages = 4,
                          .addr = kBase,
                          .a = 17,
                          .b = 128,
                          .c = 0,
                          .d = payload::packRefillOld(kOldBase, 0x1fff)});
         EXPECT_EQ(payload::refillOldBase(e), kOldBase);
         EXPECT_EQ(payload::refillOldAllocCount(e), 0x1fffu);
     }},
    {"SpanRefillNothingHandedBack", [] { record::spanRefill(kSpc, kBase, 4, 0, 128, 0, {}); },
     [](const Event& e) {
         // Swept on the way and freed nothing: still flagged swept, c = 0.
         expectFields(e, {.kind = EventKind::SpanRefill,
                          .spanClass = kSpc,
                          .flags = kRefillSwept,
                          .npages = 4,
                          .addr = kBase,
                          .b = 128});
         EXPECT_EQ(payload::refillOldBase(e), 0u);
     }},
    {"SpanSweep", [] { record::spanSweep(kSpc, kBase, 2, 30, 50, 80); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::SpanSweep,
                          .spanClass = kSpc,
                          .npages = 2,
                          .addr = kBase,
                          .a = 30,
                          .b = 50,
                          .c = 80});
     }},
    {"SpanFree", [] { record::spanFree(kSpc, kBase, 5); },
     [](const Event& e) {
         expectFields(e,
                      {.kind = EventKind::SpanFree, .spanClass = kSpc, .npages = 5, .addr = kBase});
     }},
    {"LargeAlloc", [] { record::largeAlloc(0, kBase, 7, 50000); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::LargeAlloc, .npages = 7, .addr = kBase, .a = 50000});
     }},
    {"LargeGrownInPlace", [] { record::largeGrownInPlace(1, kBase, 9, 9 * 8192); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::LargeAlloc,
                          .spanClass = 1,
                          .flags = 1,
                          .npages = 9,
                          .addr = kBase,
                          .a = 9 * 8192});
     }},
    {"LargeFree", [] { record::largeFree(1, kBase, 9); },
     [](const Event& e) {
         expectFields(e,
                      {.kind = EventKind::LargeFree, .spanClass = 1, .npages = 9, .addr = kBase});
     }},
    {"ArenaMap", [] { record::arenaMap(0xc000000000, 8192, 64 << 20); },
     [](const Event& e) {
         expectFields(
             e, {.kind = EventKind::ArenaMap, .npages = 8192, .addr = 0xc000000000, .a = 64 << 20});
     }},
    {"HeapGrow", [] { record::heapGrow(kBase, 512, 4 << 20); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::HeapGrow, .npages = 512, .addr = kBase, .a = 4 << 20});
     }},
    {"Scavenge", [] { record::scavenge(kBase, 64); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::Scavenge, .npages = 64, .addr = kBase});
     }},
    {"ScavReuse", [] { record::scavReuse(kSpc, kBase, 6); },
     [](const Event& e) {
         expectFields(
             e, {.kind = EventKind::ScavReuse, .spanClass = kSpc, .npages = 6, .addr = kBase});
     }},
    {"GCSweepTermination",
     [] { record::gcSweepTermination(7, 3000000, 8000000, 6000000, 2500000, 512 << 20); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::GCPhase,
                          .flags = static_cast<uint8_t>(GCPhaseKind::SweepTermination),
                          .npages = 2500,  // µs
                          .addr = 512 << 20,
                          .a = 7,
                          .b = 3000000,
                          .c = 8000000,
                          .d = 6000000});
     }},
    {"GCMark", [] { record::gcMark(7, 3000000, 8000000, 6000000, 0); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::GCPhase,
                          .flags = static_cast<uint8_t>(GCPhaseKind::Mark),
                          .a = 7,
                          .b = 3000000,
                          .c = 8000000,
                          .d = 6000000});
     }},
    {"GCMarkTermination",
     [] { record::gcMarkTermination(7, 5000000, 8000000, 6000000, 1200000, 4100, 0xfffffffe); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::GCPhase,
                          .flags = static_cast<uint8_t>(GCPhaseKind::MarkTermination),
                          .npages = 1200,
                          .addr = payload::packHiLo(4100, 0xfffffffe),
                          .a = 7,
                          .b = 5000000,
                          .c = 8000000,
                          .d = 6000000});
         EXPECT_EQ(payload::gcPhaseHi(e), 4100u) << "assist µs";
         EXPECT_EQ(payload::gcPhaseLo(e), 0xfffffffeu) << "mark worker µs";
     }},
    {"GCOff", [] { record::gcOff(7, 4000000, 9000000, 7000000, 333, 512); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::GCPhase,
                          .flags = static_cast<uint8_t>(GCPhaseKind::Off),
                          .addr = payload::packHiLo(333, 512),
                          .a = 7,
                          .b = 4000000,
                          .c = 9000000,
                          .d = 7000000});
         EXPECT_EQ(payload::gcPhaseHi(e), 333u) << "idle mark µs";
         EXPECT_EQ(payload::gcPhaseLo(e), 512u) << "memory limit MiB";
     }},
    {"MarkAssistEnd", [] { record::markAssistEnd(70000, 65536, 123456); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::MarkAssistEnd, .a = 70000, .b = 65536, .c = 123456});
     }},
    {"SweepProgress", [] { record::sweepProgress(false, 1000, 400, 12, 42); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::SweepProgress, .a = 1000, .b = 400, .c = 12, .d = 42});
     }},
    {"SweepProgressAllSwept", [] { record::sweepProgress(true, 1400, 400, 0, 44); },
     [](const Event& e) {
         expectFields(e,
                      {.kind = EventKind::SweepProgress, .flags = 1, .a = 1400, .b = 400, .d = 44});
     }},
    {"SweepCycle", [] { record::sweepCycle(46, 2000000, 4000000, 23); },
     [](const Event& e) {
         expectFields(
             e, {.kind = EventKind::SweepCycle, .a = 46, .b = 2000000, .c = 4000000, .d = 23});
     }},
    {"ThreadStart", [] { record::threadStart(); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::ThreadStart});
         EXPECT_EQ(e.tid, static_cast<uint32_t>(detail::currentTid()));
     }},
    {"ThreadExit", [] { record::threadExit(); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::ThreadExit});
         EXPECT_EQ(e.tid, static_cast<uint32_t>(detail::currentTid()));
     }},
    {"ObjAlloc", [] { record::objAlloc(kSpc, kBase + 48, 40); },
     [](const Event& e) {
         expectFields(
             e, {.kind = EventKind::ObjAlloc, .spanClass = kSpc, .addr = kBase + 48, .a = 40});
     }},
    {"ObjAllocTinyBlock", [] { record::objAllocTinyBlock(5, kBase + 16, 3); },
     [](const Event& e) {
         expectFields(
             e,
             {.kind = EventKind::ObjAlloc, .spanClass = 5, .flags = 1, .addr = kBase + 16, .a = 3});
     }},
    {"ObjFree", [] { record::objFree(kSpc, kBase, 2, 0x8000000000000101); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::ObjFree,
                          .spanClass = kSpc,
                          .npages = 2,
                          .addr = kBase,
                          .a = 0x8000000000000101});
     }},
    {"ObjMarkGrey", [] { record::objMark(kSpc, kBase + 96, record::MarkColour::Grey); },
     [](const Event& e) {
         expectFields(
             e, {.kind = EventKind::ObjMark, .spanClass = kSpc, .flags = 0, .addr = kBase + 96});
     }},
    {"ObjMarkBlack", [] { record::objMark(kSpc, kBase + 96, record::MarkColour::Black); },
     [](const Event& e) {
         expectFields(
             e, {.kind = EventKind::ObjMark, .spanClass = kSpc, .flags = 1, .addr = kBase + 96});
     }},
    {"ProfAllocManaged", [] { record::profAlloc(kSpc, kBase + 64, 48, 77, 524288, true); },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::ProfAlloc,
                          .spanClass = kSpc,
                          .flags = 1,
                          .addr = kBase + 64,
                          .a = 48,
                          .b = 77,
                          .c = 524288});
     }},
    {"ProfAllocMalloc", [] { record::profAlloc(0, kBase, 1 << 20, 78, 524288, false); },
     [](const Event& e) {
         expectFields(
             e, {.kind = EventKind::ProfAlloc, .addr = kBase, .a = 1 << 20, .b = 78, .c = 524288});
     }},
    {"ProfFree", [] { record::profFree(kBase + 64, 48, 77, true); },
     [](const Event& e) {
         expectFields(
             e, {.kind = EventKind::ProfFree, .flags = 1, .addr = kBase + 64, .a = 48, .b = 77});
     }},
    {"ProfStackFullChunk",
     [] {
         static const uintptr_t f[] = {0x401001, 0x401002, 0x401003, 0x401004, 0x401005};
         record::profStack(77, 2, f, 5, true);
     },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::ProfStack,
                          .spanClass = 2,
                          .flags = payload::packProfStackFlags(5, true),
                          .npages = 77,
                          .addr = 0x401001,
                          .a = 0x401002,
                          .b = 0x401003,
                          .c = 0x401004,
                          .d = 0x401005});
         EXPECT_EQ(payload::profStackFrames(e), 5u);
         EXPECT_TRUE(payload::profStackLast(e));
     }},
    {"ProfStackPartialChunk",
     [] {
         // Frames past count are not read: the record's unused fields are zero.
         static const uintptr_t f[] = {0x402001, 0x402002, 0x402003, 0xdead, 0xdead};
         record::profStack(78, 0, f, 3, false);
     },
     [](const Event& e) {
         expectFields(e, {.kind = EventKind::ProfStack,
                          .flags = payload::packProfStackFlags(3, false),
                          .npages = 78,
                          .addr = 0x402001,
                          .a = 0x402002,
                          .b = 0x402003});
         EXPECT_EQ(payload::profStackFrames(e), 3u);
         EXPECT_FALSE(payload::profStackLast(e));
     }},
};

class Emit : public testing::TestWithParam<Case> {};

TEST_P(Emit, EveryFieldDecodesBackToItsNamedValue) {
    SinkScope sink;
    GetParam().emit();
    GetParam().check(take());
}

INSTANTIATE_TEST_SUITE_P(Records, Emit, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& info) {
                             return std::string(info.param.name);
                         });

// A kind added to event_kinds.h needs its typed function here and in emit.h: every kind the
// allocator emits is covered by a case above. Not emitted by the allocator: the legacy kinds
// (MarkAssistBegin, and SpanCache, which SpanRefill replaced), and the counters, which the
// probe's sampler builds from readMemStats (instrumentation/sampler.cpp).
TEST(EmitKinds, EveryKindTheAllocatorEmitsHasATypedRecord) {
    std::set<uint16_t> covered;
    {
        SinkScope sink;
        for (const Case& c : kCases) {
            c.emit();
            covered.insert(static_cast<uint16_t>(take().kind));
        }
    }
    std::set<uint16_t> emitted;
#define SPANSCOPE_KIND_EMITTED(name, number, flags, ...) \
    if (!((flags) & (kKindLegacy | kKindCounter))) emitted.insert(number);
    SPANSCOPE_ALLOCATOR_KINDS(SPANSCOPE_KIND_EMITTED)
#undef SPANSCOPE_KIND_EMITTED
    EXPECT_EQ(covered, emitted);
}

// SPANSCOPE_RECORD costs the hook's branch: with no sink it neither emits nor evaluates its
// arguments; with a sink it does both, unless built with SPANSCOPE_EVENTS off, where it is gone.
TEST(EmitMacro, RecordsAndEvaluatesItsArgumentsOnlyWithASink) {
    int evaluated = 0;
    setEventSink(nullptr, nullptr);
    SPANSCOPE_RECORD(spanFree(kSpc, (++evaluated, kBase), 1));
    EXPECT_EQ(evaluated, 0);

    SinkScope sink;
    SPANSCOPE_RECORD(spanFree(kSpc, (++evaluated, kBase), 1));
#if SPANSCOPE_EVENTS
    EXPECT_EQ(evaluated, 1);
    expectFields(take(),
                 {.kind = EventKind::SpanFree, .spanClass = kSpc, .npages = 1, .addr = kBase});
#else
    EXPECT_EQ(evaluated, 0);
    EXPECT_EQ(g_captured.n, 0);
#endif
}

}  // namespace
}  // namespace spanscope
