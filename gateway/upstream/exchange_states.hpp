#pragma once
// The upstream exchange's states and its decisions as pure functions of them:
// what an expired deadline or a client that left interrupts, which deadline
// expired, and what a failed attempt leads to. UpstreamExchange carries the
// decisions out with its sockets and timers; tests drive them without either.
#include <chrono>
#include <cstdint>
#include <optional>

#include "filters/core/errors.hpp"

namespace infergate {

// What the exchange waits for; one operation at most is pending.
enum class ExchangeState : std::uint8_t {
  Idle,          // no request
  WaitingSlot,   // in the primary backend's wait list (max_pending)
  Backoff,       // before a retry
  Connecting,    // TCP connect to the endpoint
  Sending,       // request head and body going upstream
  Receiving,     // reading the upstream's answer
  Writing,       // relaying answer bytes to the client
  WritingError,  // writing the in-band SSE error event of a failed stream
};

// How far the answer got.
enum class AnswerProgress : std::uint8_t {
  Awaiting,  // no final head yet
  HeadRead,  // the final head is parsed and the filters saw it
  Started,   // the head went to the client: no other attempt can follow
};

// How a deadline or a client leaving stops what the exchange waits for.
enum class Interrupt : std::uint8_t {
  Nothing,            // idle: no request to stop
  LeaveWaitList,      // give the place (or a slot handed over meanwhile) back; the request ends now
  CancelBackoff,      // stop the retry timer; the request ends
  CancelClientWrite,  // the pending client write fails and its handler ends the request
  CloseUpstream,      // the pending upstream operation fails and its handler routes the failure
};
Interrupt interruptFor(ExchangeState state);

// The deadline that expired at `now`, as a failure cause: the request's total
// deadline first, then the current phase's (connect, first token, idle, queue).
std::optional<FailureCause> expiredDeadline(std::chrono::steady_clock::time_point now,
                                            std::chrono::steady_clock::time_point total,
                                            std::chrono::steady_clock::time_point phase, FailureCause phaseCause);

// What a failed attempt leads to.
enum class AfterFailure : std::uint8_t {
  Retry,        // another attempt, after a backoff
  LocalReply,   // nothing reached the client: the session answers (502, 503, 504)
  StreamError,  // a started SSE stream ends with an in-band error event
  Close,        // a started answer that cannot be repaired: closing tells the client
};
struct FailureFacts {
  FailureCause cause = FailureCause::None;
  AnswerProgress answer = AnswerProgress::Awaiting;
  bool retryable = false;          // the planner retries this cause
  bool sameFailureElsewhere = false;  // the request already failed this way on another endpoint
  bool canRetry = false;           // attempts and retry budget left
  bool totalDeadlinePassed = false;
  bool chunkedEventStream = false;  // the answer is SSE relayed in chunks (room for an error event)
};
AfterFailure afterFailure(const FailureFacts& facts);

}  // namespace infergate
