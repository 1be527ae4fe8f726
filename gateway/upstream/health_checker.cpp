#include "gateway/upstream/health_checker.hpp"

#include "filters/core/log_line.hpp"

#include <boost/asio/steady_timer.hpp>

namespace infergate {

namespace asio = boost::asio;

// One endpoint's probe loop: wait, GET through the client, judge, repeat.
class HealthChecker::Probe : public std::enable_shared_from_this<Probe> {
 public:
  Probe(asio::io_context& io, UpstreamClient& client, std::shared_ptr<const Runtime> runtime,
        const config::HealthCheckConfig& config, const EndpointRuntime& endpoint, std::size_t backendIndex,
        const std::string& backend, EndpointState& state)
      : client_(client), runtime_(std::move(runtime)), config_(config), endpoint_(endpoint),
        backendIndex_(backendIndex), backend_(backend), state_(state), timer_(io) {}

  void start() { schedule(std::chrono::milliseconds(0)); }
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void schedule(std::chrono::milliseconds delay) {
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && !self->stopped_) self->probe();
    });
  }

  // Straight to this endpoint, whatever its breaker says: an ejected endpoint
  // must be probed to be seen recovering. The backend's headers are not sent.
  void probe() {
    UpstreamClient::Request request;
    request.target = config_.path;
    request.userAgent = "infergate-health-check";
    request.injectHeaders = false;
    request.timeout = config_.timeout;
    request.maxResponseBytes = 64 * 1024;
    client_.sendTo(endpoint_, backendIndex_, std::move(request), [self = shared_from_this()](UpstreamClient::Response r) {
      self->judge(r.outcome == UpstreamClient::Response::Outcome::Ok && r.status / 100 == 2);
    });
  }

  void judge(bool ok) {
    if (stopped_) return;
    (ok ? state_.healthChecksOk : state_.healthChecksFailed).fetch_add(1, std::memory_order_relaxed);
    const auto fields = log::Fields().add("backend", backend_).add("endpoint", endpoint_.name);
    if (ok) {
      failures_ = 0;
      if (++successes_ >= config_.healthy_threshold && !state_.breaker.healthy()) {
        state_.breaker.setHealthy(true);
        log::writef(log::Level::Info, fields, "health check: %s %s is healthy again", backend_.c_str(),
                    endpoint_.name.c_str());
      }
    } else {
      successes_ = 0;
      if (++failures_ >= config_.unhealthy_threshold && state_.breaker.healthy()) {
        state_.breaker.setHealthy(false);
        log::writef(log::Level::Warn, fields, "health check: %s %s is unhealthy", backend_.c_str(),
                    endpoint_.name.c_str());
      }
    }
    schedule(config_.interval);
  }

  UpstreamClient& client_;
  std::shared_ptr<const Runtime> runtime_;  // holds config_, endpoint_ and backend_
  const config::HealthCheckConfig& config_;
  const EndpointRuntime& endpoint_;
  std::size_t backendIndex_;
  const std::string& backend_;
  EndpointState& state_;
  asio::steady_timer timer_;
  unsigned successes_ = 0;
  unsigned failures_ = 0;
  bool stopped_ = false;
};

HealthChecker::HealthChecker(asio::io_context& io, std::shared_ptr<const Runtime> runtime, ClusterState& cluster)
    : io_(io), cluster_(cluster), client_(io, runtime, cluster) {
  makeProbes(runtime);
}

void HealthChecker::makeProbes(const std::shared_ptr<const Runtime>& runtime) {
  for (std::size_t b = 0; b < runtime->backends.size(); ++b) {
    const auto& backend = runtime->backends[b];
    if (!backend.config->health_check.enabled) continue;
    for (const auto& e : backend.endpoints)
      probes_.push_back(std::make_shared<Probe>(io_, client_, runtime, backend.config->health_check, e, b,
                                                backend.config->name, cluster_.endpoint(e.id)));
  }
}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::start() {
  started_ = true;
  for (auto& p : probes_) p->start();
}

void HealthChecker::stop() {
  started_ = false;
  for (auto& p : probes_) p->stop();
  client_.closeAll();
}

void HealthChecker::adopt(std::shared_ptr<const Runtime> runtime) {
  // A probe under way finishes into a stopped probe, which ignores it.
  for (auto& p : probes_) p->stop();
  probes_.clear();
  // Where checks are now off, nothing would ever put an endpoint back: it is
  // in service, as at start.
  for (const auto& backend : runtime->backends)
    if (!backend.config->health_check.enabled)
      for (const auto& e : backend.endpoints) cluster_.endpoint(e.id).breaker.setHealthy(true);
  client_.setRuntime(runtime);
  makeProbes(runtime);
  if (started_)
    for (auto& p : probes_) p->start();
}

}  // namespace infergate
