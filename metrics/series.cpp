#include "metrics/series.hpp"

#include <algorithm>

namespace infergate::metrics {

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

}  // namespace infergate::metrics
