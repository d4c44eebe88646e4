// The pacer's cons/mark smoothing and the background workers' split (allocator/mgc.h).
// PiController is Go 1.19's piController with the tuning gcControllerState.init gives it (kp 0.9,
// ti 4, tt 1000, output clamped to ±1000); the expected outputs were printed by Go's own
// piController.next and reset, copied verbatim from go1.19.8's src/runtime/mgcpacer.go into a Go
// program, for the same inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "mgc.h"

namespace spanscope::detail {
namespace {

PiController goTuning() {
    return PiController{0.9, 4.0, 1000, -1000, 1000};
}

TEST(PiController, FollowsGoStepForStep) {
    PiController c = goTuning();
    const double setpoints[] = {0.5, 0.5, 0.2, 0.8, 0.0, 0.3, 5000, 0.1};
    const double go[] = {
        0.45000000000000001, 0.1575, 0.16200000000000001, 0.70751249999999999, -0.35989875000000005,
        0.71158106249999997, 1000,   221.69641794073766};
    double in = 0;
    for (size_t i = 0; i < std::size(setpoints); i++) {
        in = c.next(in, setpoints[i], 1.0);
        EXPECT_NEAR(in, go[i], 1e-12) << "step " << i;
    }
}

TEST(PiController, SettlesOnASteadyMeasurement) {
    PiController c = goTuning();
    double out = 0;
    for (int i = 0; i < 200; i++) out = c.next(out, 0.37, 1.0);
    EXPECT_NEAR(out, 0.37, 1e-6);
}

TEST(PiController, AnOverflowResetsTheIntegral) {
    PiController c = goTuning();
    (void)c.next(0, 0.5, 1.0);
    EXPECT_NE(c.errIntegral, 0);
    EXPECT_EQ(c.next(0, std::numeric_limits<double>::infinity(), 1.0), 0);
    EXPECT_EQ(c.errIntegral, 0) << "Go resets the controller and the pacer restarts from 0";
}

// Go 1.19's startCycle, worked by hand from mgcpacer.go for the CPU counts where its rounding rule
// changes the answer: fractional workers for GOMAXPROCS <= 3 and 6, dedicated ones elsewhere.
TEST(BackgroundWorkers, SplitAsGoStartCycle) {
    struct Case {
        int procs, dedicated;
        double fractional;
    };
    const Case cases[] = {{1, 0, 0.25},    {2, 0, 0.25}, {3, 0, 0.25}, {4, 1, 0},  {5, 1, 0},
                          {6, 1, 0.5 / 6}, {7, 2, 0},    {8, 2, 0},    {16, 4, 0}, {64, 16, 0}};
    for (const Case& c : cases) {
        const WorkerSplit s = backgroundSplit(c.procs);
        EXPECT_EQ(s.dedicated, c.dedicated) << c.procs << " CPUs";
        EXPECT_NEAR(s.fractional, c.fractional, 1e-12) << c.procs << " CPUs";
        // Together they are the 25% Go aims at, within its 30% rounding tolerance.
        const double total = s.dedicated + s.fractional * c.procs;
        EXPECT_NEAR(total, 0.25 * c.procs, 0.3 * 0.25 * c.procs) << c.procs << " CPUs";
    }
}

}  // namespace
}  // namespace spanscope::detail
