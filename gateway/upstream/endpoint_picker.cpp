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

Pick EndpointPicker::pick(const BackendRuntime& backend, std::size_t index, const EndpointSet& tried,
                          std::uint64_t affinity) {
  // A half-open breaker may refuse between the check and the admission (another
  // worker took the probe): then try the others.
  EndpointSet skipped;
  for (std::size_t round = 0; round < backend.endpoints.size(); ++round) {
    const auto* e = choose(backend, index, skipped.empty() ? tried : skipped, affinity);
    if (e == nullptr) return {};
    auto admission = cluster_.endpoint(e->id).breaker.admit();
    if (admission.allowed) return {e, admission, lastAffinity_};
    if (skipped.empty()) skipped = tried;
    skipped.add(e->id);
  }
  return {};
}

// least_load. Endpoints whose fresh signals are over the backend's bounds
// (waiting, KV-cache use) are left out while others are not; of the rest,
// the lowest score, 2 x waiting + max(running, in flight from here), wins:
// the server's queue weighs double (a request there has not started), and
// infergate's own in-flight count stands in for a running count that is
// older or unknown. Unknown signals leave in flight alone: least_request.
// Ties go to a random one of them.
const EndpointRuntime* EndpointPicker::leastLoaded(const BackendRuntime& b, std::uint64_t affinity) {
  const auto& bounds = b.config->signals;
  const auto now = ClusterState::steadyNowNs();
  const auto over = [&](const EndpointRuntime* e) {
    const auto& s = cluster_.endpoint(e->id).signals;
    if (!s.fresh(now)) return false;
    return (bounds.max_waiting > 0 && s.waiting.load(std::memory_order_relaxed) > bounds.max_waiting) ||
           (bounds.max_kv_cache > 0 && s.kvCacheUsage.load(std::memory_order_relaxed) > bounds.max_kv_cache);
  };
  const auto overCount = static_cast<std::size_t>(std::count_if(candidates_.begin(), candidates_.end(), over));
  if (overCount > 0 && overCount < candidates_.size())
    candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(), over), candidates_.end());
  const auto score = [&](const EndpointRuntime* e) {
    const auto& state = cluster_.endpoint(e->id);
    const double inFlight = static_cast<double>(state.inFlight.load(std::memory_order_relaxed));
    if (!state.signals.fresh(now)) return inFlight;
    const double waiting = std::max(0.0, state.signals.waiting.load(std::memory_order_relaxed));
    const double running = state.signals.running.load(std::memory_order_relaxed);
    return 2 * waiting + std::max(running, inFlight);
  };
  const EndpointRuntime* best = nullptr;
  double bestScore = 0;
  std::size_t ties = 0;
  for (const auto* e : candidates_) {
    const double s = score(e);
    if (best == nullptr || s < bestScore) {
      best = e;
      bestScore = s;
      ties = 1;
    } else if (s == bestScore && random() % ++ties == 0) {
      best = e;  // reservoir choice: each tie equally likely
    }
  }
  const double factor = bounds.prefix_affinity;
  if (factor <= 0 || affinity == 0 || best == nullptr) return best;
  // Prefix affinity: the endpoint this opening ranks first (rendezvous
  // hashing: one that goes moves only its own share), while its load stays
  // within the bound of the least loaded.
  const EndpointRuntime* affine = nullptr;
  std::uint64_t top = 0;
  for (const auto* e : candidates_) {
    auto h = (affinity ^ e->nameHash) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 32;
    if (affine == nullptr || h > top) {
      affine = e;
      top = h;
    }
  }
  if (score(affine) <= factor * bestScore + 1) {
    lastAffinity_ = Pick::Affinity::Kept;
    return affine;
  }
  lastAffinity_ = Pick::Affinity::Moved;
  return best;
}

const EndpointRuntime* EndpointPicker::choose(const BackendRuntime& b, std::size_t backend,
                                              const EndpointSet& tried, std::uint64_t affinity) {
  candidates_.clear();
  lastAffinity_ = Pick::Affinity::None;
  for (const auto& e : b.endpoints)
    if (!tried.has(e.id) && cluster_.endpoint(e.id).breaker.admissible()) candidates_.push_back(&e);
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
    case config::LoadBalancing::LeastLoad: return leastLoaded(b, affinity);
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
