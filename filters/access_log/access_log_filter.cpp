#include "filters/access_log/access_log_filter.hpp"

#include "filters/request_metrics/recorder.hpp"

namespace infergate {

void AccessLogFilter::onComplete(RequestContext& ctx) {
  const auto& record = *ctx.record;
  if (!log_.push(ctx.worker, record, metrics::deriveTimings(record))) stats_->dropped.add(ctx.worker, {});
}

}  // namespace infergate
