#pragma once
// Requests refused by a rate limit, by route, key and kind; and what is left
// of each key's budgets (read at scrape).
#include "filters/limits/limit_set.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate::limits {

struct RateLimitStats {
  RateLimitStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels, const RateLimiter& limiter);
  metrics::Counter<3> limited;  // route, key, kind
};

}  // namespace infergate::limits
