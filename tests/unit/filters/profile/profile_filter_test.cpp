#include "filters/profile/profile_filter.hpp"

#include <gtest/gtest.h>

#include "tests/unit/filters/filter_fixture.hpp"

namespace infergate {
namespace {

using testing::FilterFixture;

FilterRegistration profiling(bool countBins) {
  return testing::only("profile", [countBins](const FilterDependencies& d, const RouteScope&) {
    return std::make_unique<profile::ProfileFilter>(d.bins, d.baseline, countBins ? &d.profileStats : nullptr);
  });
}

std::uint64_t binTotal(FilterFixture& fx, std::uint32_t feature, std::uint32_t model) {
  std::uint64_t total = 0;
  for (std::uint32_t b = 0; b < profile::kMaxBins; ++b) total += fx.profileStats->featureBins.total({feature, model, b});
  return total;
}

TEST(ProfileFilter, CountsOneBinPerFeatureForEachRequest) {
  FilterFixture fx;
  fx.build({profiling(true)});
  for (int i = 0; i < 3; ++i) fx.request("/v1/chat/completions", testing::chat("m-1")).onRequest(fx.ctx);
  for (std::uint32_t f = 0; f < profile::kFeatureCount; ++f) EXPECT_EQ(binTotal(fx, f, fx.record.model), 3u) << f;
  EXPECT_FALSE(fx.record.anomaly);  // no baseline: nothing is an anomaly
}

// A baseline that has seen only some other bin of every feature: any request is outside it.
void publishForeignBaseline(profile::BaselineView& view, std::uint32_t model, const profile::FeatureBins& bins) {
  for (std::size_t f = 0; f < profile::kFeatureCount; ++f)
    view.publish(model, f, 1u << ((bins[f] + 1) % profile::kMaxBins));
}

TEST(ProfileFilter, MarksAnomaliesEvenWhenMetricsAreOff) {
  FilterFixture fx;
  profile::BaselineView view(fx.labels->modelCount(), 2);
  fx.build({profiling(false)}, nullptr, &view);
  fx.request("/v1/chat/completions", testing::chat("m-1"));
  publishForeignBaseline(view, fx.record.model, profile::binsOf(fx.facts, *fx.bins));
  fx.request("/v1/chat/completions", testing::chat("m-1")).onRequest(fx.ctx);
  EXPECT_TRUE(fx.record.anomaly);
  for (std::uint32_t f = 0; f < profile::kFeatureCount; ++f) EXPECT_EQ(binTotal(fx, f, fx.record.model), 0u);
}

TEST(ProfileFilter, CountsTheAnomalyUnderItsFirstFeatureOutsideTheBaseline) {
  FilterFixture fx;
  profile::BaselineView view(fx.labels->modelCount(), 1);
  fx.build({profiling(true)}, nullptr, &view);
  fx.request("/v1/chat/completions", testing::chat("m-1"));
  publishForeignBaseline(view, fx.record.model, profile::binsOf(fx.facts, *fx.bins));
  fx.request("/v1/chat/completions", testing::chat("m-1")).onRequest(fx.ctx);
  EXPECT_TRUE(fx.record.anomaly);
  EXPECT_EQ(fx.profileStats->anomalies.total({fx.record.model, 0}), 1u);
}

}  // namespace
}  // namespace infergate
