#pragma once
// State about backends and endpoints that every worker shares: circuit
// breakers, ejection budgets, and in-flight counts (for least_request and
// concurrency caps). All of it is atomics; only breaker transitions lock.
#include <atomic>
#include <memory>
#include <vector>

#include "gateway/upstream/backend_slots.hpp"
#include "gateway/upstream/circuit_breaker.hpp"
#include "gateway/upstream/endpoint_address.hpp"
#include "gateway/server/runtime.hpp"

namespace infergate {

struct EndpointState {
  EndpointState(const config::CircuitBreakerConfig& c, CircuitBreaker::NowNs now, EjectionBudget* budget,
                std::uint64_t seed, boost::asio::ip::tcp::endpoint address)
      : breaker(c, std::move(now), budget, seed), address(address) {}
  CircuitBreaker breaker;
  EndpointAddress address;  // resolved again while running when the endpoint names a host
  std::atomic<std::int64_t> inFlight{0};
  std::atomic<std::uint64_t> healthChecksOk{0};
  std::atomic<std::uint64_t> healthChecksFailed{0};
};

struct BackendState {
  BackendState(unsigned endpoints, unsigned maxEjectedPercent, const config::LimitsConfig& limits)
      : ejections(endpoints, maxEjectedPercent), slots(limits.max_in_flight, limits.max_pending) {}
  EjectionBudget ejections;
  BackendSlots slots;                            // max_in_flight and its wait list (max_pending)
  std::atomic<std::int64_t> retriesInFlight{0};  // attempts after the first, for the retry budget
  std::atomic<std::uint64_t> overflow{0};
  // Endpoint failures found to be the request's doing (the same failure on two
  // endpoints): kept out of the breakers.
  std::atomic<std::uint64_t> requestCausedFailures{0};
};

class ClusterState {
 public:
  explicit ClusterState(const Runtime& runtime, CircuitBreaker::NowNs now = steadyNowNs);
  EndpointState& endpoint(std::size_t id) { return *endpoints_[id]; }
  BackendState& backend(std::size_t index) { return *backends_[index]; }
  const EndpointState& endpoint(std::size_t id) const { return *endpoints_[id]; }
  const BackendState& backend(std::size_t index) const { return *backends_[index]; }
  static std::int64_t steadyNowNs();

 private:
  std::vector<std::unique_ptr<BackendState>> backends_;
  std::vector<std::unique_ptr<EndpointState>> endpoints_;
};

}  // namespace infergate
