#include "filters/profile/profile_filter.hpp"

#include <gtest/gtest.h>

#include "tests/unit/filters/filter_fixture.hpp"

namespace infergate {
namespace {

using testing::FilterFixture;

FilterRegistration profiling(bool countBins, profile::ProfileFilter::Multivariate multivariate = {}) {
  return testing::only("profile", [countBins, multivariate](const FilterDependencies& d, const RouteScope&) {
    return std::make_unique<profile::ProfileFilter>(d.bins, d.baseline, countBins ? &d.profileStats : nullptr,
                                                    multivariate);
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

// The vector of every request goes to the drift monitor's queue; once the
// model's forest has learnt, each request is scored and counted at or above
// the threshold.
TEST(ProfileFilter, ScoresRequestsAgainstTheModelsForestAndHandsVectorsOver) {
  FilterFixture fx;
  profile::HalfSpaceForest forest(fx.labels->modelCount());
  profile::VectorQueue vectors(1);
  fx.build({profiling(true, {&forest, &vectors, 0.99})});
  const auto usual = R"({"model":"m-1","max_tokens":100,"temperature":0.7,"messages":[{"role":"user","content":"Summarise this note."}]})";
  fx.request("/v1/chat/completions", usual).onRequest(fx.ctx);
  const auto model = fx.record.model;
  EXPECT_EQ(fx.profileStats->anomalyScore.count({model}), 0u);  // no forest yet: not scored
  std::vector<profile::FeatureVector> queued;
  vectors.drain([&](const profile::ModelVector& mv) {
    EXPECT_EQ(mv.model, model);
    queued.push_back(mv.vector);
  });
  ASSERT_EQ(queued.size(), 1u);

  forest.learn(model, std::vector<profile::FeatureVector>(200, queued[0]));
  fx.request("/v1/chat/completions", usual).onRequest(fx.ctx);
  EXPECT_EQ(fx.profileStats->anomalyScore.count({model}), 1u);
  EXPECT_EQ(fx.profileStats->multivariateAnomalies.total({model}), 0u);
  const auto unusual = R"({"model":"m-1","max_tokens":1,"temperature":2,"tools":[{"type":"function","function":{"name":"f"}}],)"
                       R"("messages":[{"role":"system","content":")" + std::string(3000, 's') + R"("},{"role":"user","content":"hi"}]})";
  fx.request("/v1/chat/completions", unusual).onRequest(fx.ctx);
  EXPECT_EQ(fx.profileStats->anomalyScore.count({model}), 2u);
  EXPECT_EQ(fx.profileStats->multivariateAnomalies.total({model}), 1u);
}

}  // namespace
}  // namespace infergate
