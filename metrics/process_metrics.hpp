#pragma once
// The standard process_* metrics, read from /proc at scrape time.
#include <prometheus/metric_family.h>

#include <vector>

namespace infergate::metrics {

void appendProcessMetrics(std::vector<prometheus::MetricFamily>& out);

}  // namespace infergate::metrics
