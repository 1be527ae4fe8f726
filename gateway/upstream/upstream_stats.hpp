#pragma once
// The upstream side's families: retries, requests in flight by backend, and
// upstream connections by endpoint and state.
#include "filters/request_metrics/request_stats.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate {

struct UpstreamStats {
  static constexpr std::uint32_t kActive = 0, kIdle = 1;  // connection states

  UpstreamStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels);
  metrics::Counter<2> retries;    // pair, reason (the failure that led to the retry)
  metrics::Gauge<1> inFlight;     // backend
  metrics::Gauge<2> connections;  // endpoint, state
  static constexpr std::uint32_t kAffinityKept = 0, kAffinityMoved = 1;
  metrics::Counter<2> prefixAffinity;  // backend, result
};

}  // namespace infergate
