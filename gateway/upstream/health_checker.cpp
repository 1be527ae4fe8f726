#include "gateway/upstream/health_checker.hpp"

#include "filters/core/log_line.hpp"

namespace infergate {

namespace {

// One endpoint's run of results and its verdicts.
class Judge {
 public:
  Judge(const config::HealthCheckConfig& config, const std::string& backend, const EndpointRuntime& endpoint,
        EndpointState& state)
      : config_(config), backend_(backend), endpoint_(endpoint), state_(state) {}

  void operator()(const UpstreamClient::Response& r) {
    const bool ok = r.outcome == UpstreamClient::Response::Outcome::Ok && r.status / 100 == 2;
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
  }

 private:
  const config::HealthCheckConfig& config_;
  const std::string& backend_;
  const EndpointRuntime& endpoint_;
  EndpointState& state_;
  unsigned successes_ = 0;
  unsigned failures_ = 0;
};

}  // namespace

HealthChecker::HealthChecker(boost::asio::io_context& io, std::shared_ptr<const Runtime> runtime,
                             ClusterState& cluster)
    : cluster_(cluster),
      poller_(
          io, std::move(runtime), cluster,
          [](const BackendRuntime& b) -> std::optional<PollSpec> {
            const auto& hc = b.config->health_check;
            if (!hc.enabled) return std::nullopt;
            return PollSpec{hc.path, hc.interval, hc.timeout, 64 * 1024, "infergate-health-check", false};
          },
          [&cluster](const BackendRuntime& b, std::size_t, const EndpointRuntime& e) -> EndpointPoller::Handler {
            auto judge = std::make_shared<Judge>(b.config->health_check, b.config->name, e, cluster.endpoint(e.id));
            return [judge](const UpstreamClient::Response& r) { (*judge)(r); };
          }) {}

void HealthChecker::adopt(std::shared_ptr<const Runtime> runtime) {
  // Where checks are now off, nothing would ever put an endpoint back: it is
  // in service, as at start.
  for (const auto& backend : runtime->backends)
    if (!backend.config->health_check.enabled)
      for (const auto& e : backend.endpoints) cluster_.endpoint(e.id).breaker.setHealthy(true);
  poller_.adopt(std::move(runtime));
}

}  // namespace infergate
