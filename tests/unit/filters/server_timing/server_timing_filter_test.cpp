#include "filters/server_timing/server_timing_filter.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "tests/unit/filters/filter_fixture.hpp"

namespace infergate {
namespace {

// A chain of the one filter, with a chat request begun on it.
const FilterChain& serverTimingChain(testing::FilterFixture& fx) {
  fx.build({testing::only("server_timing", [](const FilterDependencies&, const RouteScope&) {
    return std::make_unique<ServerTimingFilter>();
  })});
  return fx.request("/v1/chat/completions", testing::chat("m-1"));
}

TEST(ServerTimingFilter, AddsUpstreamAndGatewayDurations) {
  testing::FilterFixture fx;
  const auto& chain = serverTimingChain(fx);
  auto& r = fx.record;
  const auto now = RequestRecord::Clock::now();
  r.bodyRead = now - std::chrono::milliseconds(30);
  r.upstreamStart = r.bodyRead;
  r.upstreamConnected = r.bodyRead + std::chrono::milliseconds(5);
  r.newConnection = true;
  r.requestSent = r.upstreamConnected;
  r.firstByte = r.requestSent + std::chrono::milliseconds(20);
  EXPECT_FALSE(chain.onResponseHeaders(fx.ctx));
  std::smatch m;
  ASSERT_TRUE(std::regex_match(fx.ctx.responseHeaders, m,
                               std::regex(R"(Server-Timing: upstream;dur=([0-9.]+), gateway;dur=([0-9.]+)\r\n)")))
      << fx.ctx.responseHeaders;
  EXPECT_NEAR(std::stod(m[1]), 25.0, 0.001);  // 20 ms to the first byte + 5 ms connecting
  EXPECT_GE(std::stod(m[2]), 0.0);
}

// Milliseconds with three decimals, written from whole microseconds: a
// fraction below 100 µs keeps its leading zeros.
TEST(ServerTimingFilter, WritesMillisecondsWithThreeDecimals) {
  testing::FilterFixture fx;
  const auto& chain = serverTimingChain(fx);
  auto& r = fx.record;
  const auto now = RequestRecord::Clock::now();
  r.bodyRead = now;
  r.upstreamStart = now;
  r.upstreamConnected = now;
  r.newConnection = false;
  r.requestSent = now;
  r.firstByte = now + std::chrono::microseconds(1'234'056);
  EXPECT_FALSE(chain.onResponseHeaders(fx.ctx));
  EXPECT_EQ(fx.ctx.responseHeaders.rfind("Server-Timing: upstream;dur=1234.056, gateway;dur=", 0), 0u)
      << fx.ctx.responseHeaders;
  fx.ctx.responseHeaders.clear();
  r.firstByte = now + std::chrono::microseconds(7);
  EXPECT_FALSE(chain.onResponseHeaders(fx.ctx));
  EXPECT_EQ(fx.ctx.responseHeaders.rfind("Server-Timing: upstream;dur=0.007, gateway;dur=", 0), 0u)
      << fx.ctx.responseHeaders;
}

}  // namespace
}  // namespace infergate
