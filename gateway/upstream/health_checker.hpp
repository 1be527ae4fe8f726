#pragma once
// Active health checks: for backends that enable them, every endpoint is probed
// with GET <path> on the control thread (never on a worker), through an
// EndpointPoller. An endpoint that fails `unhealthy_threshold` checks in a row
// stops receiving requests; one that then passes `healthy_threshold` in a row
// gets them again.
#include <boost/asio/io_context.hpp>
#include <memory>

#include "gateway/server/runtime.hpp"
#include "gateway/upstream/cluster_state.hpp"
#include "gateway/upstream/endpoint_poller.hpp"

namespace infergate {

class HealthChecker {
 public:
  HealthChecker(boost::asio::io_context& io, std::shared_ptr<const Runtime> runtime, ClusterState& cluster);
  void start() { poller_.start(); }
  void stop() { poller_.stop(); }
  // A reload's backends: the probes start again from them (an endpoint that
  // stays keeps its health; one that is new starts healthy, as at start).
  void adopt(std::shared_ptr<const Runtime> runtime);

 private:
  ClusterState& cluster_;
  EndpointPoller poller_;
};

}  // namespace infergate
