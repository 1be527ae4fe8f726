#pragma once
// One worker's handles on the upstream side, shared by the exchanges of its
// sessions: the resolved config, the shared cluster state, the worker's
// endpoint picker, connection pool, wait-list mailbox and statistics.
#include <cstdint>

#include "gateway/server/runtime.hpp"
#include "gateway/upstream/slot_waits.hpp"
#include "gateway/upstream/cluster_state.hpp"
#include "gateway/upstream/endpoint_picker.hpp"
#include "gateway/upstream/upstream_pool.hpp"
#include "gateway/upstream/upstream_stats.hpp"

namespace infergate {

class WorkerUpstream {
 public:
  // `countMetrics`: metrics.enabled (a restart setting). Which config a
  // request uses is its own (ProxyRequest::runtime): reloads change it.
  WorkerUpstream(unsigned worker, bool countMetrics, ClusterState& cluster, EndpointPicker& picker,
                 UpstreamPool& pool, SlotWaits& waits, const UpstreamStats& stats, const metrics::LabelSpace& labels,
                 std::uint64_t seed)
      : worker(worker), cluster(cluster), picker(picker), pool(pool), waits(waits), stats(stats),
        labels(labels), countMetrics(countMetrics), rng_(seed | 1) {}

  const unsigned worker;  // its index: the shard it records in

  ClusterState& cluster;
  EndpointPicker& picker;
  UpstreamPool& pool;
  SlotWaits& waits;
  const UpstreamStats& stats;
  const metrics::LabelSpace& labels;
  const bool countMetrics;

  // xorshift64: jitter only.
  std::uint64_t random() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }
  void countRetry(std::uint32_t route, std::uint32_t backend, FailureCause reason) {
    if (!countMetrics) return;
    stats.retries.add(worker, {labels.pairIndex(route, backend), static_cast<std::uint32_t>(reason)});
  }

 private:
  std::uint64_t rng_;
};

}  // namespace infergate
