#include "filters/request_metrics/request_stats.hpp"

#include <algorithm>

#include "filters/core/errors.hpp"
#include "filters/core/request_facts.hpp"
#include "filters/profile/features.hpp"

namespace infergate::metrics {

std::uint32_t violationCount() { return static_cast<std::uint32_t>(InputViolation::Count); }

std::uint32_t causeCount() { return static_cast<std::uint32_t>(FailureCause::Count); }

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
