// The upstream exchange's decisions, driven state by state without sockets:
// what a deadline or a client leaving interrupts, which deadline expired, and
// what a failed attempt leads to.
#include "gateway/upstream/exchange_states.hpp"

#include <gtest/gtest.h>

namespace infergate {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

TEST(ExchangeStates, EachStateIsInterruptedThroughWhatItWaitsFor) {
  EXPECT_EQ(interruptFor(ExchangeState::Idle), Interrupt::Nothing);
  EXPECT_EQ(interruptFor(ExchangeState::WaitingSlot), Interrupt::LeaveWaitList);
  EXPECT_EQ(interruptFor(ExchangeState::Backoff), Interrupt::CancelBackoff);
  for (auto s : {ExchangeState::Connecting, ExchangeState::Sending, ExchangeState::Receiving})
    EXPECT_EQ(interruptFor(s), Interrupt::CloseUpstream) << static_cast<int>(s);
  for (auto s : {ExchangeState::Writing, ExchangeState::WritingError})
    EXPECT_EQ(interruptFor(s), Interrupt::CancelClientWrite) << static_cast<int>(s);
}

TEST(ExchangeStates, TheTotalDeadlineWinsOverThePhasesOwn) {
  const auto t0 = Clock::now();
  const auto phase = FailureCause::UpstreamFirstTokenTimeout;
  EXPECT_EQ(expiredDeadline(t0, t0 + milliseconds(10), t0 + milliseconds(5), phase), std::nullopt);
  EXPECT_EQ(expiredDeadline(t0 + milliseconds(5), t0 + milliseconds(10), t0 + milliseconds(5), phase), phase);
  EXPECT_EQ(expiredDeadline(t0 + milliseconds(10), t0 + milliseconds(10), t0 + milliseconds(5), phase),
            FailureCause::UpstreamTotalTimeout);
  EXPECT_EQ(expiredDeadline(t0, t0 + milliseconds(10), t0, FailureCause::Overloaded), FailureCause::Overloaded);
}

FailureFacts retryableReset() {
  FailureFacts f;
  f.cause = FailureCause::UpstreamReset;
  f.retryable = true;
  f.canRetry = true;
  return f;
}

TEST(ExchangeStates, AFailureBeforeTheAnswerIsRetriedOnlyWhenEverythingAllowsIt) {
  EXPECT_EQ(afterFailure(retryableReset()), AfterFailure::Retry);
  auto notRetryable = retryableReset();
  notRetryable.retryable = false;
  auto noBudget = retryableReset();
  noBudget.canRetry = false;
  auto elsewhere = retryableReset();
  elsewhere.sameFailureElsewhere = true;  // the request's doing: no point trying a third endpoint
  auto late = retryableReset();
  late.totalDeadlinePassed = true;
  for (const auto& f : {notRetryable, noBudget, elsewhere, late}) EXPECT_EQ(afterFailure(f), AfterFailure::LocalReply);
  auto headOnly = retryableReset();
  headOnly.answer = AnswerProgress::HeadRead;  // the head is read but nothing reached the client
  EXPECT_EQ(afterFailure(headOnly), AfterFailure::Retry);
}

TEST(ExchangeStates, AFailureAfterTheAnswerStartedIsNeverRetried) {
  auto stream = retryableReset();
  stream.answer = AnswerProgress::Started;
  stream.chunkedEventStream = true;
  EXPECT_EQ(afterFailure(stream), AfterFailure::StreamError);  // an in-band SSE error event
  stream.chunkedEventStream = false;
  EXPECT_EQ(afterFailure(stream), AfterFailure::Close);  // a cut body: closing tells the client
  stream.chunkedEventStream = true;
  stream.cause = FailureCause::ClientDisconnect;
  EXPECT_EQ(afterFailure(stream), AfterFailure::Close);  // nobody left to tell
}

}  // namespace
}  // namespace infergate
