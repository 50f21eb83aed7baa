// The two-sample Kolmogorov–Smirnov test the timing test relies on, against tabled values.
#include <gtest/gtest.h>

#include <random>

#include "kolmogorov_smirnov.h"

namespace tte::test {
namespace {

TEST(KolmogorovSmirnov, LimitDistributionMatchesItsTable) {
    // Critical values of Kolmogorov's distribution: P(λ > 1.36) = 0.05, P(λ > 1.63) = 0.01.
    EXPECT_NEAR(kolmogorovQ(1.36), 0.0494, 0.0005);
    EXPECT_NEAR(kolmogorovQ(1.63), 0.0098, 0.0002);
    EXPECT_NEAR(kolmogorovQ(1.0), 0.2700, 0.0005);
    EXPECT_EQ(kolmogorovQ(0.0), 1.0);
}

TEST(KolmogorovSmirnov, DistanceAndPValueOfTwoSamples) {
    const auto same = ksTwoSample({1, 2, 3, 4}, {4, 3, 2, 1});
    EXPECT_EQ(same.d, 0.0);
    EXPECT_EQ(same.p, 1.0);
    const auto apart = ksTwoSample({1, 2, 3}, {4, 5, 6});
    EXPECT_EQ(apart.d, 1.0);
    EXPECT_LT(apart.p, 0.05);
    EXPECT_DOUBLE_EQ(ksTwoSample({1, 2, 3, 4}, {3, 4, 5, 6}).d, 0.5);  // ties counted once
    // One distribution twice: no alarm; shifted by a fifth of its spread, 2,000 samples each: alarm.
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(100, 10);
    std::vector<double> a, b, c;
    for (int i = 0; i < 2000; ++i) a.push_back(noise(rng)), b.push_back(noise(rng)), c.push_back(noise(rng) + 2);
    EXPECT_GT(ksTwoSample(a, b).p, 0.01);
    EXPECT_LT(ksTwoSample(a, c).p, 1e-4);
    EXPECT_EQ(median({3, 1, 2}), 2.0);
    EXPECT_EQ(median({4, 1, 2, 3}), 2.5);
}

}  // namespace
}  // namespace tte::test
