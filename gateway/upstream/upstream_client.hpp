#pragma once
// The gateway's own requests upstream (the LLM judge, health checks), made with
// the same parts as client traffic: the backend's endpoint picker and circuit
// breakers (shared ClusterState), a connection pool (UpstreamPool, keep-alive
// reuse), the backend's injected headers. Runs on one non-worker thread (the
// control thread, the quality pipeline's); one client per thread, as the
// workers each have their own picker and pool.
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "gateway/server/runtime.hpp"
#include "gateway/upstream/cluster_state.hpp"
#include "gateway/upstream/endpoint_picker.hpp"
#include "gateway/upstream/upstream_pool.hpp"

namespace infergate {

class UpstreamClient {
 public:
  struct Request {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string target = "/";
    std::string body;                    // sent as application/json when not empty
    std::string userAgent = "infergate";
    bool injectHeaders = true;           // the backend's configured headers (API keys)
    std::chrono::milliseconds timeout{1000};
    std::size_t maxResponseBytes = 1 << 20;
  };
  struct Response {
    enum class Outcome : std::uint8_t { Ok, Timeout, Error, CircuitOpen };
    Outcome outcome = Outcome::Error;
    unsigned status = 0;
    std::string body;
  };
  using Done = std::function<void(Response)>;

  UpstreamClient(boost::asio::io_context& io, std::shared_ptr<const Runtime> runtime, ClusterState& cluster);
  ~UpstreamClient();

  // To `backend`: an endpoint its breakers admit, picked as for client traffic;
  // the outcome is that breaker's verdict (connect errors, timeouts and the
  // backend's failure statuses count against it). `done` runs once, on the io thread.
  void send(std::size_t backend, Request request, Done done);
  // To one endpoint whatever its breaker says, with no verdict (health checks
  // must reach an ejected endpoint to see it recover).
  void sendTo(const EndpointRuntime& endpoint, std::size_t backend, Request request, Done done);
  void closeAll() { pool_.closeAll(); }
  // A reload's config, for the calls that follow (calls under way finish on
  // theirs); idle connections to endpoints it took away are closed. The io thread.
  void setRuntime(std::shared_ptr<const Runtime> runtime) {
    pool_.keepOnly(*runtime);
    runtime_ = std::move(runtime);
  }

 private:
  class Call;

  boost::asio::io_context& io_;
  std::shared_ptr<const Runtime> runtime_;
  ClusterState& cluster_;
  EndpointPicker picker_;
  UpstreamPool pool_;
  EndpointSet tried_;  // for the picker: nothing tried
};

}  // namespace infergate
