#pragma once
// Usage per client key, so each team's requests and tokens are visible. Key
// names come from config only: a request without a known key is not counted
// here (it is a 401 in the request families).
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate::auth {

struct AuthStats {
  AuthStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels);
  metrics::Counter<2> requests;  // key, route
  metrics::Counter<2> tokens;    // key, kind (prompt, completion)
};

}  // namespace infergate::auth
