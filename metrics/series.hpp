#pragma once
// Per-worker metric storage: arrays of series, one per label combination.
// Only the owning worker thread writes; the scrape thread reads. Values are
// std::atomic used with relaxed loads and stores (no read-modify-write
// instruction, no lock): on x86 these are plain moves, and the scrape still
// never reads a torn value.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

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

}  // namespace infergate::metrics
