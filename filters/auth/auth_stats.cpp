#include "filters/auth/auth_stats.hpp"

namespace infergate::auth {

AuthStats::AuthStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels) {
  requests = registry.counter<2>({"infergate_key_requests_total",
                                  "Requests admitted with each client API key, by route.",
                                  {labels.keyDimension(), labels.routeDimension()}});
  tokens = registry.counter<2>({"infergate_key_tokens_total",
                                "Tokens of the answers to each client API key (from usage), prompt and completion.",
                                {labels.keyDimension(), metrics::Dimension::of("kind", {"prompt", "completion"})}});
}

}  // namespace infergate::auth
