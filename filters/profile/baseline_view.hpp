#pragma once
// What each model's frozen baseline has seen, published by the drift monitor
// and read by every worker without locks: one bit per usual bin, per model and
// feature. A request with at least `min_features` features in bins outside its
// model's baseline is an anomaly (counted, and marked so output sampling can
// always capture it). Which features are checked and how rare a bin must be to
// count as outside come from config (drift.anomaly); the rule costs a worker
// one relaxed load and one bit test per feature.
#include <atomic>
#include <cstdint>
#include <vector>

#include "filters/profile/features.hpp"

namespace infergate::profile {

// Bins of one feature's baseline counts holding more than `rareShare` of its
// requests (with 0: every bin seen at least once).
inline std::uint32_t usualBins(const std::uint64_t* counts, std::size_t bins, double rareShare) {
  std::uint64_t total = 0;
  for (std::size_t b = 0; b < bins; ++b) total += counts[b];
  std::uint32_t mask = 0;
  for (std::size_t b = 0; b < bins; ++b)
    if (counts[b] > 0 && static_cast<double>(counts[b]) > rareShare * static_cast<double>(total)) mask |= 1u << b;
  return mask;
}

class BaselineView {
 public:
  explicit BaselineView(std::size_t models, unsigned minFeatures = 1)
      : seen_(models * kFeatureCount), minFeatures_(minFeatures) {}
  // Control thread: the usual bins of `model`/`feature` (0: the feature is not checked).
  void publish(std::size_t model, std::size_t feature, std::uint32_t mask) {
    seen_[model * kFeatureCount + feature].store(mask, std::memory_order_relaxed);
  }
  // Workers: kFeatureCount when the request is not an anomaly; otherwise the
  // first feature outside the baseline (the one it is counted under).
  std::size_t anomalyFeature(std::size_t model, const FeatureBins& bins) const {
    std::size_t first = kFeatureCount;
    unsigned outside = 0;
    for (std::size_t f = 0; f < kFeatureCount; ++f) {
      const auto mask = seen_[model * kFeatureCount + f].load(std::memory_order_relaxed);
      if (mask == 0 || (mask & (1u << bins[f])) != 0) continue;
      if (outside++ == 0) first = f;
    }
    return outside >= minFeatures_ ? first : kFeatureCount;
  }

 private:
  std::vector<std::atomic<std::uint32_t>> seen_;
  unsigned minFeatures_;
};

}  // namespace infergate::profile
