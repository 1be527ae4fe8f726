#include "filters/request_metrics/recorder.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "metrics/stats.hpp"

using namespace infergate;
using namespace infergate::metrics;
using std::chrono::milliseconds;

namespace {
RequestRecord streamRecord() {
  RequestRecord r;
  const auto t0 = RequestRecord::Clock::now();
  r.route = 1;
  r.backend = 1;
  r.endpoint = 1;
  r.model = 2;
  r.routed = true;
  r.accepted = t0;
  r.bodyRead = t0 + milliseconds(2);
  r.upstreamStart = t0 + milliseconds(3);
  r.upstreamConnected = t0 + milliseconds(5);
  r.newConnection = true;
  r.requestSent = t0 + milliseconds(6);
  r.firstByte = t0 + milliseconds(10);
  r.firstToken = t0 + milliseconds(102);
  r.tokenEvents = 3;
  r.lastToken = t0 + milliseconds(152);
  r.lastByte = t0 + milliseconds(153);
  r.done = t0 + milliseconds(154);
  r.status = 200;
  r.stream = true;
  r.hasUsage = true;
  r.promptTokens = 11;
  r.completionTokens = 3;
  return r;
}
}  // namespace

TEST(DeriveTimings, FromRecordTimestamps) {
  auto t = deriveTimings(streamRecord());
  EXPECT_NEAR(t.total, 0.154, 1e-9);
  EXPECT_NEAR(t.upstreamConnect, 0.002, 1e-9);
  EXPECT_NEAR(t.upstreamFirstByte, 0.004, 1e-9);
  EXPECT_NEAR(t.timeToFirstToken, 0.100, 1e-9);
  EXPECT_NEAR(t.timePerOutputToken, 0.025, 1e-9);  // 50 ms over 2 tokens after the first
  // 154 total - 2 upload - 2 connect - 147 upstream (sent at 6 to last byte at 153) = 3 ms
  EXPECT_NEAR(t.gatewayOverhead, 0.003, 1e-9);
}

TEST(DeriveTimings, LocalRepliesHaveNoUpstreamTimings) {
  RequestRecord r;
  r.accepted = RequestRecord::Clock::now();
  r.done = r.accepted + milliseconds(1);
  auto t = deriveTimings(r);
  EXPECT_NEAR(t.total, 0.001, 1e-9);
  EXPECT_LT(t.upstreamFirstByte, 0);
  EXPECT_LT(t.timeToFirstToken, 0);
  EXPECT_LT(t.gatewayOverhead, 0);
}

// One route and backend ("chat", "m"), one model ("mock-model"): index 1 each, model 2.
struct OneRoute {
  config::Config config = [] {
    auto loaded = config::loadString(
        "backends:\n  - name: m\n    endpoints: [{url: 'http://127.0.0.1:1'}]\n"
        "routes:\n  - name: chat\n    models: [mock-model]\n    backend: m\n",
        "t.yaml");
    EXPECT_TRUE(loaded.ok());
    return std::move(loaded.config);
  }();
  LabelSpace labels{config};
  StatsRegistry registry{1};
  RequestStats stats{registry, labels, config.metrics.buckets};
};

TEST(RecordRequest, UpdatesEveryFamily) {
  OneRoute one;
  auto& [config, labels, registry, stats] = one;
  auto record = streamRecord();
  record.cause = FailureCause::UpstreamIdleTimeout;
  recordRequest(record, stats, 0, labels);
  const auto pair = labels.pairIndex(1, 1);
  EXPECT_EQ(stats.requests.total({pair, 2, LabelSpace::codeIndex(200)}), 1u);
  EXPECT_EQ(stats.failures.total({pair, static_cast<unsigned>(FailureCause::UpstreamIdleTimeout)}), 1u);
  EXPECT_EQ(stats.tokens.total({1, 2, 0}), 11u);
  EXPECT_EQ(stats.tokens.total({1, 2, 1}), 3u);
  EXPECT_EQ(stats.interTokenLatency.count({1, 2}), 0u);  // recorded as the stream goes (RecordTokenGaps)
  EXPECT_EQ(stats.timeToFirstToken.count({1, 2}), 1u);
  EXPECT_EQ(stats.upstreamConnect.count({1}), 1u);
  EXPECT_EQ(stats.streamsWithoutUsage.total({1, 2}), 0u);
  record.hasUsage = false;
  recordRequest(record, stats, 0, labels);
  EXPECT_EQ(stats.streamsWithoutUsage.total({1, 2}), 0u);  // cut by a timeout: a failure, not a stream without usage
  record.cause = FailureCause::ClientDisconnect;
  recordRequest(record, stats, 0, labels);
  EXPECT_EQ(stats.streamsWithoutUsage.total({1, 2}), 0u);  // left by its client
  record.cause = FailureCause::None;
  recordRequest(record, stats, 0, labels);
  EXPECT_EQ(stats.streamsWithoutUsage.total({1, 2}), 1u);
}

// A stream's gaps as its pieces come: 1 event at 100 ms, 2 in the piece at
// 120 ms, 1 at 150 ms: gaps of 20, 0 and 30 ms, nothing for the first token,
// nothing twice, and nothing held per token.
TEST(RecordTokenGaps, EachGapOnceAsTheStreamGoes) {
  OneRoute one;
  auto& [config, labels, registry, stats] = one;
  RequestRecord r;
  r.routed = true;
  r.backend = 1;
  r.model = 2;
  TokenGapCursor cursor;
  const auto t0 = RequestRecord::Clock::now();
  const auto piece = [&](int ms, std::uint32_t events) {
    r.tokenEvents += events;
    r.lastToken = t0 + milliseconds(ms);
    recordTokenGaps(r, cursor, stats, 0);
  };
  piece(100, 1);
  EXPECT_EQ(stats.interTokenLatency.count({1, 2}), 0u);
  piece(120, 2);
  EXPECT_EQ(stats.interTokenLatency.count({1, 2}), 2u);
  recordTokenGaps(r, cursor, stats, 0);  // no new event: nothing
  EXPECT_EQ(stats.interTokenLatency.count({1, 2}), 2u);
  piece(150, 1);
  EXPECT_EQ(stats.interTokenLatency.count({1, 2}), 3u);
  EXPECT_NE(registry.scrape().find("infergate_inter_token_latency_seconds_sum{backend=\"m\",model=\"mock-model\"} 0.05"),
            std::string::npos)
      << registry.scrape();
  // An unrouted request (a local reply) has no series of its own.
  RequestRecord local;
  local.tokenEvents = 2;
  TokenGapCursor other;
  recordTokenGaps(local, other, stats, 0);
  EXPECT_EQ(stats.interTokenLatency.count({1, 2}), 3u);
}
