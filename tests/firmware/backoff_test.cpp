// Capped exponential backoff with full jitter (docs/PROTOCOL.md §7).
#include "tte/device/backoff.h"

#include <gtest/gtest.h>

namespace tte::device {
namespace {

TEST(Backoff, BoundDoublesUpToTheCap) {
    const RetryPolicy p{2000, 3600000, 0};
    EXPECT_EQ(backoffBoundMs(p, 0), 2000u);
    EXPECT_EQ(backoffBoundMs(p, 1), 4000u);
    EXPECT_EQ(backoffBoundMs(p, 10), 2048000u);
    EXPECT_EQ(backoffBoundMs(p, 11), 3600000u);
    EXPECT_EQ(backoffBoundMs(p, 4000000000u), 3600000u);  // no overflow, no long loop
}

TEST(Backoff, DelayCoversZeroToTheBound) {
    const RetryPolicy p{100, 1000, 0};
    EXPECT_EQ(backoffDelayMs(p, 0, 0), 0u);
    EXPECT_EQ(backoffDelayMs(p, 0, 0xFFFFFFFF), 100u);
    EXPECT_EQ(backoffDelayMs(p, 3, 0xFFFFFFFF), 800u);
    EXPECT_EQ(backoffDelayMs(p, 9, 0xFFFFFFFF), 1000u);
    EXPECT_EQ(backoffDelayMs(p, 9, 0x80000000), 500u);
}

TEST(Backoff, ZeroBaseMeansNoWait) {
    const RetryPolicy p{0, 1000, 0};
    EXPECT_EQ(backoffBoundMs(p, 5), 0u);
    EXPECT_EQ(backoffDelayMs(p, 5, 0xFFFFFFFF), 0u);
}

}  // namespace
}  // namespace tte::device
