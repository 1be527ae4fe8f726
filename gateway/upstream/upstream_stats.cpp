#include "gateway/upstream/upstream_stats.hpp"

namespace infergate {

UpstreamStats::UpstreamStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels) {
  using Zeros = metrics::FamilySpec::Zeros;
  retries = registry.counter<2>({"infergate_retries_total",
                                 "Retried attempts, by route, backend tried and the reason for the retry.",
                                 {labels.pairDimension(), metrics::causeDimension("reason")}});
  inFlight = registry.gauge<1>({"infergate_in_flight_requests", "Requests being proxied now, by backend.",
                                {labels.backendDimension(1)}, Zeros::Export});
  connections = registry.gauge<2>({"infergate_upstream_connections",
                                   "Upstream connections, by backend, endpoint and state.",
                                   {labels.endpointDimension(), metrics::Dimension::of("state", {"active", "idle"})},
                                   Zeros::Export});
  prefixAffinity = registry.counter<2>(
      {"infergate_prefix_affinity_total",
       "least_load with prefix_affinity: requests sent to their opening's endpoint (kept), and those sent to a "
       "less loaded one because it was over the bound (moved).",
       {labels.backendDimension(1), metrics::Dimension::of("result", {"kept", "moved"})}});
}

}  // namespace infergate
