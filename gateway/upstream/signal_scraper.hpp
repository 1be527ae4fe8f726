#pragma once
// Scrapes each endpoint's model-server metrics (backends[].signals) on the
// control thread, never a worker: GET <path> every interval through an
// EndpointPoller, read into the endpoint's EndpointSignals. A failed scrape leaves
// the last reading to age: past max_age it is unknown, never zero.
#include <boost/asio/io_context.hpp>
#include <memory>

#include "gateway/server/runtime.hpp"
#include "gateway/upstream/cluster_state.hpp"
#include "gateway/upstream/endpoint_poller.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate {

class SignalScraper {
 public:
  SignalScraper(boost::asio::io_context& io, std::shared_ptr<const Runtime> runtime, ClusterState& cluster);
  // infergate_backend_requests_running/_waiting/_kv_cache_usage (fresh
  // readings only), the readings' age and the scrapes by result.
  static void declareStats(metrics::StatsRegistry& stats, const metrics::LabelSpace& labels,
                           const ClusterState& cluster);
  void start() { poller_.start(); }
  void stop() { poller_.stop(); }
  // A reload's backends: scraping starts again from them.
  void adopt(std::shared_ptr<const Runtime> runtime) { poller_.adopt(std::move(runtime)); }

 private:
  EndpointPoller poller_;
};

}  // namespace infergate
