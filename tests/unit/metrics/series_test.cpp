#include "metrics/series.hpp"

#include <gtest/gtest.h>

using namespace infergate::metrics;

TEST(HistogramArray, PlacesValuesOnBucketBoundaries) {
  HistogramArray h(1, std::make_shared<const std::vector<double>>(std::vector<double>{0.1, 0.5, 1}));
  EXPECT_EQ(h.bucketOf(0.0), 0u);
  EXPECT_EQ(h.bucketOf(0.1), 0u);  // le="0.1" includes 0.1
  EXPECT_EQ(h.bucketOf(0.10001), 1u);
  EXPECT_EQ(h.bucketOf(1.0), 2u);
  EXPECT_EQ(h.bucketOf(1.5), 3u);  // +Inf
  h.observe(0, 0.2);
  h.observe(0, 2.0);
  EXPECT_EQ(h.bucket(0, 1), 1u);
  EXPECT_EQ(h.bucket(0, 3), 1u);
  EXPECT_EQ(h.count(0), 2u);
  EXPECT_DOUBLE_EQ(h.sum(0), 2.2);
}

