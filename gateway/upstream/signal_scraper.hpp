#pragma once
// Scrapes each endpoint's model-server metrics (backends[].signals) on the
// control thread, never a worker: GET <path> every interval through the
// control thread's own UpstreamClient (pooled connections; no breaker
// verdict), read into the endpoint's EndpointSignals. A failed scrape leaves
// the last reading to age: past max_age it is unknown, never zero.
#include <boost/asio/io_context.hpp>
#include <memory>
#include <vector>

#include "gateway/server/runtime.hpp"
#include "gateway/upstream/cluster_state.hpp"
#include "gateway/upstream/upstream_client.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate {

class SignalScraper {
 public:
  SignalScraper(boost::asio::io_context& io, std::shared_ptr<const Runtime> runtime, ClusterState& cluster);
  ~SignalScraper();
  // infergate_backend_requests_running/_waiting/_kv_cache_usage (fresh
  // readings only), the readings' age and the scrapes by result.
  static void declareStats(metrics::StatsRegistry& stats, const metrics::LabelSpace& labels,
                           const ClusterState& cluster);
  void start();
  void stop();
  // A reload's backends: scraping starts again from them.
  void adopt(std::shared_ptr<const Runtime> runtime);

 private:
  class Probe;
  void makeProbes(const std::shared_ptr<const Runtime>& runtime);

  boost::asio::io_context& io_;
  ClusterState& cluster_;
  UpstreamClient client_;
  std::vector<std::shared_ptr<Probe>> probes_;
  bool started_ = false;
};

}  // namespace infergate
