#include "filters/profile/profile_filter.hpp"

#include "filters/request_metrics/request_stats.hpp"

namespace infergate::profile {

ProfileFilter::ProfileFilter(const BinSpec& bins, const BaselineView* baseline, bool countBins)
    : bins_(bins), baseline_(baseline), countBins_(countBins) {}

FilterStatus ProfileFilter::onRequest(RequestContext& ctx) {
  if (!ctx.jsonApi || (!countBins_ && baseline_ == nullptr)) return FilterStatus::Continue;
  const auto model = ctx.record->model;
  const auto bins = binsOf(*ctx.facts, bins_);
  auto& stats = *ctx.stats;
  if (countBins_)
    for (std::size_t f = 0; f < kFeatureCount; ++f) stats.featureBins.add(featureBinSlot(f, model, bins[f], stats.models));
  // The anomaly mark does not depend on metrics: sampling uses it too.
  if (baseline_ == nullptr) return FilterStatus::Continue;
  const auto feature = baseline_->anomalyFeature(model, bins);
  if (feature == kFeatureCount) return FilterStatus::Continue;
  ctx.record->anomaly = true;
  if (countBins_) stats.inputAnomalies.add(model * kFeatureCount + feature);
  return FilterStatus::Continue;
}

}  // namespace infergate::profile
