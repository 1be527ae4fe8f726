#pragma once
// The access log's family: lines dropped because the writer fell behind.
#include "metrics/stats.hpp"

namespace infergate {

struct AccessLogStats {
  explicit AccessLogStats(metrics::StatsRegistry& registry)
      : dropped(registry.counter<0>({"infergate_access_log_dropped_total",
                                     "Access log lines dropped because the writer fell behind.",
                                     {},
                                     metrics::FamilySpec::Zeros::Export})) {}
  metrics::Counter<0> dropped;
};

}  // namespace infergate
