#pragma once
// Polls endpoints on the control thread: for each endpoint of each backend
// that asks for it, a GET every interval through the poller's own
// UpstreamClient (pooled connections, no breaker verdict), its answer handed
// to that endpoint's handler. Active health checks and model-server signals
// are both this loop with a different handler. A reload's runtime restarts
// the loops (adopt): a request under way ends in a stopped loop, which
// drops its answer.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/server/runtime.hpp"
#include "gateway/upstream/cluster_state.hpp"
#include "gateway/upstream/upstream_client.hpp"

namespace infergate {

struct PollSpec {
  std::string target;
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{1000};
  std::size_t maxResponseBytes = 64 * 1024;
  std::string userAgent;
  bool injectHeaders = false;  // the backend's configured headers (a server whose metrics need its key)
};

class EndpointPoller {
 public:
  using Handler = std::function<void(const UpstreamClient::Response&)>;
  // A backend's poll, or nothing when it has none.
  using Plan = std::function<std::optional<PollSpec>(const BackendRuntime&)>;
  // The handler of one endpoint's answers (what it refers to lives as long as
  // the runtime, which the loop holds).
  using MakeHandler = std::function<Handler(const BackendRuntime&, std::size_t backendIndex, const EndpointRuntime&)>;

  EndpointPoller(boost::asio::io_context& io, std::shared_ptr<const Runtime> runtime, ClusterState& cluster, Plan plan,
                 MakeHandler make);
  ~EndpointPoller();
  void start();
  void stop();
  void adopt(std::shared_ptr<const Runtime> runtime);

 private:
  class Loop;
  void makeLoops(const std::shared_ptr<const Runtime>& runtime);

  boost::asio::io_context& io_;
  UpstreamClient client_;
  Plan plan_;
  MakeHandler make_;
  std::vector<std::shared_ptr<Loop>> loops_;
  bool started_ = false;
};

}  // namespace infergate
