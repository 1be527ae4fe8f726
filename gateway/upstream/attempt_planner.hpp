#pragma once
// Decides where each attempt of one request goes and whether another may
// follow: the route's backend, then its fallbacks in order; on each, an
// endpoint not tried yet whose breaker admits it (the worker's picker); a
// slot under the backend's concurrency cap; retries within max_attempts and
// the retry budget, after a jittered backoff of at least Retry-After. It also
// reports each attempt's verdict to its endpoint's breaker. It does no I/O:
// the exchange carries out what it decides (unit-tested without sockets).
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "filters/core/errors.hpp"
#include "filters/core/request_record.hpp"
#include "gateway/upstream/worker_upstream.hpp"

namespace infergate {

class AttemptPlanner {
 public:
  enum class Verdict : std::uint8_t { Success, Failure, Neutral };
  enum class Next : std::uint8_t {
    Picked,       // endpoint() and backend() say where the attempt goes
    Overloaded,   // every backend is at its concurrency cap
    Shed,         // every backend left says it is over its shedding bounds (signals)
    CircuitOpen,  // no endpoint's breaker admits a request
    Exhausted,    // a retry found nowhere left: the request ends with lastCause()
  };

  explicit AttemptPlanner(WorkerUpstream& upstream) : up_(upstream) {}
  // `runtime`: the config the request started on (it finishes on it).
  // `affinity`: the request's prefix hash (0: none).
  void begin(const Runtime& runtime, const config::RouteConfig& route, std::uint64_t affinity = 0);
  Next next();

  const EndpointRuntime& endpoint() const { return *endpoint_; }
  std::size_t backend() const { return backendIndex_; }
  const config::BackendConfig& backendConfig() const { return *runtime_->backends[backendIndex_].config; }
  const config::BackendConfig& primaryConfig() const { return *runtime_->backends[route_->backend_index].config; }
  unsigned attempt() const { return attempt_; }
  FailureCause lastCause() const { return lastCause_; }

  // The primary backend's slots: a request finding every backend full may wait there.
  BackendSlots& primarySlots() { return up_.cluster.backend(route_->backend_index).slots; }
  // After a wait: the slot handed over is held, and the walk starts again at the primary.
  void adoptPrimarySlot();
  void countOverflow();

  // Ends the attempt under way; its verdict reaches the breaker now or, for a
  // failure that may be the request's, when the request's answer starts.
  void endAttempt(Verdict verdict, FailureCause cause = FailureCause::None);
  bool attemptOpen() const { return attemptOpen_; }
  // `status`: the upstream's, 0 when no head arrived.
  Verdict verdictFor(FailureCause cause, unsigned status, const RequestRecord& record) const;
  bool retryable(FailureCause cause) const;
  bool sameFailureElsewhere(FailureCause cause) const;
  bool canRetry() const;
  bool hasAlternative() const;
  // Another attempt follows `reason`: returns how long to wait first.
  std::chrono::milliseconds retryDelay(FailureCause reason, std::chrono::milliseconds retryAfter);
  // The answer starts (no attempt can follow) or the request ends: held
  // failures seen on two endpoints are the request's, the others the endpoint's.
  void settleHeldVerdicts();
  // The request is over: verdicts settled, slot released.
  void finish(FailureCause cause, unsigned status, const RequestRecord& record);
  // For a 503 circuit_open: seconds until the first endpoint leaves OPEN.
  unsigned circuitRetryAfterSeconds() const;
  // Gives the backend's concurrency slot back (the answer is whole); also done by finish().
  void releaseSlot();

 private:
  bool holdSlot(std::size_t backend);
  bool shedding(std::size_t backend) const;
  std::size_t backendAt(std::size_t cursor) const;
  std::size_t backendCount() const { return 1 + route_->fallback_indexes.size(); }
  void start(std::size_t backend, const Pick& pick);

  WorkerUpstream& up_;
  const Runtime* runtime_ = nullptr;
  std::uint64_t affinity_ = 0;
  const config::RouteConfig* route_ = nullptr;
  const EndpointRuntime* endpoint_ = nullptr;
  std::size_t backendIndex_ = 0;
  std::size_t backendCursor_ = 0;
  std::int64_t slotBackend_ = -1;  // backend whose slot this request holds
  unsigned attempt_ = 0;
  EndpointSet tried_;
  CircuitBreaker::Admission admission_;
  bool attemptOpen_ = false;
  FailureCause lastCause_ = FailureCause::None;
  // Failures that may be the request's doing (a reset, a first-token timeout)
  // are judged later: the same failure on two endpoints is the request's, and
  // counts against neither (Envoy keeps such upstream-origin failures apart
  // from local-origin ones such as connect errors).
  struct HeldVerdict {
    std::size_t endpointId;
    std::size_t backend;
    CircuitBreaker::Admission admission;
    FailureCause cause;
  };
  static constexpr std::size_t kMaxHeld = 4;
  // Made by the first failure held (most requests never fail): a stream does
  // not carry 96 idle bytes for its life. Read only below heldCount_.
  std::unique_ptr<std::array<HeldVerdict, kMaxHeld>> held_;
  std::size_t heldCount_ = 0;
};

}  // namespace infergate
