#include "filters/profile/profile_stats.hpp"

namespace infergate::profile {

namespace {
metrics::Dimension featureDimension() {
  std::vector<std::string> names;
  for (std::size_t f = 0; f < kFeatureCount; ++f) names.emplace_back(featureName(static_cast<Feature>(f)));
  return metrics::Dimension::of("feature", std::move(names));
}

// A bin's label depends on its feature (at[0]); bins a feature does not have are left out.
metrics::Dimension binDimension(const BinSpec& bins, const char* name) {
  return metrics::Dimension(kMaxBins, [&bins, name](std::uint32_t b, std::span<const std::uint32_t> at,
                                                    metrics::Labels& out) {
    const auto feature = static_cast<Feature>(at[0]);
    if (b >= bins.binCount(feature)) return false;
    out.push_back({name, std::string(bins.binLabel(feature, b))});
    return true;
  });
}
}  // namespace

ProfileStats::ProfileStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels, const BinSpec& bins) {
  featureBins = registry.counter<3>(
      {"infergate_input_feature_bin_total",
       "Requests by input feature bin and model, for fleet-wide distribution and drift analysis.",
       {featureDimension(), labels.modelDimension(), binDimension(bins, "bin")}});
  // Cumulative counts of ordered features (bins up to and including `upto`),
  // computed at scrape time from the same counters, so that Prometheus can
  // compute KS distances fleet-wide (PromQL cannot accumulate over bin labels).
  // at = (feature, model, bin).
  auto upTo = [this](std::span<const std::uint32_t> at, std::uint32_t last) {
    std::uint64_t sum = 0;
    for (std::uint32_t b = 0; b <= last; ++b) sum += featureBins.total({at[0], at[1], b});
    return sum;
  };
  registry.counterFrom(
      {"infergate_input_feature_cdf_total",
       "Requests with an ordered input feature at or below each bin (cumulative), by model.",
       {featureDimension(), labels.modelDimension(), binDimension(bins, "upto")},
       metrics::FamilySpec::Zeros::Skip,
       [upTo, &bins](std::span<const std::uint32_t> at) {
         const auto feature = static_cast<Feature>(at[0]);
         return ordered(feature) && upTo(at, static_cast<std::uint32_t>(bins.binCount(feature) - 1)) != 0;
       }},
      [upTo](std::span<const std::uint32_t> at) { return static_cast<double>(upTo(at, at[2])); });
  anomalies = registry.counter<2>(
      {"infergate_input_anomalies_total",
       "Requests with a feature bin their model's baseline never saw, by the first such feature.",
       {labels.modelDimension(), featureDimension()},
       metrics::FamilySpec::Zeros::Skip,
       // The models configured routes serve have their series from the start, at zero.
       [this, &labels](std::span<const std::uint32_t> at) {
         return anomalies.total({at[0], at[1]}) != 0 ||
                (at[0] != metrics::LabelSpace::kNone && labels.modelServed(at[0]));
       }});
  const auto servedOrSeen = [&labels](std::span<const std::uint32_t> at) {
    return at[0] != metrics::LabelSpace::kNone && labels.modelServed(at[0]);
  };
  // The score is a rank among the model's baseline requests: the top buckets
  // are the ones alerts read.
  anomalyScore = registry.histogram<1>(
      {"infergate_input_anomaly_score",
       "Multivariate input anomaly score of each request against its model's baseline (the share of baseline "
       "requests that looked more usual, 0 to 1).",
       {labels.modelDimension()}},
      std::make_shared<const std::vector<double>>(
          std::vector<double>{0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999}));
  multivariateAnomalies = registry.counter<1>(
      {"infergate_input_multivariate_anomalies_total",
       "Requests whose multivariate anomaly score reached drift.multivariate.threshold, by model.",
       {labels.modelDimension()}, metrics::FamilySpec::Zeros::Skip,
       [this, servedOrSeen](std::span<const std::uint32_t> at) {
         return multivariateAnomalies.total({at[0]}) != 0 || servedOrSeen(at);
       }});
}

}  // namespace infergate::profile
