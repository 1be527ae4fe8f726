#pragma once
// What each model's frozen baseline has seen, published by the drift monitor
// and read by every worker without locks: one bit per bin, per model and
// feature. A request with a bin its model's baseline never saw is an anomaly
// (counted, and marked so output sampling can always capture it).
#include <atomic>
#include <cstdint>
#include <vector>

#include "filters/profile/features.hpp"

namespace infergate::profile {

class BaselineView {
 public:
  explicit BaselineView(std::size_t models) : seen_(models * kFeatureCount) {}
  // Control thread: bins with a non-zero baseline count for `model`/`feature`.
  void publish(std::size_t model, std::size_t feature, std::uint32_t mask) {
    seen_[model * kFeatureCount + feature].store(mask, std::memory_order_relaxed);
  }
  // Workers: the first feature whose bin the baseline never saw, or kFeatureCount.
  std::size_t unseenFeature(std::size_t model, const FeatureBins& bins) const {
    for (std::size_t f = 0; f < kFeatureCount; ++f) {
      const auto mask = seen_[model * kFeatureCount + f].load(std::memory_order_relaxed);
      if (mask != 0 && (mask & (1u << bins[f])) == 0) return f;
    }
    return kFeatureCount;
  }

 private:
  std::vector<std::atomic<std::uint32_t>> seen_;
};

}  // namespace infergate::profile
