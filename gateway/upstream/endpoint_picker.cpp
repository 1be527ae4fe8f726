#include "gateway/upstream/endpoint_picker.hpp"

#include <algorithm>

namespace infergate {

EndpointPicker::EndpointPicker(const Runtime& runtime, ClusterState& cluster, std::uint64_t seed)
    : cluster_(cluster),
      roundRobin_(runtime.backends.size(), 0),
      weightedCurrent_(std::max(runtime.endpointCapacity, runtime.endpointCount), 0),
      rng_(seed | 1) {}

std::uint64_t EndpointPicker::random() {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return rng_;
}

Pick EndpointPicker::pick(const BackendRuntime& backend, std::size_t index, const std::vector<char>& tried) {
  // A half-open breaker may refuse between the check and the admission (another
  // worker took the probe): then try the others.
  std::vector<char> skipped;
  for (std::size_t round = 0; round < backend.endpoints.size(); ++round) {
    const auto* e = choose(backend, index, skipped.empty() ? tried : skipped);
    if (e == nullptr) return {};
    auto admission = cluster_.endpoint(e->id).breaker.admit();
    if (admission.allowed) return {e, admission};
    if (skipped.empty()) skipped = tried;
    skipped[e->id] = 1;
  }
  return {};
}

const EndpointRuntime* EndpointPicker::choose(const BackendRuntime& b, std::size_t backend,
                                              const std::vector<char>& tried) {
  candidates_.clear();
  for (const auto& e : b.endpoints)
    if (!tried[e.id] && cluster_.endpoint(e.id).breaker.admissible()) candidates_.push_back(&e);
  if (candidates_.empty()) return nullptr;
  switch (b.config->load_balancing) {
    case config::LoadBalancing::RoundRobin:
      return candidates_[roundRobin_[backend]++ % candidates_.size()];
    case config::LoadBalancing::LeastRequest: {
      // Power of two choices on in-flight counts across all workers.
      const auto* a = candidates_[random() % candidates_.size()];
      const auto* c = candidates_[random() % candidates_.size()];
      const auto load = [this](const EndpointRuntime* e) {
        return cluster_.endpoint(e->id).inFlight.load(std::memory_order_relaxed);
      };
      return load(c) < load(a) ? c : a;
    }
    case config::LoadBalancing::Weighted: {
      // Smooth weighted round robin (as nginx): spreads picks evenly by weight.
      std::int64_t total = 0;
      const EndpointRuntime* best = nullptr;
      for (const auto* e : candidates_) {
        const std::int64_t w = e->weight;
        weightedCurrent_[e->id] += w;
        total += w;
        if (best == nullptr || weightedCurrent_[e->id] > weightedCurrent_[best->id]) best = e;
      }
      weightedCurrent_[best->id] -= total;
      return best;
    }
  }
  return candidates_.front();
}

}  // namespace infergate
