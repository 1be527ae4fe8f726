#include "filters/request_metrics/request_metrics_filter.hpp"

#include "filters/request_metrics/recorder.hpp"

namespace infergate::metrics {

void RequestMetricsFilter::onComplete(RequestContext& ctx) { recordRequest(*ctx.record, *stats_, ctx.worker, labels_); }

}  // namespace infergate::metrics
