// A client that goes away makes the gateway close its upstream connection at
// once (so the model server frees the slot), and that connection is not reused.
#include <gtest/gtest.h>
#include <unistd.h>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

class DisconnectTest : public ::testing::Test {
 protected:
  MockServer mock;
  Gateway gateway{standardConfig(mock.port())};

  // Closes `c`, waits for the mock to see the upstream close, and returns how
  // long after the client's close that was (both clocks are CLOCK_MONOTONIC).
  double closePropagationMs(Connection& c) {
    const auto before = mock.stats().at("client_closes").to_number<std::uint64_t>();
    const auto closedAt = monotonicNowNs();
    c.close();
    for (int i = 0; i < 200; ++i) {
      auto stats = mock.stats();
      if (stats.at("client_closes").to_number<std::uint64_t>() > before)
        return (stats.at("last_close_monotonic_ns").to_number<std::int64_t>() - closedAt) / 1e6;
      usleep(5'000);
    }
    return 1e9;
  }

  void expectFreshConnectionNext() {
    const auto connections = mock.stats().at("connections").to_number<std::uint64_t>();
    auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(mock.stats().at("connections").to_number<std::uint64_t>(), connections + 1);
  }
};

}  // namespace

TEST_F(DisconnectTest, MidStreamCloseReachesBackendWithin100ms) {
  Connection c(gateway.port());
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                  {"x-mock-tokens: 100", "x-mock-inter-token-ms: 50"}));
  auto first = c.read(std::chrono::milliseconds(300));  // part of the stream
  ASSERT_EQ(first.status, 200);
  ASSERT_FALSE(first.complete);
  double ms = closePropagationMs(c);
  EXPECT_GE(ms, 0.0);
  EXPECT_LT(ms, 100.0);
  expectFreshConnectionNext();
}

TEST_F(DisconnectTest, CloseWhileWaitingForFirstTokenReachesBackendWithin100ms) {
  Connection c(gateway.port());
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true), {"x-mock-first-token-ms: 5000"}));
  usleep(150'000);
  double ms = closePropagationMs(c);
  EXPECT_GE(ms, 0.0);
  EXPECT_LT(ms, 100.0);
  expectFreshConnectionNext();
}

TEST_F(DisconnectTest, CloseDuringNonStreamingRequestReachesBackendWithin100ms) {
  Connection c(gateway.port());
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-latency-ms: 5000"}));
  usleep(150'000);
  double ms = closePropagationMs(c);
  EXPECT_GE(ms, 0.0);
  EXPECT_LT(ms, 100.0);
  expectFreshConnectionNext();
}

TEST_F(DisconnectTest, HalfClosedClientIsTreatedAsGone) {
  Connection c(gateway.port());
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-latency-ms: 5000"}));
  usleep(100'000);
  const auto before = mock.stats().at("client_closes").to_number<std::uint64_t>();
  c.shutdownWrite();
  for (int i = 0; i < 100 && mock.stats().at("client_closes").to_number<std::uint64_t>() == before; ++i)
    usleep(5'000);
  EXPECT_EQ(mock.stats().at("client_closes").to_number<std::uint64_t>(), before + 1);
}
