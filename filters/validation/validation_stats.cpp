#include "filters/validation/validation_stats.hpp"

#include "filters/core/request_facts.hpp"

namespace infergate {

ValidationStats::ValidationStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels) {
  std::vector<std::string> reasons;
  for (std::uint32_t v = 0; v < static_cast<std::uint32_t>(InputViolation::Count); ++v)
    reasons.emplace_back(violationName(static_cast<InputViolation>(v)));
  rejected = registry.counter<2>({"infergate_input_rejected_total",
                                  "Requests breaking the input rules, by route and reason (rejected in enforce mode, "
                                  "counted and forwarded in observe mode).",
                                  {labels.routeDimension(), metrics::Dimension::of("reason", std::move(reasons), 1)},
                                  metrics::FamilySpec::Zeros::Skip,
                                  // Configured routes' series exist from the start, at zero.
                                  [this, &labels](std::span<const std::uint32_t> at) {
                                    return rejected.total({at[0], at[1]}) != 0 || labels.configuredRoute(at[0]);
                                  }});
}

}  // namespace infergate
