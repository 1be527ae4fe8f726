#pragma once
// One worker's metric storage. Only its worker thread writes; the scrape thread
// reads. Values are std::atomic used with relaxed loads and stores (no
// read-modify-write instruction, no lock): on x86 these are plain moves, and the
// scrape still never reads a torn value.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "filters/profile/features.hpp"
#include "metrics/label_space.hpp"

namespace infergate::metrics {

class CounterArray {
 public:
  explicit CounterArray(std::size_t series) : values_(series) {}
  void add(std::size_t series, std::uint64_t n = 1) {
    auto& v = values_[series];
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get(std::size_t series) const { return values_[series].load(std::memory_order_relaxed); }
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<std::atomic<std::uint64_t>> values_;
};

class GaugeArray {
 public:
  explicit GaugeArray(std::size_t series) : values_(series) {}
  void add(std::size_t series, std::int64_t n) {
    auto& v = values_[series];
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(std::size_t series, std::int64_t n) { values_[series].store(n, std::memory_order_relaxed); }
  std::int64_t get(std::size_t series) const { return values_[series].load(std::memory_order_relaxed); }
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<std::atomic<std::int64_t>> values_;
};

// Per-series bucket counts (not cumulative: the collector accumulates), count and sum.
class HistogramArray {
 public:
  HistogramArray(std::size_t series, std::shared_ptr<const std::vector<double>> bounds);
  void observe(std::size_t series, double value);
  // Index of the bucket `value` falls in: the first bound >= value, or bounds.size() (+Inf).
  std::size_t bucketOf(double value) const;
  std::uint64_t bucket(std::size_t series, std::size_t b) const {
    return counts_[series * stride_ + b].load(std::memory_order_relaxed);
  }
  std::uint64_t count(std::size_t series) const { return totals_[series].load(std::memory_order_relaxed); }
  double sum(std::size_t series) const { return sums_[series].load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return *bounds_; }
  std::size_t size() const { return totals_.size(); }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::size_t stride_;  // bounds + 1 (+Inf)
  std::vector<std::atomic<std::uint64_t>> counts_;
  std::vector<std::atomic<std::uint64_t>> totals_;
  std::vector<std::atomic<double>> sums_;
};

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
