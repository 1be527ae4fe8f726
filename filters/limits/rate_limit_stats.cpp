#include "filters/limits/rate_limit_stats.hpp"

namespace infergate::limits {

RateLimitStats::RateLimitStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels,
                               const RateLimiter& limiter, const RedisStore* redis) {
  std::vector<std::string> kinds;
  for (std::uint32_t k = 0; k < static_cast<std::uint32_t>(LimitKind::Count); ++k)
    kinds.emplace_back(limitKindName(static_cast<LimitKind>(k)));
  limited = registry.counter<3>({"infergate_rate_limited_total",
                                 "Requests refused with 429 by a rate limit, token budget or concurrency cap.",
                                 {labels.routeDimension(), labels.keyDimension(0), metrics::Dimension::of("kind", kinds)}});
  // What each key with limits has left now: requests (per minute, else per
  // second) and tokens per minute.
  // With a shared store: as the worker's last check of the key saw it.
  const bool shared = redis != nullptr;
  const auto remaining = [&limiter, shared](std::span<const std::uint32_t> at) -> std::optional<double> {
    const auto key = at[0];
    const auto* found = limiter.key(key);
    if (found == nullptr) return std::nullopt;
    const auto& set = *found;
    if (shared) {
      const auto* cell = at[1] == 0 ? (set.perMinute ? set.perMinute.get() : set.perSecond.get()) : set.tokens.get();
      const auto seen = set.sharedRemaining[at[1]].load(std::memory_order_relaxed);
      if (cell == nullptr) return std::nullopt;
      return static_cast<double>(seen < 0 ? cell->limit() : static_cast<std::uint64_t>(seen));
    }
    const Gcra* cell = at[1] == 0 ? (set.perMinute ? set.perMinute.get() : set.perSecond.get()) : set.tokens.get();
    if (cell == nullptr) return std::nullopt;
    return static_cast<double>(cell->remaining(steadyNowNs()));
  };
  registry.gaugeFrom({"infergate_rate_limit_remaining",
                      "What a client key's limits allow now: requests (per minute, else per second) and tokens per "
                      "minute.",
                      {labels.keyDimension(0), metrics::Dimension::of("kind", {"requests", "tokens"})},
                      metrics::FamilySpec::Zeros::Skip,
                      [remaining](std::span<const std::uint32_t> at) { return remaining(at).has_value(); }},
                     [remaining](std::span<const std::uint32_t> at) { return remaining(at).value_or(0); });
  if (redis == nullptr) return;
  std::vector<std::string> reasons;
  for (std::uint32_t f = 0; f < static_cast<std::uint32_t>(StoreVerdict::Failure::Count); ++f)
    reasons.emplace_back(storeFailureName(static_cast<StoreVerdict::Failure>(f)));
  storeFailures = registry.counter<2>(
      {"infergate_rate_limit_store_failures_total",
       "Rate-limit checks the shared store (Redis) did not answer, by reason, and what on_failure did with the "
       "request: admitted (fail_open) or refused with 503 (fail_closed).",
       {metrics::Dimension::of("reason", reasons), metrics::Dimension::of("outcome", {"admitted", "refused"})},
       metrics::FamilySpec::Zeros::Export});
  registry.gaugeFrom({"infergate_rate_limit_store_connected_workers",
                      "Workers whose connection to the shared rate-limit store (Redis) is up; each worker has one.",
                      {},
                      metrics::FamilySpec::Zeros::Export},
                     [redis](std::span<const std::uint32_t>) { return static_cast<double>(redis->connectedWorkers()); });
}

}  // namespace infergate::limits
