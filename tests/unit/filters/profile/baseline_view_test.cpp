// The anomaly rule workers apply: bins outside the baseline (never seen, or
// rarer than drift.anomaly.rare_share), counted over the checked features.
#include "filters/profile/baseline_view.hpp"

#include <gtest/gtest.h>

namespace infergate::profile {
namespace {

TEST(BaselineView, UsualBinsAreThoseAboveTheRareShare) {
  const std::uint64_t counts[5] = {0, 1, 9, 990, 0};  // 1000 requests
  EXPECT_EQ(usualBins(counts, 5, 0), 0b01110u);        // every bin seen at least once
  EXPECT_EQ(usualBins(counts, 5, 0.001), 0b01100u);    // 1 in 1000 is not more than 0.1%
  EXPECT_EQ(usualBins(counts, 5, 0.009), 0b01000u);    // nor is 9 in 1000 more than 0.9%
  const std::uint64_t none[3] = {0, 0, 0};
  EXPECT_EQ(usualBins(none, 3, 0), 0u);
}

FeatureBins binsAll(std::uint8_t bin) {
  FeatureBins b{};
  b.fill(bin);
  return b;
}

TEST(BaselineView, TheFirstFeatureOutsideIsReportedOnceEnoughAreOutside) {
  BaselineView one(2, 1), two(2, 2);
  for (auto* view : {&one, &two})
    for (std::size_t f = 0; f < kFeatureCount; ++f) view->publish(1, f, 0b0110);  // model 1: bins 1 and 2 usual
  auto request = binsAll(1);
  EXPECT_EQ(one.anomalyFeature(1, request), kFeatureCount);
  request[9] = 3;
  EXPECT_EQ(one.anomalyFeature(1, request), 9u);
  EXPECT_EQ(two.anomalyFeature(1, request), kFeatureCount);  // one feature outside is not enough
  request[4] = 0;
  EXPECT_EQ(two.anomalyFeature(1, request), 4u);             // two are; the first is reported
  // Model 0 has no baseline (nothing published): never an anomaly.
  EXPECT_EQ(one.anomalyFeature(0, binsAll(7)), kFeatureCount);
}

TEST(BaselineView, FeaturesPublishedAsZeroAreNotChecked) {
  BaselineView view(1, 1);
  for (std::size_t f = 0; f < kFeatureCount; ++f) view.publish(0, f, f == 6 ? 0b10u : 0u);  // only feature 6 checked
  auto request = binsAll(5);
  EXPECT_EQ(view.anomalyFeature(0, request), 6u);
  request[6] = 1;
  EXPECT_EQ(view.anomalyFeature(0, request), kFeatureCount);
}

}  // namespace
}  // namespace infergate::profile
