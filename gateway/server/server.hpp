#pragma once
// Owns the workers and the admin listener, and the process lifecycle: start,
// serve, and on SIGTERM/SIGINT drain (stop accepting, /readyz 503, let in-flight
// requests and streams finish up to server.drain_timeout), then return.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <array>
#include <atomic>
#include <vector>

#include "filters/access_log/access_log.hpp"
#include "gateway/admin/admin_server.hpp"
#include "filters/filter_set.hpp"
#include "gateway/upstream/cluster_state.hpp"
#include "gateway/net/connection_limits.hpp"
#include "gateway/diagnosis/diagnosis_monitor.hpp"
#include "gateway/drift/drift_monitor.hpp"
#include "gateway/sampling/quality_pipeline.hpp"
#include "gateway/upstream/breaker_log.hpp"
#include "gateway/upstream/endpoint_resolver.hpp"
#include "gateway/upstream/health_checker.hpp"
#include "gateway/upstream/signal_scraper.hpp"
#include "gateway/server/generation.hpp"
#include "gateway/server/runtime.hpp"
#include "gateway/server/worker.hpp"
#include "filters/profile/profile_stats.hpp"
#include "gateway/upstream/upstream_stats.hpp"
#include "metrics/label_space.hpp"
#include "gateway/server/certificate_reloader.hpp"
#include "gateway/server/config_reloader.hpp"
#include "gateway/server/memory_trimmer.hpp"
#include "metrics/stats.hpp"

namespace infergate {

struct CpuAllowance;

class Server {
 public:
  // `filters`: the filters every route's chain is built from (builtinFilters()).
  Server(std::shared_ptr<const Runtime> runtime, std::vector<FilterRegistration> filters);
  ~Server();
  // Binds every listener (throws on failure) and starts the worker threads.
  void start();
  // Serves until a signal has drained the server; returns the exit code.
  int run();
  void beginDrain();
  boost::asio::ip::tcp::endpoint proxyEndpoint() const { return proxyEndpoint_; }
  // The HTTPS listener's address (server.tls), or nothing.
  std::optional<boost::asio::ip::tcp::endpoint> tlsEndpoint() const { return tlsEndpoint_; }
  boost::asio::ip::tcp::endpoint adminEndpoint() const { return admin_->localEndpoint(); }
  unsigned workerCount() const { return static_cast<unsigned>(workers_.size()); }

 private:
  void declareStats(unsigned workers);
  std::unique_ptr<FilterSet> makeFilters(const Runtime& runtime, std::uint64_t generation);
  // A reloaded config's routes and backends, put in force as a new generation
  // when its labels keep their meaning (the control thread).
  // `changed`: the sections the reload found changed (routes, backends, the
  // sampling decisions), empty for "dns" (a `resolve: all` name's addresses
  // changed: the config in force, built again).
  ConfigReloader::Rebuilt rebuild(const config::Config& loaded, const std::vector<std::string>& changed, const char* why);
  void startBackgroundServices(unsigned workers);
  void startWorkers(unsigned count, std::chrono::microseconds pollBudget);
  std::chrono::microseconds busyPollBudget(unsigned workers, const CpuAllowance& cpus) const;
  void checkDrained();
  void awaitReopen();
  void stopAll();

  std::shared_ptr<const Runtime> runtime_;  // the config in force (the control thread; a reload replaces it)
  std::vector<FilterRegistration> registrations_;
  boost::asio::io_context control_{1};
  boost::asio::signal_set signals_;
  boost::asio::signal_set reopenSignal_;  // SIGUSR1: the access log and the sample sink are opened again
  boost::asio::steady_timer drainTimer_;
  std::chrono::steady_clock::time_point drainDeadline_{};
  // Declared before the workers, which record into them until they are gone.
  std::unique_ptr<ClusterState> cluster_;
  std::unique_ptr<ConnectionLimits> connectionLimits_;
  std::unique_ptr<metrics::LabelSpace> labels_;
  std::unique_ptr<auth::KeyDirectory> keys_;  // with an auth section
  std::unique_ptr<ConfigReloader> configReloader_;
  std::unique_ptr<CertificateReloader> certificateReloader_;  // with server.tls
  std::unique_ptr<profile::BinSpec> bins_;
  std::unique_ptr<metrics::StatsRegistry> stats_;
  std::unique_ptr<UpstreamStats> upstreamStats_;
  std::unique_ptr<profile::ProfileStats> profileStats_;
  std::unique_ptr<AccessLog> accessLog_;
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<EndpointResolver> resolver_;
  std::unique_ptr<BreakerLog> breakerLog_;
  std::unique_ptr<MemoryTrimmer> memoryTrimmer_;
  std::unique_ptr<HealthChecker> health_;
  std::unique_ptr<SignalScraper> loadSignals_;
  std::unique_ptr<DriftMonitor> drift_;
  std::unique_ptr<profile::BaselineView> baselineView_;
  std::unique_ptr<profile::HalfSpaceForest> forest_;  // multivariate anomalies (drift.multivariate)
  std::unique_ptr<profile::VectorQueue> vectors_;
  std::unique_ptr<metrics::RequestStats> requestStats_;
  std::unique_ptr<DiagnosisMonitor> diagnosis_;  // GET /admin/diagnosis  // when metrics are on (request_metrics filter, diagnosis)
  std::unique_ptr<QualityPipeline> quality_;  // workers hand samples to it until they are gone
  // What workers take their requests' config from; after everything its
  // filters record into, before the workers that hold its generations.
  GenerationSlot generations_;
  std::vector<std::unique_ptr<Worker>> workers_;
  boost::asio::ip::tcp::endpoint proxyEndpoint_;
  std::optional<boost::asio::ip::tcp::endpoint> tlsEndpoint_;
  std::array<std::atomic<std::uint64_t>, 2> tlsHandshakeFailures_{};  // error, timeout
  bool draining_ = false;
  bool cut_ = false;  // drain_timeout ran out and the workers were told to end what is open
};

}  // namespace infergate
