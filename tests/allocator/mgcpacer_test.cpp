// The pacer's cons/mark smoothing (allocator/mgc.h): PiController, Go 1.19's piController with the
// tuning gcControllerState.init gives it (kp 0.9, ti 4, tt 1000, output clamped to ±1000). The
// expected outputs were printed by Go's own piController.next and reset, copied verbatim from
// go1.19.8's src/runtime/mgcpacer.go into a Go program, for the same inputs.
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

}  // namespace
}  // namespace spanscope::detail
