#include "gateway/upstream/exchange_states.hpp"

namespace infergate {

Interrupt interruptFor(ExchangeState state) {
  switch (state) {
    case ExchangeState::Idle: return Interrupt::Nothing;
    case ExchangeState::WaitingSlot: return Interrupt::LeaveWaitList;
    case ExchangeState::Backoff: return Interrupt::CancelBackoff;
    case ExchangeState::Writing:
    case ExchangeState::WritingError: return Interrupt::CancelClientWrite;
    case ExchangeState::Connecting:
    case ExchangeState::Sending:
    case ExchangeState::Receiving: return Interrupt::CloseUpstream;
  }
  return Interrupt::Nothing;
}

std::optional<FailureCause> expiredDeadline(std::chrono::steady_clock::time_point now,
                                            std::chrono::steady_clock::time_point total,
                                            std::chrono::steady_clock::time_point phase, FailureCause phaseCause) {
  if (now >= total) return FailureCause::UpstreamTotalTimeout;
  if (now >= phase) return phaseCause;
  return std::nullopt;
}

AfterFailure afterFailure(const FailureFacts& f) {
  if (f.answer != AnswerProgress::Started) {
    // A timeout of the request's own budget is final; a failure seen on another
    // endpoint too is the request's, not worth another try.
    if (f.cause != FailureCause::ClientDisconnect && f.retryable && !f.totalDeadlinePassed &&
        !f.sameFailureElsewhere && f.canRetry)
      return AfterFailure::Retry;
    return AfterFailure::LocalReply;
  }
  if (f.cause != FailureCause::ClientDisconnect && f.chunkedEventStream) return AfterFailure::StreamError;
  return AfterFailure::Close;
}

}  // namespace infergate
