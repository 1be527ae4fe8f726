#pragma once
// Per-worker metric storage: arrays of series, one per label combination.
// Only the owning worker thread writes; the scrape thread reads. Values are
// cells of a ZeroTable, read and written with relaxed atomic loads and stores
// (no read-modify-write instruction, no lock): on x86 these are plain moves,
// and the scrape still never reads a torn value. A table takes memory only for
// the pages its series in use were written to (zero_table.hpp).
#include <cstdint>
#include <memory>
#include <vector>

#include "metrics/zero_table.hpp"

namespace infergate::metrics {

class CounterArray {
 public:
  explicit CounterArray(std::size_t series) : values_(series) {}
  void add(std::size_t series, std::uint64_t n = 1) { values_.store(series, values_.load(series) + n); }
  std::uint64_t get(std::size_t series) const { return values_.load(series); }
  std::size_t size() const { return values_.size(); }

 private:
  ZeroTable<std::uint64_t> values_;
};

class GaugeArray {
 public:
  explicit GaugeArray(std::size_t series) : values_(series) {}
  void add(std::size_t series, std::int64_t n) { values_.store(series, values_.load(series) + n); }
  void set(std::size_t series, std::int64_t n) { values_.store(series, n); }
  std::int64_t get(std::size_t series) const { return values_.load(series); }
  std::size_t size() const { return values_.size(); }

 private:
  ZeroTable<std::int64_t> values_;
};

// Per-series bucket counts (not cumulative: the collector accumulates), count and sum.
class HistogramArray {
 public:
  HistogramArray(std::size_t series, std::shared_ptr<const std::vector<double>> bounds);
  void observe(std::size_t series, double value);
  // Index of the bucket `value` falls in: the first bound >= value, or bounds.size() (+Inf).
  std::size_t bucketOf(double value) const;
  std::uint64_t bucket(std::size_t series, std::size_t b) const { return counts_.load(series * stride_ + b); }
  std::uint64_t count(std::size_t series) const { return totals_.load(series); }
  double sum(std::size_t series) const { return sums_.load(series); }
  const std::vector<double>& bounds() const { return *bounds_; }
  std::size_t size() const { return totals_.size(); }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::size_t stride_;  // bounds + 1 (+Inf)
  ZeroTable<std::uint64_t> counts_;
  ZeroTable<std::uint64_t> totals_;
  ZeroTable<double> sums_;
};

}  // namespace infergate::metrics
