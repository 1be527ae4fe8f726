#pragma once
// A per-endpoint circuit breaker, shared by every worker. The hot path (admit,
// record an outcome) uses atomics only; state transitions, which are rare, take
// a small mutex. Time comes from an injected clock so that the state machine is
// tested without sleeping.
//
//   CLOSED --(consecutive failures, or failure rate over the window)--> OPEN
//   OPEN --(base_ejection x n elapsed, jittered, capped)--> HALF_OPEN
//   HALF_OPEN --(probe succeeds)--> CLOSED     HALF_OPEN --(probe fails)--> OPEN (n+1)
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>

#include "config/config.hpp"

namespace infergate {

// How many endpoints of a backend are open, so that no breaker opens past
// max_ejected_percent.
class EjectionBudget {
 public:
  EjectionBudget(unsigned endpoints, unsigned maxPercent) : endpoints_(endpoints), maxPercent_(maxPercent) {}
  bool tryEject();
  void take() { ejected_.fetch_add(1, std::memory_order_relaxed); }  // an open breaker joins the backend
  // A reload changed the backend's endpoints or max_ejected_percent; who is
  // ejected now stays so.
  void resize(unsigned endpoints, unsigned maxPercent) {
    endpoints_.store(endpoints, std::memory_order_relaxed);
    maxPercent_.store(maxPercent, std::memory_order_relaxed);
  }
  void release() { ejected_.fetch_sub(1, std::memory_order_relaxed); }
  unsigned ejected() const { return ejected_.load(std::memory_order_relaxed); }

 private:
  std::atomic<unsigned> endpoints_;
  std::atomic<unsigned> maxPercent_;
  std::atomic<unsigned> ejected_{0};
};

class CircuitBreaker {
 public:
  enum class State : int { Closed = 0, Open = 1, HalfOpen = 2 };
  using NowNs = std::function<std::int64_t()>;

  struct Admission {
    bool allowed = false;
    bool probe = false;  // a half-open trial: report its outcome with the same flag
  };

  CircuitBreaker(const config::CircuitBreakerConfig& config, NowNs now, EjectionBudget* budget, std::uint64_t seed);
  // A reload's settings, for the next decisions: the state, the window's
  // counts and the ejection count carry on (an open breaker stays open until
  // the time it was given).
  void reconfigure(const config::CircuitBreakerConfig& config);
  // A reload removed the endpoint: an open breaker closes and gives its
  // place in the backend's ejection budget back (the endpoints in force must
  // not find it used up), and nothing it does later counts there. attach()
  // puts it back in a backend's budget when a config brings it back.
  void detach();
  void attach(EjectionBudget* budget);

  // Whether a request could be admitted now (no side effect; for choosing).
  bool admissible() const;
  // Takes admission (a probe slot when half-open).
  Admission admit();
  void onSuccess(const Admission& a);
  void onFailure(const Admission& a);
  // The request ended without a verdict on the endpoint (client left, 4xx).
  void onNeutral(const Admission& a);
  // Active health checks (when configured) take an endpoint out or put it back.
  void setHealthy(bool healthy) { healthy_.store(healthy, std::memory_order_relaxed); }
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }

  State state() const { return state_.load(std::memory_order_relaxed); }
  unsigned ejections() const { return ejections_.load(std::memory_order_relaxed); }
  std::int64_t openUntilNs() const { return openUntil_.load(std::memory_order_relaxed); }
  double recentFailureRate() const;  // over the window; 0 when empty
  std::uint64_t transitionsTo(State s) const { return transitions_[static_cast<int>(s)].load(std::memory_order_relaxed); }

 private:
  struct Slot {
    std::atomic<std::int64_t> second{-1};
    std::atomic<std::uint32_t> ok{0};
    std::atomic<std::uint32_t> failed{0};
  };
  static constexpr std::size_t kSlots = 64;  // window resolution: window / kSlots, at least 1 s

  void count(bool failed);
  void windowTotals(std::uint64_t& ok, std::uint64_t& failed) const;
  void open(std::int64_t now);  // mutex held
  void close(std::int64_t now);  // mutex held
  void setState(State s);

  // The settings, as atomics: a reload writes them while workers decide.
  struct Tuning {
    std::atomic<unsigned> consecutiveFailures{0};
    std::atomic<double> failureRate{0};
    std::atomic<unsigned> minRequests{0};
    std::atomic<unsigned> halfOpenProbes{0};
    std::atomic<std::int64_t> baseEjectionNs{0};
    std::atomic<std::int64_t> maxEjectionNs{0};
    std::atomic<std::int64_t> windowNs{0};
  };
  Tuning tuning_;
  NowNs now_;
  EjectionBudget* budget_;
  std::int64_t slotNs_;  // fixed at start: the window's slots keep their meaning when the window changes
  std::atomic<State> state_{State::Closed};
  std::atomic<unsigned> consecutive_{0};
  std::atomic<std::int64_t> openUntil_{0};
  std::atomic<unsigned> probes_{0};
  std::atomic<unsigned> ejections_{0};
  std::atomic<bool> healthy_{true};
  std::array<Slot, kSlots> slots_;
  std::array<std::atomic<std::uint64_t>, 3> transitions_{};
  std::mutex transition_;
  std::int64_t lastClosedNs_ = 0;
  std::uint64_t rng_;
};

}  // namespace infergate
