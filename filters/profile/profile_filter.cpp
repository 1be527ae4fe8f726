#include "filters/profile/profile_filter.hpp"


namespace infergate::profile {

ProfileFilter::ProfileFilter(const BinSpec& bins, const BaselineView* baseline, const ProfileStats* stats)
    : bins_(bins), baseline_(baseline), stats_(stats) {}

FilterStatus ProfileFilter::onRequest(RequestContext& ctx) {
  if (!ctx.jsonApi || (stats_ == nullptr && baseline_ == nullptr)) return FilterStatus::Continue;
  const auto model = ctx.record->model;
  const auto bins = binsOf(*ctx.facts, bins_);
  if (stats_)
    for (std::uint32_t f = 0; f < kFeatureCount; ++f) stats_->featureBins.add(ctx.worker, {f, model, bins[f]});
  // The anomaly mark does not depend on metrics: sampling uses it too.
  if (baseline_ == nullptr) return FilterStatus::Continue;
  const auto feature = baseline_->anomalyFeature(model, bins);
  if (feature == kFeatureCount) return FilterStatus::Continue;
  ctx.record->anomaly = true;
  if (stats_) stats_->anomalies.add(ctx.worker, {model, static_cast<std::uint32_t>(feature)});
  return FilterStatus::Continue;
}

}  // namespace infergate::profile
