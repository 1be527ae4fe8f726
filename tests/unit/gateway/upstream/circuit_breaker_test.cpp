#include "gateway/upstream/circuit_breaker.hpp"

#include <gtest/gtest.h>

using namespace infergate;
using State = CircuitBreaker::State;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
  std::int64_t ns = 1'000'000'000'000;
  void advance(std::chrono::milliseconds d) { ns += d.count() * 1'000'000; }
  CircuitBreaker::NowNs fn() {
    return [this] { return ns; };
  }
};

config::CircuitBreakerConfig baseConfig() {
  config::CircuitBreakerConfig c;
  c.consecutive_failures = 3;
  c.failure_rate = 0;
  c.base_ejection = 10s;
  c.max_ejection = 60s;
  c.half_open_probes = 2;
  return c;
}

void fail(CircuitBreaker& b, int n) {
  for (int i = 0; i < n; ++i) b.onFailure(b.admit());
}

}  // namespace

TEST(CircuitBreaker, OpensAfterExactlyTheConfiguredConsecutiveFailures) {
  FakeClock clock;
  CircuitBreaker b(baseConfig(), clock.fn(), nullptr, 1);
  fail(b, 2);
  b.onSuccess(b.admit());  // a success resets the run
  fail(b, 2);
  EXPECT_EQ(b.state(), State::Closed);
  fail(b, 1);
  EXPECT_EQ(b.state(), State::Open);
  EXPECT_FALSE(b.admit().allowed);
  EXPECT_FALSE(b.admissible());
  EXPECT_EQ(b.transitionsTo(State::Open), 1u);
}

TEST(CircuitBreaker, HalfOpenAdmitsOnlyTheConfiguredProbesAndASuccessCloses) {
  FakeClock clock;
  CircuitBreaker b(baseConfig(), clock.fn(), nullptr, 1);
  fail(b, 3);
  clock.advance(8999ms);  // jitter is at most -10%: 9 s is still open
  EXPECT_FALSE(b.admit().allowed);
  clock.advance(2002ms);  // and at most +10%: 11 s is past it
  auto p1 = b.admit();
  auto p2 = b.admit();
  auto p3 = b.admit();
  EXPECT_TRUE(p1.allowed && p1.probe);
  EXPECT_TRUE(p2.allowed && p2.probe);
  EXPECT_FALSE(p3.allowed);
  EXPECT_EQ(b.state(), State::HalfOpen);
  b.onNeutral(p2);  // a probe without verdict frees its slot
  EXPECT_TRUE(b.admissible());
  b.onSuccess(p1);
  EXPECT_EQ(b.state(), State::Closed);
  EXPECT_TRUE(b.admit().allowed);
}

TEST(CircuitBreaker, EjectionTimeGrowsWithRepeatedEjectionsAndIsCapped) {
  FakeClock clock;
  CircuitBreaker b(baseConfig(), clock.fn(), nullptr, 7);
  std::vector<double> ejectSeconds;
  for (int round = 0; round < 8; ++round) {
    if (round == 0) fail(b, 3);
    else {
      // Past the ejection: the half-open probe fails, which re-opens with n + 1.
      clock.ns = b.openUntilNs();
      auto probe = b.admit();
      ASSERT_TRUE(probe.probe);
      b.onFailure(probe);
    }
    ASSERT_EQ(b.state(), State::Open);
    ejectSeconds.push_back(static_cast<double>(b.openUntilNs() - clock.ns) / 1e9);
    EXPECT_EQ(b.ejections(), static_cast<unsigned>(round + 1));
  }
  for (std::size_t n = 0; n < ejectSeconds.size(); ++n) {
    const double expected = std::min(10.0 * static_cast<double>(n + 1), 60.0);
    EXPECT_GE(ejectSeconds[n], expected * 0.9) << n;
    EXPECT_LE(ejectSeconds[n], expected * 1.1) << n;
  }
}

TEST(CircuitBreaker, EjectionCountDecaysWhileHealthy) {
  FakeClock clock;
  CircuitBreaker b(baseConfig(), clock.fn(), nullptr, 3);
  fail(b, 3);                     // n = 1
  clock.ns = b.openUntilNs();
  b.onFailure(b.admit());         // n = 2
  clock.ns = b.openUntilNs();
  b.onSuccess(b.admit());         // closed
  EXPECT_EQ(b.state(), State::Closed);
  clock.advance(121s);            // two max_ejection periods healthy: n decays by 2
  fail(b, 3);
  EXPECT_EQ(b.ejections(), 1u);
}

TEST(CircuitBreaker, FailureRateOverTheWindowNeedsMinimumRequests) {
  FakeClock clock;
  auto c = baseConfig();
  c.consecutive_failures = 0;
  c.failure_rate = 0.5;
  c.min_requests = 10;
  c.window = 10s;
  CircuitBreaker b(c, clock.fn(), nullptr, 1);
  for (int i = 0; i < 4; ++i) {
    b.onSuccess(b.admit());
    b.onFailure(b.admit());
  }
  EXPECT_EQ(b.state(), State::Closed);  // 50% is not above 50%, and only 8 requests
  b.onFailure(b.admit());               // 5 of 9
  EXPECT_EQ(b.state(), State::Closed);
  b.onFailure(b.admit());               // 6 of 10 > 50% with 10 requests
  EXPECT_EQ(b.state(), State::Open);
  EXPECT_NEAR(b.recentFailureRate(), 0.6, 1e-9);
  clock.advance(30s);
  EXPECT_EQ(b.recentFailureRate(), 0.0);  // the window has moved on
}

TEST(CircuitBreaker, MaxEjectedPercentKeepsPartOfTheBackendInService) {
  FakeClock clock;
  EjectionBudget budget(2, 50);
  CircuitBreaker a(baseConfig(), clock.fn(), &budget, 1);
  CircuitBreaker b(baseConfig(), clock.fn(), &budget, 2);
  fail(a, 3);
  fail(b, 3);
  EXPECT_EQ(a.state(), State::Open);
  EXPECT_EQ(b.state(), State::Closed);  // 2 x 50% = 1 endpoint may be out
  clock.ns = a.openUntilNs();
  a.onSuccess(a.admit());
  fail(b, 3);
  EXPECT_EQ(b.state(), State::Open);   // a came back, so b may go
}

TEST(CircuitBreaker, UnhealthyEndpointsAreNotAdmitted) {
  FakeClock clock;
  CircuitBreaker b(baseConfig(), clock.fn(), nullptr, 1);
  b.setHealthy(false);
  EXPECT_FALSE(b.admissible());
  EXPECT_FALSE(b.admit().allowed);
  b.setHealthy(true);
  EXPECT_TRUE(b.admit().allowed);
}

// A reload's settings apply to the next decisions; the state carries on.
TEST(CircuitBreaker, ReconfiguredSettingsKeepTheState) {
  FakeClock clock;
  CircuitBreaker b(baseConfig(), clock.fn(), nullptr, 1);
  fail(b, 3);
  ASSERT_EQ(b.state(), State::Open);
  auto looser = baseConfig();
  looser.consecutive_failures = 5;
  looser.half_open_probes = 1;
  b.reconfigure(looser);
  EXPECT_EQ(b.state(), State::Open);  // still ejected for the time it was given
  clock.advance(12s);
  const auto probe = b.admit();
  ASSERT_TRUE(probe.probe);
  EXPECT_FALSE(b.admit().allowed);  // one probe now
  b.onSuccess(probe);
  EXPECT_EQ(b.state(), State::Closed);
  fail(b, 4);
  EXPECT_EQ(b.state(), State::Closed);  // five in a row now
  fail(b, 1);
  EXPECT_EQ(b.state(), State::Open);
}
