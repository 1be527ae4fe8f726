// The attempt planner's decisions, on the real cluster state, picker and
// breakers of a resolved config, with no socket: where attempts go, when the
// request is overloaded or every circuit is open, how retries are budgeted and
// delayed, and which failures count against an endpoint.
#include "gateway/upstream/attempt_planner.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gateway/upstream/worker_upstream_fixture.hpp"

namespace infergate {
namespace {

constexpr const char* kConfig =
    "backends:\n"
    "  - name: primary\n"
    "    endpoints: [{url: 'http://127.0.0.1:1001'}, {url: 'http://127.0.0.1:1002'}]\n"
    "    circuit_breaker: {consecutive_failures: 1, max_ejected_percent: 100, failure_statuses: [500]}\n"
    "    retry: {max_attempts: 3, backoff_base: 100ms, backoff_max: 1s, budget: 1.0}\n"
    "    limits: {max_in_flight: 1}\n"
    "  - name: spare\n"
    "    endpoints: [{url: 'http://127.0.0.1:2001'}]\n"
    "    circuit_breaker: {consecutive_failures: 1, max_ejected_percent: 100}\n"
    "routes:\n  - name: chat\n    backend: primary\n    fallbacks: [spare]\n";

class PlannerTest : public ::testing::Test, protected testing::WorkerUpstreamFixture {
 protected:
  PlannerTest() : WorkerUpstreamFixture(kConfig) {
    planner = std::make_unique<AttemptPlanner>(*upstream);
    planner->begin(*runtime, runtime->config.routes[0]);
  }
  std::string authority() const { return planner->endpoint().authority; }

  std::unique_ptr<AttemptPlanner> planner;
  RequestRecord record;
};

using Next = AttemptPlanner::Next;
using Verdict = AttemptPlanner::Verdict;

TEST_F(PlannerTest, TriesEachPrimaryEndpointThenTheFallback) {
  std::set<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(planner->next(), Next::Picked);
    EXPECT_EQ(planner->backend(), 0u);
    seen.insert(authority());
    planner->endAttempt(Verdict::Failure, FailureCause::UpstreamConnectError);
    planner->retryDelay(FailureCause::UpstreamConnectError, std::chrono::milliseconds(0));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"127.0.0.1:1001", "127.0.0.1:1002"}));
  // Both primary endpoints failed once and are open now: the fallback takes the third attempt.
  ASSERT_EQ(planner->next(), Next::Picked);
  EXPECT_EQ(planner->backend(), 1u);
  EXPECT_EQ(authority(), "127.0.0.1:2001");
  EXPECT_FALSE(planner->canRetry());  // max_attempts 3
  planner->finish(FailureCause::None, 200, record);
  EXPECT_EQ(cluster->backend(0).slots.inFlight(), 0);
  EXPECT_EQ(cluster->backend(1).slots.inFlight(), 0);
}

TEST_F(PlannerTest, OverloadedWhenEveryBackendIsAtItsCap) {
  ASSERT_TRUE(cluster->backend(0).slots.tryAcquire());  // max_in_flight 1, taken elsewhere
  ASSERT_EQ(planner->next(), Next::Picked);
  EXPECT_EQ(planner->backend(), 1u);  // the fallback has no cap
  planner->finish(FailureCause::None, 200, record);
  // With the fallback's endpoint open too, nothing takes the request.
  breaker("2001").onFailure(breaker("2001").admit());
  planner->begin(*runtime, runtime->config.routes[0]);
  EXPECT_EQ(planner->next(), Next::Overloaded);
}

TEST_F(PlannerTest, CircuitOpenWhenNoBreakerAdmits) {
  for (const auto* port : {"1001", "1002", "2001"}) breaker(port).onFailure(breaker(port).admit());
  EXPECT_EQ(planner->next(), Next::CircuitOpen);
  EXPECT_GE(planner->circuitRetryAfterSeconds(), 1u);
  EXPECT_EQ(cluster->backend(0).slots.inFlight(), 0);  // no slot kept for a refused request
}

TEST_F(PlannerTest, TheSameFailureOnTwoEndpointsIsTheRequestsNotTheirs) {
  ASSERT_EQ(planner->next(), Next::Picked);
  planner->endAttempt(Verdict::Failure, FailureCause::UpstreamReset);
  EXPECT_FALSE(planner->sameFailureElsewhere(FailureCause::UpstreamReset));
  planner->retryDelay(FailureCause::UpstreamReset, std::chrono::milliseconds(0));
  ASSERT_EQ(planner->next(), Next::Picked);
  EXPECT_TRUE(planner->sameFailureElsewhere(FailureCause::UpstreamReset));
  planner->endAttempt(Verdict::Failure, FailureCause::UpstreamReset);
  planner->finish(FailureCause::UpstreamReset, 0, record);
  EXPECT_EQ(breaker("1001").state(), CircuitBreaker::State::Closed);
  EXPECT_EQ(breaker("1002").state(), CircuitBreaker::State::Closed);
  EXPECT_EQ(cluster->backend(0).requestCausedFailures.load(), 2u);
}

TEST_F(PlannerTest, AHeldFailureSeenOnceIsTheEndpointsWhenTheAnswerStarts) {
  ASSERT_EQ(planner->next(), Next::Picked);
  const auto first = authority();
  planner->endAttempt(Verdict::Failure, FailureCause::UpstreamReset);
  EXPECT_EQ(breaker(first.substr(10)).state(), CircuitBreaker::State::Closed);  // held
  planner->settleHeldVerdicts();
  EXPECT_EQ(breaker(first.substr(10)).state(), CircuitBreaker::State::Open);
}

TEST_F(PlannerTest, VerdictsFollowTheBackendsRules) {
  ASSERT_EQ(planner->next(), Next::Picked);
  EXPECT_EQ(planner->verdictFor(FailureCause::None, 200, record), Verdict::Success);
  EXPECT_EQ(planner->verdictFor(FailureCause::None, 500, record), Verdict::Failure);  // failure_statuses
  EXPECT_EQ(planner->verdictFor(FailureCause::None, 503, record), Verdict::Success);
  EXPECT_EQ(planner->verdictFor(FailureCause::UpstreamTotalTimeout, 0, record), Verdict::Neutral);
  EXPECT_EQ(planner->verdictFor(FailureCause::ClientDisconnect, 0, record), Verdict::Neutral);
  EXPECT_EQ(planner->verdictFor(FailureCause::UpstreamConnectError, 0, record), Verdict::Failure);
  EXPECT_TRUE(planner->retryable(FailureCause::UpstreamConnectTimeout));
  EXPECT_FALSE(planner->retryable(FailureCause::UpstreamFirstTokenTimeout));  // retry.on_first_token_timeout off
  planner->finish(FailureCause::None, 200, record);
}

TEST_F(PlannerTest, BackoffIsJitteredExponentialAndHonoursRetryAfter) {
  for (unsigned attempt = 1; attempt <= 2; ++attempt) {
    const auto d = planner->retryDelay(FailureCause::UpstreamReset, std::chrono::milliseconds(0));
    const auto base = 100 << (attempt - 1);
    EXPECT_GE(d.count(), base / 2) << attempt;
    EXPECT_LT(d.count(), base * 3 / 2) << attempt;
  }
  EXPECT_EQ(planner->retryDelay(FailureCause::UpstreamReset, std::chrono::seconds(3)), std::chrono::seconds(3));
  EXPECT_EQ(planner->attempt(), 3u);
  EXPECT_EQ(planner->lastCause(), FailureCause::UpstreamReset);
}

}  // namespace
}  // namespace infergate
