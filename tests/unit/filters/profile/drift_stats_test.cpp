#include "filters/profile/drift_stats.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace infergate::profile;

TEST(DriftStats, PsiMatchesHandComputedValues) {
  // (0.25-0.5)ln(0.25/0.5) + (0.75-0.5)ln(0.75/0.5) = 0.25 ln 2 + 0.25 ln 1.5
  EXPECT_NEAR(psi({0.5, 0.5}, {0.25, 0.75}), 0.25 * std::log(2.0) + 0.25 * std::log(1.5), 1e-12);
  EXPECT_NEAR(psi({0.2, 0.3, 0.5}, {0.2, 0.3, 0.5}), 0.0, 1e-12);
  // An empty baseline bin is floored at 1e-4 instead of dividing by zero.
  EXPECT_NEAR(psi({1.0, 0.0}, {0.5, 0.5}), (0.5 - 1.0) * std::log(0.5 / 1.0) + (0.5 - 1e-4) * std::log(0.5 / 1e-4), 1e-12);
}

TEST(DriftStats, KsIsTheLargestCdfGap) {
  EXPECT_NEAR(ksDistance({0.5, 0.5, 0.0}, {0.1, 0.4, 0.5}), 0.5, 1e-12);  // CDFs 0.5/1/1 vs 0.1/0.5/1
  EXPECT_NEAR(ksDistance({0.3, 0.7}, {0.3, 0.7}), 0.0, 1e-12);
}

TEST(DriftStats, ChiSquareSurvivalMatchesStandardTables) {
  // Critical values at p = 0.05 and 0.01 (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.4).
  EXPECT_NEAR(chiSquareSurvival(3.841, 1), 0.05, 1e-4);
  EXPECT_NEAR(chiSquareSurvival(5.991, 2), 0.05, 1e-4);
  EXPECT_NEAR(chiSquareSurvival(18.307, 10), 0.05, 1e-4);
  EXPECT_NEAR(chiSquareSurvival(6.635, 1), 0.01, 1e-4);
  EXPECT_NEAR(chiSquareSurvival(30.578, 15), 0.01, 1e-4);
  EXPECT_DOUBLE_EQ(chiSquareSurvival(0, 3), 1.0);
}

TEST(DriftStats, ChiSquareGoodnessOfFit) {
  // A fair die rolled 60 times: observed 5,8,9,8,10,20 -> statistic 13.4, 5 dof, p ~ 0.0199.
  auto r = chiSquare({1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0}, {5, 8, 9, 8, 10, 20});
  EXPECT_NEAR(r.statistic, 13.4, 1e-9);
  EXPECT_EQ(r.degreesOfFreedom, 5u);
  EXPECT_NEAR(r.pValue, 0.0199, 1e-3);
}
