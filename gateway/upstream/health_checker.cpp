#include "gateway/upstream/health_checker.hpp"

#include "filters/core/log_line.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>

namespace infergate {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// One endpoint's probe loop: wait, connect, GET, judge, repeat.
class HealthChecker::Probe : public std::enable_shared_from_this<Probe> {
 public:
  Probe(asio::io_context& io, const config::HealthCheckConfig& config, const EndpointRuntime& endpoint,
        const std::string& backend, EndpointState& state)
      : io_(io), config_(config), endpoint_(endpoint), backend_(backend), state_(state), timer_(io) {}

  void start() { schedule(std::chrono::milliseconds(0)); }
  void stop() {
    stopped_ = true;
    timer_.cancel();
    if (stream_) stream_->cancel();
  }

 private:
  void schedule(std::chrono::milliseconds delay) {
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && !self->stopped_) self->probe();
    });
  }

  void probe() {
    stream_ = std::make_unique<beast::tcp_stream>(io_);
    stream_->expires_after(config_.timeout);
    stream_->async_connect(endpoint_.address, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->judge(false);
      self->request_ = {http::verb::get, self->config_.path, 11};
      self->request_.set(http::field::host, self->endpoint_.authority);
      self->request_.set(http::field::user_agent, "infergate-health-check");
      self->request_.keep_alive(false);
      http::async_write(*self->stream_, self->request_, [self](beast::error_code ec2, std::size_t) {
        if (ec2) return self->judge(false);
        self->parser_.emplace();
        self->parser_->body_limit(64 * 1024);
        http::async_read(*self->stream_, self->buffer_, *self->parser_, [self](beast::error_code ec3, std::size_t) {
          self->judge(!ec3 && self->parser_->get().result_int() / 100 == 2);
        });
      });
    });
  }

  void judge(bool ok) {
    stream_.reset();
    buffer_.clear();
    if (stopped_) return;
    (ok ? state_.healthChecksOk : state_.healthChecksFailed).fetch_add(1, std::memory_order_relaxed);
    if (ok) {
      failures_ = 0;
      if (++successes_ >= config_.healthy_threshold && !state_.breaker.healthy()) {
        state_.breaker.setHealthy(true);
        log::writef(log::Level::Info, {}, "health check: %s %s is healthy again", backend_.c_str(), endpoint_.authority.c_str());
      }
    } else {
      successes_ = 0;
      if (++failures_ >= config_.unhealthy_threshold && state_.breaker.healthy()) {
        state_.breaker.setHealthy(false);
        log::writef(log::Level::Warn, {}, "health check: %s %s is unhealthy", backend_.c_str(), endpoint_.authority.c_str());
      }
    }
    schedule(config_.interval);
  }

  asio::io_context& io_;
  const config::HealthCheckConfig& config_;
  const EndpointRuntime& endpoint_;
  const std::string& backend_;
  EndpointState& state_;
  asio::steady_timer timer_;
  std::unique_ptr<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  unsigned successes_ = 0;
  unsigned failures_ = 0;
  bool stopped_ = false;
};

HealthChecker::HealthChecker(asio::io_context& io, const Runtime& runtime, ClusterState& cluster) {
  for (const auto& backend : runtime.backends) {
    if (!backend.config->health_check.enabled) continue;
    for (const auto& e : backend.endpoints)
      probes_.push_back(std::make_shared<Probe>(io, backend.config->health_check, e, backend.config->name,
                                                cluster.endpoint(e.id)));
  }
}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::start() {
  for (auto& p : probes_) p->start();
}

void HealthChecker::stop() {
  for (auto& p : probes_) p->stop();
}

}  // namespace infergate
