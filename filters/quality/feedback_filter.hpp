#pragma once
// POST /v1/feedback: a human label for a sampled request, answered by the
// gateway itself. {"request_id": "...", "label": "good" | "bad"} or
// {"request_id": "...", "score": 0..1} (below 0.5 is bad). Runs before routing.
#include <memory>

#include "config/config.hpp"
#include "filters/auth/key_directory.hpp"
#include "filters/filter.hpp"
#include "filters/quality/sample_handoff.hpp"

namespace infergate::quality {

class FeedbackFilter final : public Filter {
 public:
  static constexpr std::string_view kPath = "/v1/feedback";

  // `routeLabel`: the route label the gateway's own endpoints are counted
  // under (LabelSpace::gatewayRoute), apart from proxied and unrouted traffic.
  // With `auth` (an auth section exists), feedback takes the same keys as the
  // routes, and a key may only label its own requests.
  FeedbackFilter(SampleHandoff& pipeline, std::uint32_t routeLabel, const auth::KeyDirectory* keys = nullptr);
  std::string_view name() const override { return "feedback"; }
  std::uint8_t phases() const override { return kOnRequest; }
  FilterStatus onRequest(RequestContext& ctx) override;

 private:
  SampleHandoff& pipeline_;
  std::uint32_t routeLabel_;
  const auth::KeyDirectory* keys_;  // with an auth section
};

}  // namespace infergate::quality
