#include "gateway/upstream/cluster_state.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "gateway/net/coarse_clock.hpp"

namespace infergate {

// Coarse: breakers count seconds (ejections, failure windows), and every
// request's admission reads this clock.
std::int64_t ClusterState::steadyNowNs() { return CoarseSteadyClock::now().time_since_epoch().count(); }

ClusterState::ClusterState(const Runtime& runtime, CircuitBreaker::NowNs now) : now_(std::move(now)) {
  endpoints_.resize(std::max(runtime.endpointCapacity, runtime.endpointCount));
  for (const auto& backend : runtime.backends) {
    const auto& cb = backend.config->circuit_breaker;
    backends_.push_back(
        std::make_unique<BackendState>(static_cast<unsigned>(backend.endpoints.size()), cb.max_ejected_percent,
                                       backend.config->limits));
  }
  adopt(runtime);
}

void ClusterState::ensure(std::size_t id, std::size_t backend, const config::CircuitBreakerConfig& breaker) {
  if (!endpoints_[id])
    endpoints_[id] = std::make_unique<EndpointState>(breaker, now_, &backends_[backend]->ejections,
                                                     0x9E37 + id * 7919, boost::asio::ip::tcp::endpoint{});
}

void ClusterState::adopt(const Runtime& next) {
  const auto wasLive = std::exchange(live_, std::vector<char>(endpoints_.size(), 0));
  checked_.assign(endpoints_.size(), 0);
  for (std::size_t b = 0; b < next.backends.size(); ++b) {
    const auto& backend = next.backends[b];
    const auto& cb = backend.config->circuit_breaker;
    auto& state = *backends_[b];
    state.ejections.resize(static_cast<unsigned>(backend.endpoints.size()), cb.max_ejected_percent);
    state.slots.setLimits(backend.config->limits.max_in_flight, backend.config->limits.max_pending);
    for (const auto& e : backend.endpoints) {
      live_[e.id] = 1;
      checked_[e.id] = backend.config->health_check.enabled;
      const bool existed = endpoints_[e.id] != nullptr;
      ensure(e.id, b, cb);
      auto& endpoint = endpoints_[e.id];
      endpoint->breaker.reconfigure(cb);
      const auto& signals = backend.config->signals;
      const auto maxAge = signals.max_age.count() > 0 ? signals.max_age : 3 * signals.interval;
      endpoint->signals.maxAgeNs.store(
          signals.enabled ? std::chrono::duration_cast<std::chrono::nanoseconds>(maxAge).count() : 0,
          std::memory_order_relaxed);
      if (existed && (wasLive.empty() || !wasLive[e.id])) endpoint->breaker.attach(&state.ejections);  // back again
      // Resolved again for the reload: a name that moved moves now.
      if (e.address != boost::asio::ip::tcp::endpoint{} && endpoint->address.current() != e.address)
        endpoint->address.replace(e.address);
    }
  }
  for (std::size_t id = 0; id < wasLive.size(); ++id)
    if (wasLive[id] && !live_[id]) endpoints_[id]->breaker.detach();
}

}  // namespace infergate
