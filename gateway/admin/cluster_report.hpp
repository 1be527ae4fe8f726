#pragma once
// Read-only views of the shared cluster state, for the admin thread: Prometheus
// families (breaker states and transitions, overflow, health checks) and the
// /admin/backends JSON document.
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "gateway/upstream/cluster_state.hpp"
#include "gateway/server/runtime.hpp"

namespace infergate {

void appendClusterMetrics(const Runtime& runtime, const ClusterState& cluster,
                          std::vector<prometheus::MetricFamily>& out);

std::string backendsReport(const Runtime& runtime, const ClusterState& cluster);

}  // namespace infergate
