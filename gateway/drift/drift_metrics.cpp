// The drift monitor's families: PSI, KS and the alert level per feature and
// model (this replica), and the frozen baselines' shares, from which
// Prometheus computes drift across the fleet.
#include "filters/profile/drift_stats.hpp"
#include "gateway/drift/drift_monitor.hpp"

namespace infergate {

using profile::Feature;
using profile::kFeatureCount;
using profile::kMaxBins;
using At = std::span<const std::uint32_t>;

namespace {
metrics::Dimension featureDimension() {
  std::vector<std::string> names;
  for (std::size_t f = 0; f < kFeatureCount; ++f) names.emplace_back(profile::featureName(static_cast<Feature>(f)));
  return metrics::Dimension::of("feature", std::move(names));
}

// A bin's label (`name`) depends on its feature (at[0]); bins a feature does not have are left out.
metrics::Dimension binDimension(const profile::BinSpec& bins, const char* name) {
  return metrics::Dimension(kMaxBins, [&bins, name](std::uint32_t b, At at, metrics::Labels& out) {
    const auto feature = static_cast<Feature>(at[0]);
    if (b >= bins.binCount(feature)) return false;
    out.push_back({name, std::string(bins.binLabel(feature, b))});
    return true;
  });
}
}  // namespace

// The baselines' shares, computed once per scrape.
void DriftMonitor::snapshotShares() {
  shares_.assign(models_.size() * kFeatureCount * kMaxBins, 0);
  for (std::size_t m = 0; m < models_.size(); ++m) {
    if (!models_[m].hasBaseline) continue;
    for (std::size_t f = 0; f < kFeatureCount; ++f) {
      const auto bins = bins_.binCount(static_cast<Feature>(f));
      const auto& baseline = models_[m].baseline;
      Counts b(baseline.begin() + static_cast<std::ptrdiff_t>(f * kMaxBins),
               baseline.begin() + static_cast<std::ptrdiff_t>(f * kMaxBins + bins));
      const auto s = profile::shares(b);
      std::copy(s.begin(), s.end(), shares_.begin() + static_cast<std::ptrdiff_t>((m * kFeatureCount + f) * kMaxBins));
    }
  }
}

// at = (feature, model, bin).
double DriftMonitor::baselineShare(At at, bool cumulative) const {
  const auto base = (at[1] * kFeatureCount + at[0]) * kMaxBins;
  if (!cumulative) return shares_[base + at[2]];
  double sum = 0;
  for (std::uint32_t b = 0; b <= at[2]; ++b) sum += shares_[base + b];
  return std::min(1.0, sum);
}

void DriftMonitor::declareStats(metrics::StatsRegistry& stats) {
  using Zeros = metrics::FamilySpec::Zeros;
  const auto evaluated = [this](At at) { return models_[at[1]].evaluated; };
  const auto result = [this](At at) -> const FeatureResult& { return models_[at[1]].results[at[0]]; };
  const std::vector<metrics::Dimension> dims{featureDimension(), labels_.modelDimension()};
  stats.gaugeFrom({"infergate_input_drift_psi", "PSI of the current window against the baseline (this replica).",
                   dims, Zeros::Skip, evaluated},
                  [result](At at) { return result(at).psi; });
  stats.gaugeFrom({"infergate_input_drift_ks", "Kolmogorov-Smirnov D for ordered features (this replica).", dims,
                   Zeros::Skip,
                   [evaluated](At at) { return evaluated(at) && profile::ordered(static_cast<Feature>(at[0])); }},
                  [result](At at) { return result(at).ks; });
  stats.gaugeFrom({"infergate_input_drift_alert", "0 no drift, 1 warn, 2 alert (this replica).", dims, Zeros::Skip,
                   evaluated},
                  [result](At at) { return static_cast<double>(result(at).alert); });
  stats.beforeScrape([this] { snapshotShares(); });
  stats.gaugeFrom({"infergate_input_baseline_share", "The frozen baseline's share of each feature bin.",
                   {featureDimension(), labels_.modelDimension(), binDimension(bins_, "bin")}, Zeros::Skip,
                   [this](At at) { return models_[at[1]].hasBaseline && baselineShare(at, false) != 0; }},
                  [this](At at) { return baselineShare(at, false); });
  stats.gaugeFrom({"infergate_input_baseline_cdf",
                   "The frozen baseline's cumulative share up to each bin (ordered features).",
                   {featureDimension(), labels_.modelDimension(), binDimension(bins_, "upto")}, Zeros::Skip,
                   [this](At at) { return models_[at[1]].hasBaseline && profile::ordered(static_cast<Feature>(at[0])); }},
                  [this](At at) { return baselineShare(at, true); });
}

}  // namespace infergate
