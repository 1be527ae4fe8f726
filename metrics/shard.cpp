#include "metrics/shard.hpp"

#include <algorithm>

#include "gateway/errors.hpp"
#include "gateway/request_facts.hpp"
#include "filters/profile/features.hpp"

namespace infergate::metrics {

std::uint32_t violationCount() { return static_cast<std::uint32_t>(InputViolation::Count); }

std::uint32_t causeCount() { return static_cast<std::uint32_t>(FailureCause::Count); }

HistogramArray::HistogramArray(std::size_t series, std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)),
      stride_(bounds_->size() + 1),
      counts_(series * stride_),
      totals_(series),
      sums_(series) {}

std::size_t HistogramArray::bucketOf(double value) const {
  return static_cast<std::size_t>(std::lower_bound(bounds_->begin(), bounds_->end(), value) - bounds_->begin());
}

void HistogramArray::observe(std::size_t series, double value) {
  auto& bucket = counts_[series * stride_ + bucketOf(value)];
  bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  auto& total = totals_[series];
  total.store(total.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  auto& sum = sums_[series];
  sum.store(sum.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
}

HistogramBounds::HistogramBounds(const config::HistogramBuckets& b)
    : requestDuration(std::make_shared<const std::vector<double>>(b.request_duration)),
      upstreamConnect(std::make_shared<const std::vector<double>>(b.upstream_connect)),
      upstreamFirstByte(std::make_shared<const std::vector<double>>(b.upstream_first_byte)),
      timeToFirstToken(std::make_shared<const std::vector<double>>(b.time_to_first_token)),
      interTokenLatency(std::make_shared<const std::vector<double>>(b.inter_token_latency)),
      timePerOutputToken(std::make_shared<const std::vector<double>>(b.time_per_output_token)),
      gatewayOverhead(std::make_shared<const std::vector<double>>(b.gateway_overhead)) {}

Shard::Shard(const LabelSpace& l, const HistogramBounds& b, const profile::BinSpec& bins)
    : labels(l),
      bins(bins),
      models(l.modelCount()),
      codes(LabelSpace::codeCount()),
      requests(static_cast<std::size_t>(l.pairCount()) * models * codes),
      failures(static_cast<std::size_t>(l.pairCount()) * causeCount()),
      inputRejected(static_cast<std::size_t>(l.routeCount()) * violationCount()),
      featureBins(profile::kFeatureCount * models * profile::kMaxBins),
      inputAnomalies(static_cast<std::size_t>(models) * profile::kFeatureCount),
      retries(static_cast<std::size_t>(l.pairCount()) * causeCount()),
      tokens(static_cast<std::size_t>(l.backendCount()) * models * 2),
      streamsWithoutUsage(static_cast<std::size_t>(l.backendCount()) * models),
      requestBytes(l.pairCount()),
      responseBytes(l.pairCount()),
      accessLogDropped(1),
      inFlight(l.backendCount()),
      activeConnections(l.endpointCount()),
      idleConnections(l.endpointCount()),
      requestDuration(static_cast<std::size_t>(l.pairCount()) * models, b.requestDuration),
      upstreamConnect(l.endpointCount(), b.upstreamConnect),
      upstreamFirstByte(static_cast<std::size_t>(l.backendCount()) * models, b.upstreamFirstByte),
      timeToFirstToken(static_cast<std::size_t>(l.backendCount()) * models, b.timeToFirstToken),
      interTokenLatency(static_cast<std::size_t>(l.backendCount()) * models, b.interTokenLatency),
      timePerOutputToken(static_cast<std::size_t>(l.backendCount()) * models, b.timePerOutputToken),
      gatewayOverhead(l.routeCount(), b.gatewayOverhead) {}

}  // namespace infergate::metrics
