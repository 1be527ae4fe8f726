#pragma once
// Records every finished request into the worker's request statistics
// (requests, failures, durations, tokens, bytes): a completion observer.
#include "filters/filter.hpp"
#include "filters/request_metrics/request_stats.hpp"

namespace infergate::metrics {

class RequestMetricsFilter final : public Filter {
 public:
  RequestMetricsFilter(const RequestStats& stats, const LabelSpace& labels) : stats_(&stats), labels_(labels) {}
  std::string_view name() const override { return "request_metrics"; }
  std::uint8_t phases() const override { return kOnComplete; }
  void onComplete(RequestContext& ctx) override;

 private:
  const RequestStats* stats_;
  const LabelSpace& labels_;
};

}  // namespace infergate::metrics
