#pragma once
// Resolves endpoints named by host again while the gateway runs, every
// backend's dns_refresh, on the control thread (never a worker). An address
// still among the answers is kept (no churn under round-robin DNS); when it is
// gone, the first answer replaces it: new connections go there, and pooled
// ones to the old address are closed instead of reused. A failed resolution
// keeps the address in use. An endpoint with `resolve: all` is an endpoint per
// address: when the set of addresses changes, the endpoints follow (a new
// generation, generation.hpp); a failed or empty answer keeps the last set.
// Each change and each failure (once per outage) is logged with the endpoint;
// infergate_dns_resolutions_total counts them.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "gateway/server/runtime.hpp"
#include "gateway/upstream/cluster_state.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate {

class EndpointResolver {
 public:
  EndpointResolver(boost::asio::io_context& io, const Runtime& runtime, ClusterState& cluster);
  ~EndpointResolver();
  void declareStats(metrics::StatsRegistry& stats, const metrics::LabelSpace& labels);
  void start();
  void stop();
  // A reload's endpoints: those named by host are resolved from now on (the
  // control thread).
  void adopt(const Runtime& runtime);
  // resolve: all. Called when a name's addresses change: the server builds the
  // endpoints again (and calls adopt) or, failing, keeps them.
  void onAddressesChanged(std::function<void()> change) { onChange_ = std::move(change); }

 private:
  struct Named;  // one endpoint named by host, and its timer
  void collect(const Runtime& runtime);
  void schedule(const std::shared_ptr<Named>& n);
  void resolve(const std::shared_ptr<Named>& n);
  void followAll(const std::shared_ptr<Named>& n, const boost::asio::ip::tcp::resolver::results_type& results);

  boost::asio::io_context& io_;
  ClusterState& cluster_;
  boost::asio::ip::tcp::resolver resolver_;
  std::vector<std::shared_ptr<Named>> named_;
  // Per endpoint id: resolutions that kept the address, changed it, failed.
  std::vector<std::array<std::atomic<std::uint64_t>, 3>> counts_;
  std::vector<char> resolved_;  // per endpoint label index: ever named by host (its series are exported)
  std::function<void()> onChange_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace infergate
