#pragma once
// Records every finished request into the worker's request statistics
// (requests, failures, durations, tokens, bytes): a completion observer. A
// stream's inter-token gaps are recorded as its events pass (a piece behind
// the usage filter, which times them), so no request holds a time per token.
#include "filters/filter.hpp"
#include "filters/request_metrics/recorder.hpp"
#include "filters/request_metrics/request_stats.hpp"

namespace infergate::metrics {

class RequestMetricsFilter final : public StatefulFilter<TokenGapCursor> {
 public:
  RequestMetricsFilter(const RequestStats& stats, const LabelSpace& labels) : stats_(&stats), labels_(labels) {}
  std::string_view name() const override { return "request_metrics"; }
  std::uint8_t phases() const override { return kOnResponseHeaders | kOnComplete; }
  bool onResponseHeaders(RequestContext& ctx) override;
  void onResponseData(RequestContext& ctx, std::string_view piece) override;
  void onComplete(RequestContext& ctx) override;

 private:
  const RequestStats* stats_;
  const LabelSpace& labels_;
};

}  // namespace infergate::metrics
