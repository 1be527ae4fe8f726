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
  const std::size_t bucket = series * stride_ + bucketOf(value);
  counts_.store(bucket, counts_.load(bucket) + 1);
  totals_.store(series, totals_.load(series) + 1);
  sums_.store(series, sums_.load(series) + value);
}

}  // namespace infergate::metrics
