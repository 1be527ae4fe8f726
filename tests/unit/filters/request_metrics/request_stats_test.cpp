#include "filters/request_metrics/request_stats.hpp"

#include <gtest/gtest.h>

#include "tests/unit/metrics/two_route_config.hpp"

using namespace infergate;
using namespace infergate::metrics;

using infergate::testing::twoRouteConfig;

TEST(RequestStats, MergesWorkersAtScrape) {
  auto config = twoRouteConfig();
  config.metrics.buckets.time_to_first_token = {0.025, 0.3, 60};
  LabelSpace labels(config);
  StatsRegistry registry(2);
  RequestStats stats(registry, labels, config.metrics.buckets);
  const auto gpt = labels.modelIndex("gpt-4o");
  const auto pair = labels.pairIndex(1, 1);
  stats.requests.add(0, {pair, gpt, LabelSpace::codeIndex(200)}, 3);
  stats.requests.add(1, {pair, gpt, LabelSpace::codeIndex(200)}, 4);
  stats.timeToFirstToken.observe(0, {1, gpt}, 0.02);
  stats.timeToFirstToken.observe(1, {1, gpt}, 0.3);
  stats.timeToFirstToken.observe(1, {1, gpt}, 100);
  stats.failures.add(1, {pair, static_cast<std::uint32_t>(FailureCause::UpstreamReset)});
  const auto text = registry.scrape();
  EXPECT_NE(text.find("infergate_requests_total{route=\"r1\",backend=\"a\",model=\"gpt-4o\",code=\"200\"} 7"),
            std::string::npos) << text;
  EXPECT_NE(text.find("infergate_failures_total{route=\"r1\",backend=\"a\",cause=\"upstream_reset\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("infergate_time_to_first_token_seconds_count{backend=\"a\",model=\"gpt-4o\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("infergate_time_to_first_token_seconds_bucket{backend=\"a\",model=\"gpt-4o\",le=\"0.025\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("infergate_time_to_first_token_seconds_bucket{backend=\"a\",model=\"gpt-4o\",le=\"0.3\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("infergate_time_to_first_token_seconds_bucket{backend=\"a\",model=\"gpt-4o\",le=\"+Inf\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("infergate_build_info{version=\""), std::string::npos);
  EXPECT_NE(text.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(text.find("process_open_fds"), std::string::npos);
  // Series that never saw a value are not exported, unless config says they
  // can occur (a configured route's failures, its models' tokens): those are
  // there from the start, at zero.
  EXPECT_EQ(text.find("infergate_requests_total{route=\"r1\",backend=\"a\",model=\"mistral\""), std::string::npos);
  EXPECT_EQ(text.find("infergate_time_to_first_token_seconds_count{backend=\"a\",model=\"mistral\""), std::string::npos);
  EXPECT_NE(text.find("infergate_failures_total{route=\"r1\",backend=\"a\",cause=\"upstream_connect_error\"} 0"),
            std::string::npos);
  EXPECT_EQ(text.find("infergate_failures_total{route=\"none\""), std::string::npos);
  EXPECT_EQ(text.find("infergate_failures_total{route=\"feedback\""), std::string::npos);
}

TEST(RequestStats, CustomBucketsAreUsed) {
  auto config = twoRouteConfig();
  config.metrics.buckets.time_to_first_token = {0.5, 2};
  LabelSpace labels(config);
  StatsRegistry registry(1);
  RequestStats stats(registry, labels, config.metrics.buckets);
  stats.timeToFirstToken.observe(0, {1, LabelSpace::kOtherModel}, 1);
  const auto text = registry.scrape();
  EXPECT_NE(text.find("infergate_time_to_first_token_seconds_bucket{backend=\"a\",model=\"other\",le=\"2\"} 1"),
            std::string::npos) << text;
}

TEST(RequestStats, ByteCountersOfAPairAppearTogether) {
  auto config = twoRouteConfig();
  LabelSpace labels(config);
  StatsRegistry registry(1);
  RequestStats stats(registry, labels, config.metrics.buckets);
  stats.requestBytes.add(0, {labels.pairIndex(1, 1)}, 120);  // a client that left before any answer byte
  const auto text = registry.scrape();
  EXPECT_NE(text.find("infergate_request_bytes_total{route=\"r1\",backend=\"a\"} 120"), std::string::npos) << text;
  EXPECT_NE(text.find("infergate_response_bytes_total{route=\"r1\",backend=\"a\"} 0"), std::string::npos);
  EXPECT_EQ(text.find("infergate_request_bytes_total{route=\"r2\""), std::string::npos);
}
