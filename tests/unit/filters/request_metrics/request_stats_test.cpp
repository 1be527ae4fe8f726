#include "filters/request_metrics/request_stats.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "filters/request_metrics/registry.hpp"

using namespace infergate;
using namespace infergate::metrics;

namespace {
config::Config twoRouteConfig() {
  auto r = config::loadString(
      "metrics:\n  model_labels: [extra]\n"
      "backends:\n  - name: a\n    endpoints: [{url: 'http://127.0.0.1:1'}, {url: 'http://127.0.0.1:2'}]\n"
      "  - name: b\n    endpoints: [{url: 'http://127.0.0.1:3'}]\n"
      "routes:\n  - name: r1\n    models: [gpt-4o, 'llama-*']\n    backend: a\n"
      "  - name: r2\n    models: [gpt-4o, mistral]\n    backend: b\n",
      "t.yaml");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
  return r.config;
}
}  // namespace

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

TEST(LabelSpace, ModelsAreConfiguredNamesOrOther) {
  auto config = twoRouteConfig();
  LabelSpace labels(config);
  EXPECT_EQ(labels.model(labels.modelIndex("gpt-4o")), "gpt-4o");
  EXPECT_EQ(labels.model(labels.modelIndex("mistral")), "mistral");
  EXPECT_EQ(labels.model(labels.modelIndex("extra")), "extra");
  EXPECT_EQ(labels.modelIndex("llama-3"), LabelSpace::kOtherModel);  // globs are not labels
  EXPECT_EQ(labels.modelIndex("llama-*"), LabelSpace::kOtherModel);
  EXPECT_EQ(labels.modelCount(), 5u);  // none, other, gpt-4o, mistral, extra
  EXPECT_EQ(labels.endpoint(3), "127.0.0.1:3");
  EXPECT_EQ(labels.backend(labels.endpointBackend(3)), "b");
  EXPECT_EQ(labels.pairCount(), 3u);
  EXPECT_EQ(labels.pair(labels.pairIndex(2, 2)).route, 2u);
}

TEST(LabelSpace, StatusCodesAreBounded) {
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(200)), "200");
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(429)), "429");
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(418)), "4xx");
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(599)), "5xx");
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(0)), "none");
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(999)), "none");
}

TEST(Registry, MergesShardsAtScrape) {
  auto config = twoRouteConfig();
  Registry registry(config, 2);
  auto& a = registry.shard(0);
  auto& b = registry.shard(1);
  const auto gpt = registry.labels().modelIndex("gpt-4o");
  const auto pair = registry.labels().pairIndex(1, 1);
  a.requests.add(a.requestSeries(pair, gpt, LabelSpace::codeIndex(200)), 3);
  b.requests.add(b.requestSeries(pair, gpt, LabelSpace::codeIndex(200)), 4);
  a.timeToFirstToken.observe(a.backendModel(1, gpt), 0.02);
  b.timeToFirstToken.observe(b.backendModel(1, gpt), 0.3);
  b.timeToFirstToken.observe(b.backendModel(1, gpt), 100);
  a.inFlight.add(1, 2);
  b.inFlight.add(1, -1);
  const auto text = registry.scrape();
  EXPECT_NE(text.find("infergate_requests_total{route=\"r1\",backend=\"a\",model=\"gpt-4o\",code=\"200\"} 7"),
            std::string::npos) << text;
  EXPECT_NE(text.find("infergate_time_to_first_token_seconds_count{backend=\"a\",model=\"gpt-4o\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("infergate_time_to_first_token_seconds_bucket{backend=\"a\",model=\"gpt-4o\",le=\"0.025\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("infergate_time_to_first_token_seconds_bucket{backend=\"a\",model=\"gpt-4o\",le=\"0.3\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("infergate_time_to_first_token_seconds_bucket{backend=\"a\",model=\"gpt-4o\",le=\"+Inf\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("infergate_in_flight_requests{backend=\"a\"} 1"), std::string::npos);
  EXPECT_NE(text.find("infergate_build_info{version=\""), std::string::npos);
  EXPECT_NE(text.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(text.find("process_open_fds"), std::string::npos);
  // Series that never saw a value are not exported.
  EXPECT_EQ(text.find("model=\"mistral\""), std::string::npos);
}

TEST(Registry, CustomBucketsAreUsed) {
  auto config = twoRouteConfig();
  config.metrics.buckets.time_to_first_token = {0.5, 2};
  Registry registry(config, 1);
  auto& s = registry.shard(0);
  s.timeToFirstToken.observe(s.backendModel(1, LabelSpace::kOtherModel), 1);
  const auto text = registry.scrape();
  EXPECT_NE(text.find("infergate_time_to_first_token_seconds_bucket{backend=\"a\",model=\"other\",le=\"2\"} 1"),
            std::string::npos) << text;
}
