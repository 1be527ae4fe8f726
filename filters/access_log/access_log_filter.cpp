#include "filters/access_log/access_log_filter.hpp"

#include "filters/request_metrics/recorder.hpp"
#include "filters/request_metrics/request_stats.hpp"

namespace infergate {

void AccessLogFilter::onComplete(RequestContext& ctx) {
  const auto& record = *ctx.record;
  if (!log_.push(ctx.worker, record, metrics::deriveTimings(record))) ctx.stats->accessLogDropped.add(0);
}

}  // namespace infergate
