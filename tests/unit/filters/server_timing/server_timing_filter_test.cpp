#include "filters/server_timing/server_timing_filter.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "tests/unit/filters/filter_fixture.hpp"

namespace infergate {
namespace {

TEST(ServerTimingFilter, AddsUpstreamAndGatewayDurations) {
  testing::FilterFixture fx;
  fx.build({testing::only("server_timing", [](const FilterDependencies&, const RouteScope&) {
    return std::make_unique<ServerTimingFilter>();
  })});
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
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

}  // namespace
}  // namespace infergate
