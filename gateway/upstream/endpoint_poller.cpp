#include "gateway/upstream/endpoint_poller.hpp"

#include <boost/asio/steady_timer.hpp>

namespace infergate {

namespace asio = boost::asio;

// One endpoint's loop: wait, GET, hand the answer over, repeat.
class EndpointPoller::Loop : public std::enable_shared_from_this<Loop> {
 public:
  Loop(asio::io_context& io, UpstreamClient& client, std::shared_ptr<const Runtime> runtime, PollSpec spec,
       const EndpointRuntime& endpoint, std::size_t backendIndex, Handler handler)
      : client_(client), runtime_(std::move(runtime)), spec_(std::move(spec)), endpoint_(endpoint),
        backendIndex_(backendIndex), handler_(std::move(handler)), timer_(io) {}

  void start() { schedule(std::chrono::milliseconds(0)); }
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void schedule(std::chrono::milliseconds delay) {
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && !self->stopped_) self->poll();
    });
  }

  // Straight to this endpoint, whatever its breaker says: an ejected endpoint
  // must be probed to be seen recovering.
  void poll() {
    UpstreamClient::Request request;
    request.target = spec_.target;
    request.userAgent = spec_.userAgent;
    request.injectHeaders = spec_.injectHeaders;
    request.timeout = spec_.timeout;
    request.maxResponseBytes = spec_.maxResponseBytes;
    client_.sendTo(endpoint_, backendIndex_, std::move(request), [self = shared_from_this()](UpstreamClient::Response r) {
      if (self->stopped_) return;
      self->handler_(r);
      self->schedule(self->spec_.interval);
    });
  }

  UpstreamClient& client_;
  std::shared_ptr<const Runtime> runtime_;  // holds endpoint_ and what the handler refers to
  PollSpec spec_;
  const EndpointRuntime& endpoint_;
  std::size_t backendIndex_;
  Handler handler_;
  asio::steady_timer timer_;
  bool stopped_ = false;
};

EndpointPoller::EndpointPoller(asio::io_context& io, std::shared_ptr<const Runtime> runtime, ClusterState& cluster,
                               Plan plan, MakeHandler make)
    : io_(io), client_(io, runtime, cluster), plan_(std::move(plan)), make_(std::move(make)) {
  makeLoops(runtime);
}

EndpointPoller::~EndpointPoller() { stop(); }

void EndpointPoller::makeLoops(const std::shared_ptr<const Runtime>& runtime) {
  for (std::size_t b = 0; b < runtime->backends.size(); ++b) {
    const auto& backend = runtime->backends[b];
    const auto spec = plan_(backend);
    if (!spec) continue;
    for (const auto& e : backend.endpoints)
      loops_.push_back(std::make_shared<Loop>(io_, client_, runtime, *spec, e, b, make_(backend, b, e)));
  }
}

void EndpointPoller::start() {
  started_ = true;
  for (auto& l : loops_) l->start();
}

void EndpointPoller::stop() {
  started_ = false;
  for (auto& l : loops_) l->stop();
  client_.closeAll();
}

void EndpointPoller::adopt(std::shared_ptr<const Runtime> runtime) {
  for (auto& l : loops_) l->stop();
  loops_.clear();
  client_.setRuntime(runtime);
  makeLoops(runtime);
  if (started_)
    for (auto& l : loops_) l->start();
}

}  // namespace infergate
