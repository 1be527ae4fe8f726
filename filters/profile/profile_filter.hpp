#pragma once
// Input profiling: counts each forwarded request's feature bins per model (the
// distributions behind drift detection) and marks a request whose features
// fall outside its model's baseline as an anomaly (RequestRecord::anomaly),
// which the sampling filter after it may always sample.
#include "filters/filter.hpp"
#include "filters/profile/baseline_view.hpp"
#include "filters/profile/features.hpp"
#include "filters/profile/profile_stats.hpp"
#include "filters/profile/vector_queue.hpp"

namespace infergate::profile {

class ProfileFilter final : public Filter {
 public:
  // Multivariate anomalies (drift.multivariate): the learnt forests, the queue
  // that hands request vectors to the drift monitor, and the threshold.
  struct Multivariate {
    const HalfSpaceForest* forest = nullptr;
    VectorQueue* vectors = nullptr;
    double threshold = 1;
  };
  // `baseline` may be null (no drift monitoring); `stats` null when neither
  // metrics nor drift are on; `multivariate.forest` null when that is off.
  ProfileFilter(const BinSpec& bins, const BaselineView* baseline, const ProfileStats* stats, Multivariate multivariate);
  std::string_view name() const override { return "profile"; }
  std::uint8_t phases() const override { return kOnRequest; }
  FilterStatus onRequest(RequestContext& ctx) override;

 private:
  const BinSpec& bins_;
  const BaselineView* baseline_;
  const ProfileStats* stats_;
  Multivariate multivariate_;
};

}  // namespace infergate::profile
