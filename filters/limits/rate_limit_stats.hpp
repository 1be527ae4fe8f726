#pragma once
// Requests refused by a rate limit, by route, key and kind; what is left of
// each key's budgets (read at scrape); the shared store's failures and
// connections.
#include "filters/limits/limit_set.hpp"
#include "filters/limits/redis_store.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate::limits {

struct RateLimitStats {
  // `redis`: the shared store, when there is one (its failures and connections).
  RateLimitStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels, const RateLimiter& limiter,
                 const RedisStore* redis);
  metrics::Counter<3> limited;        // route, key, kind
  metrics::Counter<2> storeFailures;  // reason (StoreVerdict::Failure), outcome (admitted, refused)
};

}  // namespace infergate::limits
