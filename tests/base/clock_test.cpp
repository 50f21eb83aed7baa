#include "tte/base/clock.h"

#include <gtest/gtest.h>

namespace tte {
namespace {

using namespace std::chrono_literals;

TEST(ManualClock, SleepAdvancesVirtualTime) {
    ManualClock clock;
    auto t0 = clock.now();
    auto w0 = clock.wallNow();
    clock.sleepFor(250ms);
    EXPECT_EQ(clock.now() - t0, 250ms);
    clock.advance(1s);
    EXPECT_EQ(clock.now() - t0, 1250ms);
    EXPECT_EQ(clock.wallNow() - w0, 1250ms);
    clock.advance(-5s);  // time never goes back
    EXPECT_EQ(clock.now() - t0, 1250ms);
}

TEST(SystemClock, IsMonotonic) {
    SystemClock clock;
    auto a = clock.now();
    auto b = clock.now();
    EXPECT_LE(a, b);
}

}  // namespace
}  // namespace tte
