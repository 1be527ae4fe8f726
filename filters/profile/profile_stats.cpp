#include "filters/profile/profile_stats.hpp"

namespace infergate::profile {

namespace {
metrics::Dimension featureDimension() {
  std::vector<std::string> names;
  for (std::size_t f = 0; f < kFeatureCount; ++f) names.emplace_back(featureName(static_cast<Feature>(f)));
  return metrics::Dimension::of("feature", std::move(names));
}

// A bin's label depends on its feature (at[0]); bins a feature does not have are left out.
metrics::Dimension binDimension(const BinSpec& bins) {
  return metrics::Dimension(kMaxBins, [&bins](std::uint32_t b, std::span<const std::uint32_t> at, metrics::Labels& out) {
    const auto feature = static_cast<Feature>(at[0]);
    if (b >= bins.binCount(feature)) return false;
    out.push_back({"bin", std::string(bins.binLabel(feature, b))});
    return true;
  });
}
}  // namespace

ProfileStats::ProfileStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels, const BinSpec& bins) {
  featureBins = registry.counter<3>(
      {"infergate_input_feature_bin_total",
       "Requests by input feature bin and model, for fleet-wide distribution and drift analysis.",
       {featureDimension(), labels.modelDimension(), binDimension(bins)}});
  // Cumulative counts of ordered features (bins up to and including `upto`),
  // computed at scrape time from the same counters, so that Prometheus can
  // compute KS distances fleet-wide (PromQL cannot accumulate over bin labels).
  registry.collector([this, &labels, &bins](std::vector<prometheus::MetricFamily>& out) {
    prometheus::MetricFamily cdf{"infergate_input_feature_cdf_total",
                                 "Requests with an ordered input feature at or below each bin (cumulative), by model.",
                                 prometheus::MetricType::Counter, {}};
    for (std::uint32_t f = 0; f < kFeatureCount; ++f) {
      const auto feature = static_cast<Feature>(f);
      if (!ordered(feature)) continue;
      for (std::uint32_t m = 0; m < labels.modelCount(); ++m) {
        std::vector<std::uint64_t> counts(bins.binCount(feature));
        std::uint64_t total = 0;
        for (std::uint32_t b = 0; b < counts.size(); ++b) total += counts[b] = featureBins.total({f, m, b});
        if (total == 0) continue;
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < counts.size(); ++b) {
          cumulative += counts[b];
          prometheus::ClientMetric metric;
          metric.counter.value = static_cast<double>(cumulative);
          metric.label = {{"feature", std::string(featureName(feature))}, {"model", labels.model(m)},
                          {"upto", std::string(bins.binLabel(feature, b))}};
          cdf.metric.push_back(std::move(metric));
        }
      }
    }
    out.push_back(std::move(cdf));
  });
  anomalies = registry.counter<2>(
      {"infergate_input_anomalies_total",
       "Requests with a feature bin their model's baseline never saw, by the first such feature.",
       {labels.modelDimension(), featureDimension()}});
}

}  // namespace infergate::profile
