#pragma once
// Active health checks: for backends that enable them, every endpoint is probed
// with GET <path> on the control thread (never on a worker), through the
// control thread's UpstreamClient (pooled connections). An endpoint that
// fails `unhealthy_threshold` checks in a row stops receiving requests; one that
// then passes `healthy_threshold` in a row gets them again.
#include <boost/asio/io_context.hpp>
#include <memory>
#include <vector>

#include "gateway/upstream/cluster_state.hpp"
#include "gateway/upstream/upstream_client.hpp"
#include "gateway/server/runtime.hpp"

namespace infergate {

class HealthChecker {
 public:
  HealthChecker(boost::asio::io_context& io, std::shared_ptr<const Runtime> runtime, ClusterState& cluster);
  ~HealthChecker();
  void start();
  void stop();
  // A reload's backends: the probes start again from them (an endpoint that
  // stays keeps its health; one that is new starts healthy, as at start).
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
