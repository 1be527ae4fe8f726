#pragma once
// Owns the resolved label space and one Shard per worker, and exposes them to
// Prometheus: a prometheus-cpp Collectable that merges the shards when /metrics
// is scraped (on the admin thread, never on a worker).
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "metrics/label_space.hpp"
#include "filters/request_metrics/request_stats.hpp"

namespace infergate::metrics {

class Registry : public prometheus::Collectable {
 public:
  Registry(const config::Config& config, unsigned workers);

  Shard& shard(unsigned worker) { return *shards_[worker]; }
  const Shard& shard(unsigned worker) const { return *shards_[worker]; }
  unsigned shardCount() const { return static_cast<unsigned>(shards_.size()); }
  const LabelSpace& labels() const { return labels_; }
  const profile::BinSpec& bins() const { return bins_; }
  bool enabled() const { return enabled_; }
  // Sources of values that live elsewhere (read at scrape time, thread-safe).
  void setDownstreamConnections(std::function<double()> source) { downstream_ = std::move(source); }
  // Families kept outside the shards (shared breaker state), appended at scrape.
  void setExtraCollector(std::function<void(std::vector<prometheus::MetricFamily>&)> extra) {
    extra_ = std::move(extra);
  }

  std::vector<prometheus::MetricFamily> Collect() const override;
  // The text exposition format served on /metrics.
  std::string scrape() const;

 private:
  void collectCounters(std::vector<prometheus::MetricFamily>& out) const;
  void collectGauges(std::vector<prometheus::MetricFamily>& out) const;
  void collectHistograms(std::vector<prometheus::MetricFamily>& out) const;

  bool enabled_;
  LabelSpace labels_;
  HistogramBounds bounds_;
  profile::BinSpec bins_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::function<double()> downstream_;
  std::function<void(std::vector<prometheus::MetricFamily>&)> extra_;
};

}  // namespace infergate::metrics
