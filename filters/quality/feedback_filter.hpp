#pragma once
// POST /v1/feedback: a human label for a sampled request, answered by the
// gateway itself. {"request_id": "...", "label": "good" | "bad"} or
// {"request_id": "...", "score": 0..1} (below 0.5 is bad). Runs before routing.
#include "filters/filter.hpp"
#include "filters/quality/sample_handoff.hpp"

namespace infergate::quality {

class FeedbackFilter final : public Filter {
 public:
  static constexpr std::string_view kPath = "/v1/feedback";

  explicit FeedbackFilter(SampleHandoff& pipeline) : pipeline_(pipeline) {}
  std::string_view name() const override { return "feedback"; }
  std::uint8_t phases() const override { return kOnRequest; }
  FilterStatus onRequest(RequestContext& ctx) override;

 private:
  SampleHandoff& pipeline_;
};

}  // namespace infergate::quality
