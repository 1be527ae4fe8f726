#pragma once
// One worker's upstream side built from a config, with no socket: the
// resolved runtime, the shared cluster state (breakers on a clock the test
// may set), a picker, a pool, a wait-list mailbox and the upstream stats.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "config/loader.hpp"
#include "gateway/upstream/worker_upstream.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate::testing {

class WorkerUpstreamFixture {
 public:
  explicit WorkerUpstreamFixture(const char* yaml) {
    auto loaded = config::loadString(yaml, "upstream.yaml");
    EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0]);
    labels = std::make_unique<metrics::LabelSpace>(loaded.config);
    stats = std::make_unique<UpstreamStats>(registry, *labels);
    std::string error;
    runtime = buildRuntime(std::move(loaded.config), error);
    EXPECT_TRUE(runtime) << error;
    cluster = std::make_unique<ClusterState>(*runtime, [this] { return nowNs; });
    picker = std::make_unique<EndpointPicker>(*runtime, *cluster, 1);
    pool = std::make_unique<UpstreamPool>(io, *runtime, stats.get(), 0);
    upstream = std::make_unique<WorkerUpstream>(0, runtime->config.metrics.enabled, *cluster, *picker, *pool, waits, *stats, *labels, 7);
  }
  // The breaker of the endpoint at 127.0.0.1:`port`.
  CircuitBreaker& breaker(const std::string& port) {
    for (const auto& b : runtime->backends)
      for (const auto& e : b.endpoints)
        if (e.authority == "127.0.0.1:" + port) return cluster->endpoint(e.id).breaker;
    throw std::runtime_error("no endpoint " + port);
  }

  std::int64_t nowNs = 1'000'000'000;  // the breakers' clock
  boost::asio::io_context io;
  WorkerWakeup wakeup{io};
  SlotWaits waits{0, wakeup};
  metrics::StatsRegistry registry{1};
  std::unique_ptr<metrics::LabelSpace> labels;
  std::unique_ptr<UpstreamStats> stats;
  std::shared_ptr<const Runtime> runtime;
  std::unique_ptr<ClusterState> cluster;
  std::unique_ptr<EndpointPicker> picker;
  std::unique_ptr<UpstreamPool> pool;
  std::unique_ptr<WorkerUpstream> upstream;
};

}  // namespace infergate::testing
