#pragma once
// One worker's request statistics: the series of every family the request
// path records (see registry.cpp for their names), laid out by label index.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "filters/profile/features.hpp"
#include "metrics/label_space.hpp"
#include "metrics/series.hpp"

namespace infergate::metrics {

struct HistogramBounds {
  std::shared_ptr<const std::vector<double>> requestDuration, upstreamConnect, upstreamFirstByte, timeToFirstToken,
      interTokenLatency, timePerOutputToken, gatewayOverhead;
  explicit HistogramBounds(const config::HistogramBuckets& b);
};

// Series layout of every family, in one place.
struct Shard {
  Shard(const LabelSpace& labels, const HistogramBounds& bounds, const profile::BinSpec& bins);

  const LabelSpace& labels;
  const profile::BinSpec& bins;   // input feature bins (from config)
  std::uint32_t models, codes;

  // index = (pair * models + model) * codes + code
  CounterArray requests;
  // index = pair * causes + cause
  CounterArray failures;
  // index = route * violations + violation
  CounterArray inputRejected;
  // index = (feature * models + model) * kMaxBins + bin
  CounterArray featureBins;
  // index = model * features + feature (the first feature outside the baseline)
  CounterArray inputAnomalies;
  // index = pair * causes + reason (the failure that caused the retry)
  CounterArray retries;
  // index = (backend * models + model) * 2 + kind (0 prompt, 1 completion)
  CounterArray tokens;
  // index = backend * models + model
  CounterArray streamsWithoutUsage;
  // index = pair
  CounterArray requestBytes, responseBytes;
  CounterArray accessLogDropped;  // one series

  GaugeArray inFlight;            // by backend
  GaugeArray activeConnections;   // by endpoint
  GaugeArray idleConnections;     // by endpoint

  HistogramArray requestDuration;      // pair * models + model
  HistogramArray upstreamConnect;      // endpoint
  HistogramArray upstreamFirstByte;    // backend * models + model
  HistogramArray timeToFirstToken;     // backend * models + model
  HistogramArray interTokenLatency;    // backend * models + model
  HistogramArray timePerOutputToken;   // backend * models + model
  HistogramArray gatewayOverhead;      // route

  std::size_t requestSeries(std::uint32_t pair, std::uint32_t model, std::uint32_t code) const {
    return (static_cast<std::size_t>(pair) * models + model) * codes + code;
  }
  std::size_t backendModel(std::uint32_t backend, std::uint32_t model) const {
    return static_cast<std::size_t>(backend) * models + model;
  }
  std::size_t pairModel(std::uint32_t pair, std::uint32_t model) const {
    return static_cast<std::size_t>(pair) * models + model;
  }
};

std::uint32_t causeCount();
std::uint32_t violationCount();

}  // namespace infergate::metrics
