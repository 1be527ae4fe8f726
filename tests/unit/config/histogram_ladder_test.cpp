#include "config/histogram_ladder.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "config/config.hpp"

using namespace infergate::config;

namespace {
// What histogram_quantile reads for a quantile of values that all equal `v`:
// the bucket holding v, interpolated at the quantile's rank.
double readConstant(const std::vector<double>& bounds, double v, double q) {
  double lower = 0;
  for (double le : bounds) {
    if (v <= le) return lower + (le - lower) * q;
    lower = le;
  }
  return lower;
}
}  // namespace

TEST(HistogramLadder, NeighbouringBoundsDifferByAtMostTheStep) {
  const auto bounds = geometricBounds(0.01, 120);
  EXPECT_EQ(bounds.front(), 0.01);
  EXPECT_GE(bounds.back(), 120);
  for (std::size_t i = 1; i < bounds.size(); ++i) {
    EXPECT_GT(bounds[i], bounds[i - 1]);
    EXPECT_LE(bounds[i] / bounds[i - 1], 1 + ladderRelativeError(8) + 1e-3) << bounds[i];
  }
  EXPECT_NEAR(ladderRelativeError(8), 0.0905, 1e-4);
}

// The defect: with edges 0.2, 0.3, 0.5 s a constant 301 ms TTFT read as p50
// 400 ms and p99 498 ms. On every default ladder, any constant inside the
// range reads within the stated error at every quantile.
TEST(HistogramLadder, EveryDefaultLadderReadsAConstantWithinTheStatedError) {
  EXPECT_NEAR(readConstant({0.2, 0.3, 0.5}, 0.301, 0.5), 0.4, 1e-3);  // the old reading
  const HistogramBuckets defaults;
  for (const auto* bounds : {&defaults.request_duration, &defaults.upstream_connect, &defaults.upstream_first_byte,
                             &defaults.time_to_first_token, &defaults.inter_token_latency,
                             &defaults.time_per_output_token, &defaults.gateway_overhead}) {
    EXPECT_LE(bounds->size(), 130u);  // series per histogram stay bounded
    double worst = 0;
    for (double v = bounds->front() * 1.0001; v < bounds->back(); v *= 1.013)
      for (double q : {0.01, 0.5, 0.9, 0.99})
        worst = std::max(worst, std::fabs(readConstant(*bounds, v, q) - v) / v);
    EXPECT_LT(worst, ladderRelativeError(8) + 1e-3) << bounds->front();
  }
  EXPECT_NEAR(readConstant(defaults.time_to_first_token, 0.301, 0.99), 0.301, 0.301 * 0.0905);
}
