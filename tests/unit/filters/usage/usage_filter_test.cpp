#include "filters/usage/usage_filter.hpp"

#include <gtest/gtest.h>

#include <new>

#include "filters/core/kept_capacity.hpp"

#include "tests/unit/filters/filter_fixture.hpp"

namespace infergate {
namespace {

using testing::FilterFixture;

FilterRegistration usage() {
  return testing::only("usage", [](const FilterDependencies&, const RouteScope&) { return std::make_unique<UsageFilter>(); });
}

TEST(UsageFilter, TimesContentEventsAndReadsStreamUsage) {
  FilterFixture fx;
  fx.build({usage()});
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  fx.ctx.response = {200, true, false, true, false};
  ASSERT_TRUE(chain.onResponseHeaders(fx.ctx));
  const auto t0 = RequestRecord::Clock::now();
  const std::vector<std::string> pieces{
      "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n",  // no content: not a token
      "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"cont",
      "ent\":\"b\"},\"finish_reason\":\"stop\"}]}\n\n",
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n"};
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    fx.ctx.pieceArrived = t0 + std::chrono::milliseconds(10 * i);
    chain.onResponseData(fx.ctx, pieces[i]);
  }
  chain.onResponseEnd(fx.ctx);
  EXPECT_EQ(fx.record.firstToken, t0 + std::chrono::milliseconds(10));
  EXPECT_EQ(fx.record.lastToken, t0 + std::chrono::milliseconds(20));
  EXPECT_EQ(fx.record.tokenEvents, 2u);
  EXPECT_TRUE(fx.record.hasUsage);
  EXPECT_EQ(fx.record.promptTokens, 7u);
  EXPECT_EQ(fx.record.completionTokens, 2u);
  EXPECT_EQ(fx.record.contentEvents, 2u);
  EXPECT_TRUE(fx.record.streamFinished);
}

TEST(UsageFilter, ReadsJsonUsageOnlyFromAWholeAnswer) {
  FilterFixture fx;
  fx.build({usage()});
  const std::string answer = R"({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":9}})";
  for (bool complete : {true, false}) {
    const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
    fx.ctx.response = {200, false, true, true, false};
    ASSERT_TRUE(chain.onResponseHeaders(fx.ctx));
    chain.onResponseData(fx.ctx, answer.substr(0, 20));
    chain.onResponseData(fx.ctx, answer.substr(20));
    fx.ctx.response.complete = complete;
    chain.onResponseEnd(fx.ctx);
    EXPECT_EQ(fx.record.hasUsage, complete);
    EXPECT_EQ(fx.record.completionTokens, complete ? 9u : 0u);
  }
}

// The copy of a JSON answer (read for its usage at its end) is per
// connection: after a long answer's request it keeps no more than a short
// one needs, so an idle keep-alive connection holds nothing of it.
TEST(UsageFilter, ALongAnswersCopyDoesNotOutliveItsRequest) {
  FilterFixture fx;
  fx.build({usage()});
  // The only filter: its state is at the start of the block.
  auto& state = *std::launder(reinterpret_cast<UsageState*>(fx.ctx.states));
  const auto answer = [](std::size_t padding) {
    return R"({"choices":[{"message":{"content":")" + std::string(padding, 'a') +
           R"("}}],"usage":{"prompt_tokens":5,"completion_tokens":9}})";
  };
  for (const std::size_t padding : {40'000u, 500u}) {
    const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
    fx.ctx.response = {200, false, true, true, false};
    ASSERT_TRUE(chain.onResponseHeaders(fx.ctx));
    const auto body = answer(padding);
    for (std::size_t at = 0; at < body.size(); at += 4096) chain.onResponseData(fx.ctx, std::string_view(body).substr(at, 4096));
    fx.ctx.response.complete = true;
    chain.onResponseEnd(fx.ctx);
    EXPECT_EQ(fx.record.completionTokens, 9u);
    EXPECT_GE(state.json.capacity(), body.size());  // kept whole while the request runs
    chain.onComplete(fx.ctx);
    if (padding > kKeptCapacity) EXPECT_LE(state.json.capacity(), kKeptCapacity);
    else EXPECT_GE(state.json.capacity(), body.size());  // a short answer's room serves the next one
  }
}

TEST(UsageFilter, AsksForNoBodyItCannotRead) {
  FilterFixture fx;
  fx.build({usage()});
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  fx.ctx.response = {200, false, false, true, false};  // neither SSE nor JSON
  EXPECT_FALSE(chain.onResponseHeaders(fx.ctx));
}

}  // namespace
}  // namespace infergate
