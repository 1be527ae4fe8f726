#pragma once
// Input profiling: counts each forwarded request's feature bins per model (the
// distributions behind drift detection) and marks a request whose features
// fall outside its model's baseline as an anomaly (RequestRecord::anomaly),
// which the sampling filter after it may always sample.
#include "filters/filter.hpp"
#include "filters/profile/baseline_view.hpp"
#include "filters/profile/features.hpp"
#include "filters/profile/profile_stats.hpp"

namespace infergate::profile {

class ProfileFilter final : public Filter {
 public:
  // `baseline` may be null (no drift monitoring); `stats` null when metrics are off.
  ProfileFilter(const BinSpec& bins, const BaselineView* baseline, const ProfileStats* stats);
  std::string_view name() const override { return "profile"; }
  std::uint8_t phases() const override { return kOnRequest; }
  FilterStatus onRequest(RequestContext& ctx) override;

 private:
  const BinSpec& bins_;
  const BaselineView* baseline_;
  const ProfileStats* stats_;
};

}  // namespace infergate::profile
