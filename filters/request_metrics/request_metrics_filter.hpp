#pragma once
// Records every finished request into the worker's request statistics
// (requests, failures, durations, tokens, bytes): a completion observer.
#include "filters/filter.hpp"

namespace infergate::metrics {

class RequestMetricsFilter final : public Filter {
 public:
  std::string_view name() const override { return "request_metrics"; }
  void onComplete(RequestContext& ctx) override;
};

}  // namespace infergate::metrics
