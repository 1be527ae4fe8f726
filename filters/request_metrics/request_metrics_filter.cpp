#include "filters/request_metrics/request_metrics_filter.hpp"

#include "filters/request_metrics/recorder.hpp"

namespace infergate::metrics {

bool RequestMetricsFilter::onResponseHeaders(RequestContext& ctx) { return ctx.response.eventStream && ctx.record->routed; }

void RequestMetricsFilter::onResponseData(RequestContext& ctx, std::string_view) {
  recordTokenGaps(*ctx.record, state(ctx), *stats_, ctx.worker);
}

void RequestMetricsFilter::onComplete(RequestContext& ctx) {
  recordTokenGaps(*ctx.record, state(ctx), *stats_, ctx.worker);  // events the end of the answer gave
  recordRequest(*ctx.record, *stats_, ctx.worker, labels_);
}

}  // namespace infergate::metrics
