#pragma once
// The admin listener: a separate address (loopback by default) for health and
// readiness now, and metrics and admin endpoints later. Runs on the control
// thread, never on a worker, so a slow scrape cannot delay proxied requests.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>

#include "config/config.hpp"
#include <string>
#include <string_view>

namespace infergate {
namespace metrics {
class StatsRegistry;
}

struct AdminResponse {
  unsigned status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

class AdminServer {
 public:
  // `metrics` (may be null) is served on /metrics and must outlive the server.
  AdminServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& listen,
              const metrics::StatsRegistry* metrics);
  void start();
  void stop();
  boost::asio::ip::tcp::endpoint localEndpoint() const { return acceptor_.local_endpoint(); }
  void setReady(bool ready) { ready_.store(ready); }
  bool ready() const { return ready_.load(); }
  // `authorization`: the request's Authorization header, checked against the
  // admin token when one is configured.
  AdminResponse handle(std::string_view method, std::string_view path, std::string_view query = {},
                       std::string_view authorization = {}) const;
  void setAccess(const config::AdminConfig& access) { access_ = access; }
  void setBackendsReport(std::function<std::string()> report) { backendsReport_ = std::move(report); }
  // GET /admin/samples?limit=N&flag=X: `samples` gets the raw query string.
  void setSamples(std::function<AdminResponse(std::string_view query)> samples) { samples_ = std::move(samples); }
  void setDiagnosis(std::function<std::string()> report) { diagnosisReport_ = std::move(report); }
  // POST /admin/reload reads the config again; GET /admin/config shows the one in force.
  void setConfig(std::function<AdminResponse()> reload, std::function<std::string()> show) {
    reload_ = std::move(reload);
    showConfig_ = std::move(show);
  }
  void setDrift(std::function<std::string()> report, std::function<std::string()> freeze) {
    driftReport_ = std::move(report);
    driftFreeze_ = std::move(freeze);
  }

 private:
  void accept();
  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> ready_{false};
  const metrics::StatsRegistry* metrics_;
  // Whether a request may reach `path` with this Authorization header.
  bool admitted(std::string_view method, std::string_view path, std::string_view authorization) const;

  config::AdminConfig access_;
  std::function<std::string()> backendsReport_;
  std::function<std::string()> driftReport_;
  std::function<std::string()> diagnosisReport_;
  std::function<std::string()> driftFreeze_;
  std::function<AdminResponse(std::string_view)> samples_;
  std::function<AdminResponse()> reload_;
  std::function<std::string()> showConfig_;
};

}  // namespace infergate
