#pragma once
// Chooses an endpoint of a backend for one attempt: only endpoints whose
// breaker admits a request and that this request has not tried yet, by the
// backend's load-balancing policy. One picker per worker (its round-robin and
// weighted state are the worker's own).
#include <cstdint>
#include <vector>

#include "gateway/upstream/circuit_breaker.hpp"
#include "gateway/upstream/cluster_state.hpp"
#include "gateway/server/runtime.hpp"

namespace infergate {

struct Pick {
  const EndpointRuntime* endpoint = nullptr;
  CircuitBreaker::Admission admission;
};

class EndpointPicker {
 public:
  EndpointPicker(const Runtime& runtime, ClusterState& cluster, std::uint64_t seed);
  // `tried[id]` marks endpoints this request already used.
  Pick pick(std::size_t backend, const std::vector<char>& tried);

 private:
  const EndpointRuntime* choose(std::size_t backend, const std::vector<char>& tried);
  std::uint64_t random();

  const Runtime& runtime_;
  ClusterState& cluster_;
  std::vector<std::size_t> roundRobin_;           // by backend
  std::vector<std::int64_t> weightedCurrent_;     // by endpoint id (smooth weighted round robin)
  std::uint64_t rng_;
  std::vector<const EndpointRuntime*> candidates_;  // scratch, capacity reused
};

}  // namespace infergate
