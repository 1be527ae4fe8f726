#include "filters/limits/rate_limit_stats.hpp"

namespace infergate::limits {

RateLimitStats::RateLimitStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels,
                               const RateLimiter& limiter) {
  std::vector<std::string> kinds;
  for (std::uint32_t k = 0; k < static_cast<std::uint32_t>(LimitKind::Count); ++k)
    kinds.emplace_back(limitKindName(static_cast<LimitKind>(k)));
  limited = registry.counter<3>({"infergate_rate_limited_total",
                                 "Requests refused with 429 by a rate limit, token budget or concurrency cap.",
                                 {labels.routeDimension(), labels.keyDimension(0), metrics::Dimension::of("kind", kinds)}});
  // What each key with limits has left now: requests (per minute, else per
  // second) and tokens per minute.
  const auto remaining = [&limiter](std::span<const std::uint32_t> at) -> std::optional<double> {
    const auto key = at[0];
    if (key == 0 || key > limiter.keys.size() || !limiter.keys[key - 1]) return std::nullopt;
    const auto& set = *limiter.keys[key - 1];
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
}

}  // namespace infergate::limits
