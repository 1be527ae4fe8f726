#include "gateway/server/server.hpp"

#include "filters/core/log_line.hpp"

#include "gateway/admin/cluster_report.hpp"
#include "gateway/admin/samples_report.hpp"
#include "gateway/server/cpu_allowance.hpp"
#include "gateway/server/endpoint_changes.hpp"

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace infergate {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
tcp::endpoint toEndpoint(const config::Address& address) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address.host, ec);
  if (ec) {
    // Listen addresses may be host names ("localhost"): resolve once at startup.
    asio::io_context io;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(address.host, std::to_string(address.port));
    return results.begin()->endpoint();
  }
  return {ip, address.port};
}

// Workers bind with SO_REUSEPORT, which would silently join another process
// listening on the same address and take part of its traffic. A socket bound
// without it is refused while any other listens there: probe with one first.
void refuseAddressInUse(const tcp::endpoint& endpoint) {
  if (endpoint.port() == 0) return;  // a fresh port: nobody else's
  asio::io_context io;
  tcp::acceptor probe(io);
  probe.open(endpoint.protocol());
  probe.set_option(asio::socket_base::reuse_address(true));  // TIME_WAIT leftovers are not listeners
  boost::system::error_code ec;
  probe.bind(endpoint, ec);
  if (ec == asio::error::address_in_use)
    throw std::runtime_error("listen address " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()) +
                             " is already served by another process; stop it, choose another server.listen, or set "
                             "server.share_listen_address: true to share its connections with it");
}
}  // namespace

Server::Server(std::shared_ptr<const Runtime> runtime, std::vector<FilterRegistration> filters)
    : runtime_(std::move(runtime)),
      registrations_(std::move(filters)),
      signals_(control_, SIGINT, SIGTERM),
      reopenSignal_(control_, SIGUSR1),
      drainTimer_(control_) {}

Server::~Server() { stopAll(); }

void Server::start() {
  const auto& cfg = runtime_->config;
  unsigned count = cfg.server.workers;
  // 0: one per CPU the process may run on (its affinity and its cgroup's
  // CPU quota: a container limited to 2 CPUs of a 64-core node gets 2, not
  // 64 workers timesharing them).
  const auto cpus = cpuAllowance();
  if (count == 0) {
    const unsigned usable = cpus.workers();
    count = std::max(1u, usable != 0 ? usable : std::thread::hardware_concurrency());
  }
  cluster_ = std::make_unique<ClusterState>(*runtime_);
  resolver_ = std::make_unique<EndpointResolver>(control_, *runtime_, *cluster_);
  connectionLimits_ = std::make_unique<ConnectionLimits>(cfg.server.limits);
  declareStats(count);
  if (cfg.access_log.enabled) accessLog_ = std::make_unique<AccessLog>(cfg.access_log, *labels_, count);
  admin_ = std::make_unique<AdminServer>(control_, toEndpoint(cfg.admin.listen), stats_.get());
  admin_->setAccess(cfg.admin);
  admin_->setBackendsReport([this] { return backendsReport(*runtime_, *cluster_); });
  admin_->setConfig(
      [this] {
        const auto outcome = configReloader_->reload("POST /admin/reload");
        return AdminResponse{outcome.httpStatus(), "application/json", outcome.json()};
      },
      [this] { return configReloader_->maskedConfig(); });
  startBackgroundServices(count);
  auto first = std::make_shared<Generation>();
  first->runtime = runtime_;
  first->filters = makeFilters(*runtime_, first->number);
  generations_.publish(std::move(first));
  configReloader_->allowRebuild(
      {{"routes", {}},
       {"backends", {}},
       // What the sampling filters decide with; the pipeline's own keys need a restart.
       {"sampling", {"rate", "always"}},
       // The gateway's own limits; the store needs a restart.
       {"rate_limits", {"global"}}},
      [this](const config::Config& c, const std::vector<std::string>& changed) { return rebuild(c, changed, "reload"); });
  // A `resolve: all` name answering other addresses: the config in force, built again.
  resolver_->onAddressesChanged([this] {
    const auto config = runtime_->config;  // a copy: the rebuild replaces runtime_
    const auto r = rebuild(config, {}, "dns");
    if (!r.error.empty() || !r.applied)
      log::write(log::Level::Warn, {}, "endpoints not changed for new addresses: " + (r.error.empty() ? r.refused : r.error));
  });
  startWorkers(count, busyPollBudget(count, cpus));
  admin_->start();
  configReloader_->start();
  if (certificateReloader_) certificateReloader_->start();
  health_ = std::make_unique<HealthChecker>(control_, runtime_, *cluster_);
  health_->start();
  loadSignals_ = std::make_unique<SignalScraper>(control_, runtime_, *cluster_);
  loadSignals_->start();
  breakerLog_ = std::make_unique<BreakerLog>(control_, runtime_, *cluster_);
  breakerLog_->start();
  memoryTrimmer_->start();
  resolver_->start();
  if (drift_) drift_->start();
  if (diagnosis_) diagnosis_->start();
  admin_->setReady(true);
}

// Every route's chain for `runtime`'s config. The filters of a feature share
// the families (and the shared state, such as live limits) its first build
// declared: a rebuilt set records into the same series.
std::unique_ptr<FilterSet> Server::makeFilters(const Runtime& runtime, std::uint64_t generation) {
  FilterDependencies deps{runtime.config,      *stats_,       *labels_,       *bins_,       *profileStats_,
                          baselineView_.get(), forest_.get(), vectors_.get(), quality_.get(), accessLog_.get(),
                          requestStats_.get()};
  deps.keys = keys_.get();
  deps.generation = generation;
  return std::make_unique<FilterSet>(deps, registrations_);
}

ConfigReloader::Rebuilt Server::rebuild(const config::Config& loaded, const std::vector<std::string>& changed,
                                        const char* why) {
  ConfigReloader::Rebuilt out;
  // Only routes, backends, the sampling decisions and the global limits come from the file:
  // every other section stays as in force (its changes are in place, or
  // need a restart).
  config::Config next = runtime_->config;
  next.routes = loaded.routes;
  next.backends = loaded.backends;
  if (std::find(changed.begin(), changed.end(), "sampling") != changed.end()) {
    next.sampling.rate = loaded.sampling.rate;
    next.sampling.always_errors = loaded.sampling.always_errors;
    next.sampling.always_anomalies = loaded.sampling.always_anomalies;
    next.sampling.slow_first_token = loaded.sampling.slow_first_token;
  }
  if (std::find(changed.begin(), changed.end(), "rate_limits") != changed.end())
    next.rate_limits.global = loaded.rate_limits.global;
  const metrics::LabelSpace shape(next);
  if (!labels_->sameShape(shape, out.refused)) return out;
  std::string error;
  auto runtime = buildRuntime(std::move(next), error, nullptr,
                              [this](std::size_t backend, const std::string& authority) -> std::optional<std::size_t> {
                                const auto index = labels_->placeEndpoint(metrics::LabelSpace::backendIndex(backend),
                                                                          authority);
                                if (!index) return std::nullopt;
                                cluster_->ensure(*index - 1, backend, runtime_->config.backends[backend].circuit_breaker);
                                return std::size_t{*index - 1};
                              });
  if (!runtime) {
    out.error = error;
    return out;
  }
  cluster_->adopt(*runtime);
  // New TLS settings: connections verified under the old ones are not reused.
  for (std::size_t b = 0; b < runtime->backends.size(); ++b)
    if (!(runtime->config.backends[b].tls == runtime_->config.backends[b].tls))
      for (const auto& e : runtime->backends[b].endpoints) {
        auto& address = cluster_->endpoint(e.id).address;
        address.replace(address.current());
      }
  labels_->adoptRouting(shape);
  auto generation = std::make_shared<Generation>();
  generation->number = generations_.number() + 1;
  generation->runtime = runtime;
  generation->filters = makeFilters(*runtime, generation->number);
  const auto changes = endpointChanges(*runtime_, *runtime);
  generations_.publish(std::move(generation));
  for (auto& w : workers_) w->reload();
  runtime_ = runtime;
  health_->adopt(runtime_);
  loadSignals_->adopt(runtime_);
  resolver_->adopt(*runtime_);
  if (quality_) quality_->adopt(runtime_);
  log::write(log::Level::Info, log::Fields().add("reason", why).add("generation", generations_.number()),
             "routes and backends in force for new requests; requests in flight finish on the config they started on" +
                 (changes.added.empty() ? std::string() : "; endpoints added:" + changes.added) +
                 (changes.removed.empty() ? std::string() : "; endpoints removed (drained):" + changes.removed));
  out.applied = true;
  return out;
}

// The families of the parts the server owns; the filters declare their own.
void Server::declareStats(unsigned workers) {
  const auto& cfg = runtime_->config;
  // Endpoint label index = id + 1: the runtime's endpoints, in id order.
  metrics::LabelSpace::EndpointNames endpoints(runtime_->endpointCount);
  for (std::size_t b = 0; b < runtime_->backends.size(); ++b)
    for (const auto& e : runtime_->backends[b].endpoints) endpoints[e.id] = {b, e.name};
  labels_ = std::make_unique<metrics::LabelSpace>(cfg, &endpoints);
  if (cfg.auth.enabled) keys_ = std::make_unique<auth::KeyDirectory>(cfg, labels_->keyNames(), workers);
  configReloader_ = std::make_unique<ConfigReloader>(control_, cfg.source, cfg.auth.keys_file, keys_.get());
  if (runtime_->clientTls) certificateReloader_ = std::make_unique<CertificateReloader>(control_, *runtime_->clientTls);
  bins_ = std::make_unique<profile::BinSpec>(cfg.profile);
  stats_ = std::make_unique<metrics::StatsRegistry>(workers);
  upstreamStats_ = std::make_unique<UpstreamStats>(*stats_, *labels_);
  stats_->gaugeFrom({"infergate_downstream_connections", "Open client connections.", {},
                     metrics::FamilySpec::Zeros::Export},
                    [this](std::span<const std::uint32_t>) {
                      double open = 0;
                      for (auto& w : workers_) open += w->sessionCount();
                      return open;
                    });
  profileStats_ = std::make_unique<profile::ProfileStats>(*stats_, *labels_, *bins_);
  if (cfg.metrics.enabled)
    requestStats_ = std::make_unique<metrics::RequestStats>(*stats_, *labels_, cfg.metrics.buckets);
  declareClusterStats(*stats_, *labels_, *cluster_);
  SignalScraper::declareStats(*stats_, *labels_, *cluster_);
  resolver_->declareStats(*stats_, *labels_);
  connectionLimits_->declareStats(*stats_);
  memoryTrimmer_ = std::make_unique<MemoryTrimmer>(control_, cfg.server.memory_trim, [this] {
    MemoryLoad load;
    for (auto& w : workers_) load.connections += static_cast<std::size_t>(std::max(w->sessionCount(), 0));
    load.bodyBytes = connectionLimits_->bufferedBodyBytes();
    return load;
  });
  memoryTrimmer_->declareStats(*stats_);
  configReloader_->declareStats(*stats_);
  if (certificateReloader_) certificateReloader_->declareStats(*stats_);
  if (cfg.server.tls.enabled)
    stats_->counterFrom({"infergate_tls_handshake_failures_total",
                         "HTTPS client connections closed in their handshake: error (not TLS, no common "
                         "protocol, a bad record) or timeout (stalled past server.tls.handshake_timeout).",
                         {metrics::Dimension::of("reason", {"error", "timeout"})},
                         metrics::FamilySpec::Zeros::Export},
                        [this](std::span<const std::uint32_t> at) {
                          return static_cast<double>(tlsHandshakeFailures_[at[0]].load(std::memory_order_relaxed));
                        });
}

// Drift evaluation and output scoring, off the request path.
void Server::startBackgroundServices(unsigned workers) {
  const auto& cfg = runtime_->config;
  baselineView_ = std::make_unique<profile::BaselineView>(labels_->modelCount(), cfg.drift.anomaly.min_features);
  // Drift and anomaly marking are monitoring of their own, not a view of the
  // metrics: they run whether or not metrics are recorded and exported.
  if (cfg.drift.enabled) {
    drift_ = std::make_unique<DriftMonitor>(control_, cfg.drift, *labels_, *bins_, *profileStats_, *baselineView_);
    if (cfg.drift.multivariate.enabled) {
      forest_ = std::make_unique<profile::HalfSpaceForest>(labels_->modelCount());
      vectors_ = std::make_unique<profile::VectorQueue>(workers);
      drift_->attachForest(*forest_, *vectors_);
    }
    admin_->setDrift([this] { return drift_->report(); }, [this] { return drift_->freezeWindowAsBaseline(); });
    configReloader_->allowInPlace("drift",
                                  {"psi_warn", "psi_alert", "ks_alert", "learn_requests", "min_window_requests", "window",
                                   "evaluation_interval"},
                                  [this](const config::Config& c) { drift_->setSettings(c.drift); });
    drift_->declareStats(*stats_);
  }
  if (cfg.sampling.enabled) {
    quality_ = std::make_unique<QualityPipeline>(runtime_, *labels_, *stats_, *cluster_);
    admin_->setSamples([this](std::string_view query) { return samplesResponse(*quality_, query); });
    quality_->start();
  }
  // It reads the request metrics: with metrics off there is nothing to judge
  // the deployment by, and the endpoint is not served.
  if (cfg.diagnosis.enabled && requestStats_) {
    diagnosis_ = std::make_unique<DiagnosisMonitor>(
        control_, cfg,
        DiagnosisMonitor::Sources{*requestStats_, *profileStats_, *labels_, *cluster_, quality_.get(), drift_.get()});
    admin_->setDiagnosis([this] { return diagnosis_->report(); });
    diagnosis_->declareStats(*stats_);
  }
}

// server.busy_poll_us, unless the CPUs the process may use cannot give each
// worker one of its own (cpu_allowance.hpp): a worker's poll would then spin
// on a CPU another worker is waiting for (8,000 streams, two workers on one
// CPU: 4.1-4.4 CPU s with polling, 3.2-3.5 without, the inter-token latency
// no better), or spend a container's CPU quota until the kernel stops the
// whole process for the rest of its period.
std::chrono::microseconds Server::busyPollBudget(unsigned workers, const CpuAllowance& cpus) const {
  const std::chrono::microseconds configured(runtime_->config.server.busy_poll_us);
  if (configured.count() == 0) return configured;
  if (cpus.mayPoll(workers)) return configured;
  char quota[32] = "none";
  if (cpus.quota > 0) std::snprintf(quota, sizeof quota, "%.2f", cpus.quota);
  log::write(log::Level::Info,
             log::Fields().add("workers", workers).add("cpus", cpus.affinity).add("cpu_quota", std::string_view(quota)),
             "busy polling off: the workers share CPUs or a CPU quota, and a polling worker would spin on "
             "another's time (server.busy_poll_us needs a CPU per worker, and its time in the quota)");
  return std::chrono::microseconds(0);
}

void Server::startWorkers(unsigned count, std::chrono::microseconds pollBudget) {
  const auto& cfg = runtime_->config;
  auto listen = toEndpoint(cfg.server.listen);
  if (!cfg.server.share_listen_address) refuseAddressInUse(listen);
  std::optional<boost::asio::ip::tcp::endpoint> tlsListen;
  if (runtime_->clientTls) {
    tlsListen = toEndpoint(cfg.server.tls.listen);
    if (!cfg.server.share_listen_address) refuseAddressInUse(*tlsListen);
  }
  for (unsigned i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(i, runtime_, *cluster_, generations_, *upstreamStats_, *labels_);
    worker->setConnectionLimits(connectionLimits_.get());
    worker->setBusyPollBudget(pollBudget);
    worker->setTlsHandshakeFailures(tlsHandshakeFailures_.data());
    worker->listen(listen);
    // With port 0 the first bind picks a port; the others share it.
    if (i == 0) listen = worker->localEndpoint();
    if (tlsListen) {
      worker->listenTls(*tlsListen, *runtime_->clientTls);
      if (i == 0) tlsListen = worker->localTlsEndpoint();
    }
    workers_.push_back(std::move(worker));
  }
  proxyEndpoint_ = listen;
  if (tlsListen) tlsEndpoint_ = *tlsListen;
  for (auto& w : workers_) w->start();
}

// logrotate renames the files, then sends SIGUSR1: new lines go to new files.
void Server::awaitReopen() {
  reopenSignal_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    log::write(log::Level::Info, {}, "SIGUSR1: reopening the access log and the sample sink");
    if (accessLog_) accessLog_->reopen();
    if (quality_) quality_->reopenSink();
    awaitReopen();
  });
}

int Server::run() {
  awaitReopen();
  signals_.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    const auto& server = runtime_->config.server;
    log::writef(log::Level::Info, {}, "signal %d: /readyz answers 503; draining in %lld ms, for up to %lld ms", signal,
                static_cast<long long>(server.drain_delay.count()), static_cast<long long>(server.drain_timeout.count()));
    // Not ready first, still serving: load balancers and Kubernetes take a
    // while to stop sending, and a closed listener meanwhile refuses clients.
    admin_->setReady(false);
    if (server.drain_delay.count() > 0) {
      drainTimer_.expires_after(server.drain_delay);
      drainTimer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) beginDrain();
      });
    } else {
      beginDrain();
    }
    // A second signal stops at once.
    signals_.async_wait([this](boost::system::error_code ec2, int) {
      if (!ec2) stopAll();
    });
  });
  control_.run();
  stopAll();
  return 0;
}

void Server::beginDrain() {
  if (draining_) return;
  draining_ = true;
  log::write(log::Level::Info, {}, "draining: listeners closed, idle connections closed");
  admin_->setReady(false);
  for (auto& w : workers_) w->drain();
  drainDeadline_ = std::chrono::steady_clock::now() + runtime_->config.server.drain_timeout;
  checkDrained();
}

void Server::checkDrained() {
  int open = 0;
  for (auto& w : workers_) open += w->sessionCount();
  const auto now = std::chrono::steady_clock::now();
  if (open > 0 && now >= drainDeadline_ && !cut_) {
    // Tell what is still open why it ends: a 503 draining, or an SSE error
    // event on a stream, rather than a bare close. A second for those to go out.
    cut_ = true;
    log::writef(log::Level::Warn, {}, "drain timeout: ending %d connections (streams get an SSE error event, cause draining)",
                open);
    for (auto& w : workers_) w->cut();
    drainDeadline_ = now + std::chrono::seconds(1);
  } else if (open == 0 || now >= drainDeadline_) {
    if (open > 0)
      log::writef(log::Level::Warn, {}, "drain: closing %d connections that did not end", open);
    else
      log::write(log::Level::Info, {}, "drained");
    stopAll();
    return;
  }
  drainTimer_.expires_after(std::chrono::milliseconds(20));
  drainTimer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) checkDrained();
  });
}

void Server::stopAll() {
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  if (accessLog_) accessLog_->stop();
  if (admin_) admin_->stop();
  if (configReloader_) configReloader_->stop();
  if (certificateReloader_) certificateReloader_->stop();
  if (health_) health_->stop();
  if (loadSignals_) loadSignals_->stop();
  if (breakerLog_) breakerLog_->stop();
  if (memoryTrimmer_) memoryTrimmer_->stop();
  if (resolver_) resolver_->stop();
  if (drift_) drift_->stop();
  if (diagnosis_) diagnosis_->stop();
  if (quality_) quality_->stop();
  signals_.cancel();
  reopenSignal_.cancel();
  drainTimer_.cancel();
  control_.stop();
}

}  // namespace infergate
