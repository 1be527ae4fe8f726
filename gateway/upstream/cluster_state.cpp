#include "gateway/upstream/cluster_state.hpp"

#include <chrono>

#include "gateway/net/coarse_clock.hpp"

namespace infergate {

// Coarse: breakers count seconds (ejections, failure windows), and every
// request's admission reads this clock.
std::int64_t ClusterState::steadyNowNs() { return CoarseSteadyClock::now().time_since_epoch().count(); }

ClusterState::ClusterState(const Runtime& runtime, CircuitBreaker::NowNs now) {
  endpoints_.resize(runtime.endpointCount);
  for (const auto& backend : runtime.backends) {
    const auto& cb = backend.config->circuit_breaker;
    backends_.push_back(
        std::make_unique<BackendState>(static_cast<unsigned>(backend.endpoints.size()), cb.max_ejected_percent,
                                       backend.config->limits));
    for (const auto& e : backend.endpoints)
      endpoints_[e.id] =
          std::make_unique<EndpointState>(cb, now, &backends_.back()->ejections, 0x9E37 + e.id * 7919, e.address);
  }
}

}  // namespace infergate
