#include "filters/profile/profile_filter.hpp"

namespace infergate::profile {

ProfileFilter::ProfileFilter(const BinSpec& bins, const BaselineView* baseline, const ProfileStats* stats,
                             Multivariate multivariate)
    : bins_(bins), baseline_(baseline), stats_(stats), multivariate_(multivariate) {}

FilterStatus ProfileFilter::onRequest(RequestContext& ctx) {
  if (!ctx.jsonApi || (stats_ == nullptr && baseline_ == nullptr)) return FilterStatus::Continue;
  const auto model = ctx.record->model;
  const auto bins = binsOf(*ctx.facts, bins_);
  if (stats_)
    for (std::uint32_t f = 0; f < kFeatureCount; ++f) stats_->featureBins.add(ctx.worker, {f, model, bins[f]});
  if (multivariate_.forest != nullptr) {
    // The vector goes to the drift monitor (which learns each model's forest
    // from its baseline requests) and is scored here once that forest exists.
    const auto vector = vectorOf(*ctx.facts);
    multivariate_.vectors->push(ctx.worker, model, vector);
    const double score = multivariate_.forest->anomalyScore(model, vector);
    if (score >= 0 && stats_) {
      stats_->anomalyScore.observe(ctx.worker, {model}, score);
      if (score >= multivariate_.threshold) stats_->multivariateAnomalies.add(ctx.worker, {model});
    }
  }
  // The anomaly mark does not depend on metrics: sampling uses it too.
  if (baseline_ == nullptr) return FilterStatus::Continue;
  const auto feature = baseline_->anomalyFeature(model, bins);
  if (feature == kFeatureCount) return FilterStatus::Continue;
  ctx.record->anomaly = true;
  if (stats_) stats_->anomalies.add(ctx.worker, {model, static_cast<std::uint32_t>(feature)});
  return FilterStatus::Continue;
}

}  // namespace infergate::profile
