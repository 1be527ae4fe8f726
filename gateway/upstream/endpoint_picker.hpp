#pragma once
// Chooses an endpoint of a backend for one attempt: only endpoints whose
// breaker admits a request and that this request has not tried yet, by the
// backend's load-balancing policy. One picker per worker (its round-robin and
// weighted state are the worker's own).
#include <cstdint>
#include <vector>

#include "gateway/upstream/circuit_breaker.hpp"
#include "gateway/upstream/cluster_state.hpp"
#include "gateway/upstream/endpoint_set.hpp"
#include "gateway/server/runtime.hpp"

namespace infergate {

struct Pick {
  const EndpointRuntime* endpoint = nullptr;
  CircuitBreaker::Admission admission;
  // Prefix affinity's verdict, for the caller's per-worker counters.
  enum class Affinity : std::uint8_t { None, Kept, Moved } affinity = Affinity::None;
};

class EndpointPicker {
 public:
  // `runtime`: the one at start (it sizes the per-backend and per-endpoint state).
  EndpointPicker(const Runtime& runtime, ClusterState& cluster, std::uint64_t seed);
  // Backend `index` as the request's config has it (`backend`); `tried` holds
  // the endpoints this request already used.
  // `affinity`: the request's prefix hash (RequestFacts::prefixHash), 0 for none.
  Pick pick(const BackendRuntime& backend, std::size_t index, const EndpointSet& tried,
            std::uint64_t affinity = 0);

 private:
  const EndpointRuntime* choose(const BackendRuntime& backend, std::size_t index, const EndpointSet& tried,
                                std::uint64_t affinity);
  const EndpointRuntime* leastLoaded(const BackendRuntime& backend, std::uint64_t affinity);
  std::uint64_t random();

  ClusterState& cluster_;
  std::vector<std::size_t> roundRobin_;           // by backend
  std::vector<std::int64_t> weightedCurrent_;     // by endpoint id (smooth weighted round robin)
  std::uint64_t rng_;
  std::vector<const EndpointRuntime*> candidates_;  // scratch, capacity reused
  Pick::Affinity lastAffinity_ = Pick::Affinity::None;  // the last choice's verdict
};

}  // namespace infergate
