#pragma once
// The validation filter's family: requests breaking the input rules.
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate {

struct ValidationStats {
  ValidationStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels);
  metrics::Counter<2> rejected;  // route, reason (InputViolation)
};

}  // namespace infergate
