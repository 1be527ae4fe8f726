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

// What the endpoint's model server last said about its load (signals):
// written by the scraper on the control thread, read by workers choosing an
// endpoint (least_load) and by the scrape of /metrics. A value below 0 is one
// the server does not export.
struct EndpointSignals {
  std::atomic<double> running{-1};
  std::atomic<double> waiting{-1};
  std::atomic<double> kvCacheUsage{-1};  // 0-1
  std::atomic<std::int64_t> atNs{0};     // steady ns of the last good scrape (0: none yet)
  std::atomic<std::int64_t> maxAgeNs{0};  // older is unknown; 0: the backend takes no signals
  std::atomic<std::uint64_t> scrapesOk{0};
  std::atomic<std::uint64_t> scrapesFailed{0};
  bool configured() const { return maxAgeNs.load(std::memory_order_relaxed) > 0; }
  // Known now: scraped within max age.
  bool fresh(std::int64_t nowNs) const {
    const auto at = atNs.load(std::memory_order_relaxed);
    return at != 0 && nowNs - at <= maxAgeNs.load(std::memory_order_relaxed);
  }
};

struct EndpointState {
  EndpointState(const config::CircuitBreakerConfig& c, CircuitBreaker::NowNs now, EjectionBudget* budget,
                std::uint64_t seed, boost::asio::ip::tcp::endpoint address)
      : breaker(c, std::move(now), budget, seed), address(address) {}
  CircuitBreaker breaker;
  EndpointAddress address;  // resolved again while running when the endpoint names a host
  std::atomic<std::int64_t> inFlight{0};
  std::atomic<std::uint64_t> healthChecksOk{0};
  std::atomic<std::uint64_t> healthChecksFailed{0};
  EndpointSignals signals;
};

struct BackendState {
  BackendState(unsigned endpoints, unsigned maxEjectedPercent, const config::LimitsConfig& limits)
      : ejections(endpoints, maxEjectedPercent), slots(limits.max_in_flight, limits.max_pending) {}
  EjectionBudget ejections;
  BackendSlots slots;                            // max_in_flight and its wait list (max_pending)
  std::atomic<std::int64_t> retriesInFlight{0};  // attempts after the first, for the retry budget
  std::atomic<std::uint64_t> overflow{0};
  std::atomic<std::uint64_t> shed{0};  // refused or sent on because every endpoint said it was over (signals)
  // Endpoint failures found to be the request's doing (the same failure on two
  // endpoints): kept out of the breakers.
  std::atomic<std::uint64_t> requestCausedFailures{0};
};

// Indexed by endpoint id and backend index, which keep their meaning across
// reloads: an endpoint that a reload keeps keeps its breaker, in-flight count
// and address; one it removes keeps its (idle) state, so that requests still
// on it finish and a later config may bring it back.
class ClusterState {
 public:
  explicit ClusterState(const Runtime& runtime, CircuitBreaker::NowNs now = steadyNowNs);
  // Control thread, before `next` is published to the workers: states for
  // its new endpoints, its breaker settings, caps and ejection budgets for
  // the ones that stay.
  void adopt(const Runtime& next);
  // Control thread, as a reload places endpoint `id` in backend `backend`:
  // its state exists from then on (its series are exported from then on too),
  // with the backend's breaker settings in force until adopt() sets the new.
  void ensure(std::size_t id, std::size_t backend, const config::CircuitBreakerConfig& breaker);
  EndpointState& endpoint(std::size_t id) { return *endpoints_[id]; }
  BackendState& backend(std::size_t index) { return *backends_[index]; }
  const EndpointState& endpoint(std::size_t id) const { return *endpoints_[id]; }
  const BackendState& backend(std::size_t index) const { return *backends_[index]; }
  // Control thread (adopt, scrapes): whether endpoint `id` is in the config in
  // force, and whether its backend runs health checks. Gauges of endpoints a
  // reload removed are not exported (an open breaker there alerts nobody).
  bool live(std::size_t id) const { return id < live_.size() && live_[id] != 0; }
  bool healthChecked(std::size_t id) const { return id < checked_.size() && checked_[id] != 0; }
  static std::int64_t steadyNowNs();

 private:
  CircuitBreaker::NowNs now_;
  std::vector<std::unique_ptr<BackendState>> backends_;
  std::vector<std::unique_ptr<EndpointState>> endpoints_;  // runtime.endpointCapacity places
  std::vector<char> live_, checked_;                        // by endpoint id
};

}  // namespace infergate
