// The vector registers' state (cpu_state.h): Application delivers every event, on the GUI thread
// and on a worker thread, with the AVX upper state clear, whatever the code before it left. Where
// the CPU cannot report the state (no XGETBV with ECX=1), the tests say so and are skipped: there
// is nothing to observe.
#include "cpu_state.h"

#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QThread>
#include <QTimer>
#include <atomic>

using namespace spanscope::ui;

namespace {

// Leaves this thread's AVX upper state in use, as Qt's AVX code does (256-bit, no vzeroupper).
void dirtyAvxUpperState() {
#if defined(__x86_64__)
    asm volatile("vpcmpeqd %%ymm1, %%ymm1, %%ymm1" ::: "xmm1");
#endif
}

bool canObserve() {
    clearAvxUpperState();
    dirtyAvxUpperState();
    const bool seen = avxUpperStateInUse();
    clearAvxUpperState();
    return seen && !avxUpperStateInUse();
}

}  // namespace

TEST(CpuState, ApplicationIsTheTestsApplication) {
    EXPECT_NE(dynamic_cast<Application*>(QCoreApplication::instance()), nullptr)
        << "ui_test_main constructs the GUI's Application";
}

TEST(CpuState, EventsAreDeliveredWithTheStateClearOnEveryThread) {
    if (!canObserve()) GTEST_SKIP() << "this CPU does not report the AVX upper state (XGETBV 1)";
    // The GUI thread: dirty, then an event (a queued call) delivered by the event loop.
    std::atomic<int> guiSeen{-1};
    dirtyAvxUpperState();
    ASSERT_TRUE(avxUpperStateInUse());
    QObject receiver;
    QMetaObject::invokeMethod(
        &receiver, [&] { guiSeen = avxUpperStateInUse(); }, Qt::QueuedConnection);
    dirtyAvxUpperState();
    QCoreApplication::processEvents();
    EXPECT_EQ(guiSeen.load(), 0) << "the GUI thread's event ran with the state in use";
    // A worker thread started while the GUI thread's state was in use (it inherits it), then an
    // event queued to an object living there.
    dirtyAvxUpperState();
    QThread worker;
    worker.start();
    QObject onWorker;
    onWorker.moveToThread(&worker);
    std::atomic<int> workerSeen{-1};
    QMetaObject::invokeMethod(
        &onWorker, [&] { workerSeen = avxUpperStateInUse(); }, Qt::BlockingQueuedConnection);
    worker.quit();
    worker.wait();
    EXPECT_EQ(workerSeen.load(), 0) << "the worker thread's event ran with the state in use";
    clearAvxUpperState();
}
