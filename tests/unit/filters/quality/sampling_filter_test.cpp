#include "filters/quality/sampling_filter.hpp"

#include <gtest/gtest.h>

#include <new>

#include "filters/core/kept_capacity.hpp"

#include "filters/quality/feedback_filter.hpp"
#include "tests/unit/filters/filter_fixture.hpp"

namespace infergate {
namespace {

using testing::FilterFixture;

// Stands in for the quality pipeline: keeps what it is handed.
class FakeHandoff final : public SampleHandoff {
 public:
  explicit FakeHandoff(double rate) {
    config_.rate = rate;
    config_.slow_first_token = std::chrono::milliseconds(0);
  }
  const config::SamplingConfig& config() const override { return config_; }
  bool admit() override { return budget-- > 0; }
  void offer(std::unique_ptr<OutputSample> sample) override { offered.push_back(std::move(sample)); }
  std::optional<std::uint32_t> feedback(std::string_view id, bool bad, std::optional<std::uint32_t>) override {
    if (id != "known") return std::nullopt;
    labels.push_back(bad);
    return 1;
  }
  config::SamplingConfig config_;
  int budget = 100;
  std::vector<std::unique_ptr<OutputSample>> offered;
  std::vector<bool> labels;
};

FilterRegistration sampling(FakeHandoff& handoff) {
  return testing::only("sampling", [&handoff](const FilterDependencies&, const RouteScope& s) {
    return std::make_unique<quality::SamplingFilter>(handoff, handoff.config_, quality::rateThreshold(handoff.config_.rate));
  });
}

// The request and a streamed answer through the chain, completed with `status`.
void streamThrough(FilterFixture& fx, const FilterChain& chain, const std::vector<std::string>& events,
                   unsigned status = 200) {
  ASSERT_EQ(chain.onRequest(fx.ctx), FilterStatus::Continue);
  fx.record.routed = true;
  fx.record.stream = true;
  fx.ctx.response = {status, true, false, true, false};
  chain.onResponseHeaders(fx.ctx);
  for (const auto& e : events) {
    fx.ctx.pieceArrived = RequestRecord::Clock::now();
    chain.onResponseData(fx.ctx, e);
  }
  fx.ctx.response.complete = true;
  chain.onResponseEnd(fx.ctx);
  fx.record.status = status;
  fx.record.done = RequestRecord::Clock::now();
  chain.onComplete(fx.ctx);
}

const std::vector<std::string> kStream{
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n",
    "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"};

TEST(SamplingFilter, SampledStreamIsReassembledAndHandedOver) {
  FilterFixture fx;
  FakeHandoff handoff(1.0);
  fx.build({sampling(handoff)}, &handoff);
  streamThrough(fx, fx.request("/v1/chat/completions", testing::chat("m-1")), kStream);
  ASSERT_EQ(handoff.offered.size(), 1u);
  const auto& s = *handoff.offered[0];
  EXPECT_EQ(s.reason, quality::SampleReason::Rate);
  EXPECT_EQ(s.requestId, "req-1");
  EXPECT_TRUE(s.stream);
  EXPECT_EQ(s.streamOutput.text, "Hello");
  EXPECT_TRUE(s.streamFinished);
  EXPECT_EQ(s.requestBody, testing::chat("m-1"));
}

TEST(SamplingFilter, UnsampledSuccessIsNotHandedOverButAFailureIs) {
  FilterFixture fx;
  FakeHandoff handoff(0.0);
  fx.build({sampling(handoff)}, &handoff);
  streamThrough(fx, fx.request("/v1/chat/completions", testing::chat("m-1")), kStream);
  EXPECT_TRUE(handoff.offered.empty());
  streamThrough(fx, fx.request("/v1/chat/completions", testing::chat("m-1")), kStream, 500);
  ASSERT_EQ(handoff.offered.size(), 1u);
  EXPECT_EQ(handoff.offered[0]->reason, quality::SampleReason::Error);
  EXPECT_EQ(handoff.offered[0]->streamOutput.text, "");  // not captured: only the record's facts
}

TEST(SamplingFilter, AnomaliesAreAlwaysSampled) {
  FilterFixture fx;
  FakeHandoff handoff(0.0);
  fx.build({sampling(handoff)}, &handoff);
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  fx.record.anomaly = true;  // as the profile filter before it marks it
  streamThrough(fx, chain, kStream);
  ASSERT_EQ(handoff.offered.size(), 1u);
  EXPECT_EQ(handoff.offered[0]->reason, quality::SampleReason::Anomaly);
  EXPECT_EQ(handoff.offered[0]->streamOutput.text, "Hello");
}

TEST(SamplingFilter, SlowFirstTokenIsDecidedAtTheFirstToken) {
  FilterFixture fx;
  FakeHandoff handoff(0.0);
  handoff.config_.slow_first_token = std::chrono::milliseconds(50);
  fx.build({sampling(handoff)}, &handoff);
  // Fast: the capture stops at the first token, nothing is handed over.
  streamThrough(fx, fx.request("/v1/chat/completions", testing::chat("m-1")), kStream);
  EXPECT_TRUE(handoff.offered.empty());
  // Slow: the request body was read 100 ms before the first token.
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  fx.record.bodyRead -= std::chrono::milliseconds(100);
  streamThrough(fx, chain, kStream);
  ASSERT_EQ(handoff.offered.size(), 1u);
  EXPECT_EQ(handoff.offered[0]->reason, quality::SampleReason::SlowFirstToken);
  EXPECT_EQ(handoff.offered[0]->streamOutput.text, "Hello");
}

TEST(SamplingFilter, JsonAnswerIsKeptUpToItsLimit) {
  FilterFixture fx;
  FakeHandoff handoff(1.0);
  fx.build({sampling(handoff)}, &handoff);
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  chain.onRequest(fx.ctx);
  fx.record.routed = true;
  fx.ctx.response = {200, false, true, true, false};
  ASSERT_TRUE(chain.onResponseHeaders(fx.ctx));
  chain.onResponseData(fx.ctx, "{\"choices\":");
  chain.onResponseData(fx.ctx, "[]}");
  fx.record.status = 200;
  chain.onComplete(fx.ctx);
  ASSERT_EQ(handoff.offered.size(), 1u);
  EXPECT_EQ(handoff.offered[0]->responseBody, "{\"choices\":[]}");
  EXPECT_FALSE(handoff.offered[0]->responseCut);
}

TEST(SamplingFilter, BudgetSpentMeansNothingIsHandedOver) {
  FilterFixture fx;
  FakeHandoff handoff(1.0);
  handoff.budget = 0;
  fx.build({sampling(handoff)}, &handoff);
  streamThrough(fx, fx.request("/v1/chat/completions", testing::chat("m-1")), kStream);
  EXPECT_TRUE(handoff.offered.empty());
}

// A long error answer captured for a sample that the budget then refused:
// the capture does not stay with the connection.
TEST(SamplingFilter, ACaptureDoesNotOutliveItsRequest) {
  FilterFixture fx;
  FakeHandoff handoff(0.0);
  handoff.budget = 0;
  fx.build({sampling(handoff)}, &handoff);
  auto& state = *std::launder(reinterpret_cast<quality::SamplingState*>(fx.ctx.states));  // the only filter
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  chain.onRequest(fx.ctx);
  fx.record.routed = true;
  fx.ctx.response = {500, false, true, true, false};
  ASSERT_TRUE(chain.onResponseHeaders(fx.ctx));  // errors are always sampled: captured
  const std::string body = R"({"error":{"message":")" + std::string(40'000, 'e') + R"("}})";
  for (std::size_t at = 0; at < body.size(); at += 4096) chain.onResponseData(fx.ctx, std::string_view(body).substr(at, 4096));
  EXPECT_GE(state.json.capacity(), body.size());
  fx.record.status = 500;
  chain.onComplete(fx.ctx);
  EXPECT_TRUE(handoff.offered.empty());
  EXPECT_LE(state.json.capacity(), kKeptCapacity);
}

TEST(FeedbackFilter, RecordsALabelAndAnswersItself) {
  FilterFixture fx;
  FakeHandoff handoff(0.0);
  fx.build({testing::only("feedback", [&](const FilterDependencies&, const RouteScope&) {
    return std::make_unique<quality::FeedbackFilter>(handoff, 7);
  })});
  auto& chain = fx.request("/v1/feedback", R"({"request_id":"known","label":"bad"})");
  ASSERT_EQ(chain.onRequest(fx.ctx), FilterStatus::LocalReply);
  EXPECT_EQ(fx.ctx.reply->error.status, 200u);
  EXPECT_EQ(fx.ctx.reply->body, R"({"request_id":"known","label":"bad","recorded":true})");
  EXPECT_EQ(handoff.labels, std::vector<bool>{true});
  EXPECT_EQ(fx.record.route, 7u);  // counted under the gateway's own route label

  fx.request("/v1/feedback", R"({"request_id":"other","score":0.9})").onRequest(fx.ctx);
  EXPECT_EQ(fx.ctx.reply->error.status, 404u);
  EXPECT_EQ(fx.ctx.reply->error.code, "unknown_request_id");
  fx.request("/v1/feedback", R"({"request_id":"known","score":2})").onRequest(fx.ctx);
  EXPECT_EQ(fx.ctx.reply->error.status, 400u);
  EXPECT_EQ(fx.ctx.reply->error.param, "score");
  fx.message.method(boost::beast::http::verb::get);
  fx.ctx.path = "/v1/feedback";
  chain.onRequest(fx.ctx);
  EXPECT_EQ(fx.ctx.reply->error.status, 405u);
  EXPECT_EQ(fx.ctx.reply->error.allow, "POST");
  EXPECT_EQ(fx.request("/v1/chat/completions", testing::chat("m-1")).onRequest(fx.ctx), FilterStatus::Continue);
}

}  // namespace
}  // namespace infergate
