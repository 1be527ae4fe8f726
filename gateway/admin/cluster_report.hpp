#pragma once
// Read-only views of the shared cluster state, for the admin thread: metric
// families (breaker states and transitions, overflow, health checks) and the
// /admin/backends JSON document.
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "gateway/upstream/cluster_state.hpp"
#include "gateway/server/runtime.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate {

// Declares the breaker, health-check and overflow families, read from `cluster` at scrape.
void declareClusterStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels,
                         const ClusterState& cluster);

std::string backendsReport(const Runtime& runtime, const ClusterState& cluster);

}  // namespace infergate
