#include "gateway/upstream/signal_scraper.hpp"

#include <boost/asio/steady_timer.hpp>

#include "filters/core/log_line.hpp"
#include "gateway/upstream/signal_text.hpp"

namespace infergate {

namespace asio = boost::asio;

// One endpoint's scrape loop: wait, GET, read, repeat.
class SignalScraper::Probe : public std::enable_shared_from_this<Probe> {
 public:
  Probe(asio::io_context& io, UpstreamClient& client, std::shared_ptr<const Runtime> runtime,
        const config::SignalsConfig& config, const EndpointRuntime& endpoint, std::size_t backendIndex,
        const std::string& backend, EndpointSignals& signals)
      : client_(client), runtime_(std::move(runtime)), config_(config), names_(signalNames(config)),
        endpoint_(endpoint), backendIndex_(backendIndex), backend_(backend), signals_(signals), timer_(io) {}

  void start() { schedule(std::chrono::milliseconds(0)); }
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void schedule(std::chrono::milliseconds delay) {
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && !self->stopped_) self->scrape();
    });
  }

  void scrape() {
    UpstreamClient::Request request;
    request.target = config_.path;
    request.userAgent = "infergate-signals";
    request.timeout = config_.timeout;
    request.maxResponseBytes = 16 << 20;  // vLLM's text with every histogram is a few hundred KB
    client_.sendTo(endpoint_, backendIndex_, std::move(request), [self = shared_from_this()](UpstreamClient::Response r) {
      self->read(r);
    });
  }

  void read(const UpstreamClient::Response& r) {
    if (stopped_) return;
    const bool ok = r.outcome == UpstreamClient::Response::Outcome::Ok && r.status == 200;
    const auto reading = ok ? readSignals(r.body, names_) : SignalReading{};
    // A body with none of the signal's names is not this kind of server.
    const bool found = reading.running >= 0 || reading.waiting >= 0 || reading.kvCacheUsage >= 0;
    const auto fields = log::Fields().add("backend", backend_).add("endpoint", endpoint_.name);
    if (ok && found) {
      signals_.running.store(reading.running, std::memory_order_relaxed);
      signals_.waiting.store(reading.waiting, std::memory_order_relaxed);
      signals_.kvCacheUsage.store(reading.kvCacheUsage, std::memory_order_relaxed);
      signals_.atNs.store(ClusterState::steadyNowNs(), std::memory_order_relaxed);
      signals_.scrapesOk.fetch_add(1, std::memory_order_relaxed);
      if (failing_) log::write(log::Level::Info, fields, "signals: " + endpoint_.name + " scraped again");
      failing_ = false;
    } else {
      signals_.scrapesFailed.fetch_add(1, std::memory_order_relaxed);
      if (!failing_)
        log::write(log::Level::Warn, fields,
                   "signals: cannot read " + config_.path + " of " + endpoint_.name + ": " +
                       (!ok ? (r.status ? "status " + std::to_string(r.status) : std::string("no answer"))
                            : std::string("none of the signal metrics in it")) +
                       "; its load is unknown once the last reading is older than max_age");
      failing_ = true;
    }
    schedule(config_.interval);
  }

  UpstreamClient& client_;
  std::shared_ptr<const Runtime> runtime_;  // holds config_, endpoint_ and backend_
  const config::SignalsConfig& config_;
  SignalNames names_;
  const EndpointRuntime& endpoint_;
  std::size_t backendIndex_;
  const std::string& backend_;
  EndpointSignals& signals_;
  asio::steady_timer timer_;
  bool failing_ = false;  // logged once per outage
  bool stopped_ = false;
};

SignalScraper::SignalScraper(asio::io_context& io, std::shared_ptr<const Runtime> runtime, ClusterState& cluster)
    : io_(io), cluster_(cluster), client_(io, runtime, cluster) {
  makeProbes(runtime);
}

SignalScraper::~SignalScraper() { stop(); }

void SignalScraper::makeProbes(const std::shared_ptr<const Runtime>& runtime) {
  for (std::size_t b = 0; b < runtime->backends.size(); ++b) {
    const auto& backend = runtime->backends[b];
    if (!backend.config->signals.enabled) continue;
    for (const auto& e : backend.endpoints)
      probes_.push_back(std::make_shared<Probe>(io_, client_, runtime, backend.config->signals, e, b,
                                                backend.config->name, cluster_.endpoint(e.id).signals));
  }
}

void SignalScraper::start() {
  started_ = true;
  for (auto& p : probes_) p->start();
}

void SignalScraper::stop() {
  started_ = false;
  for (auto& p : probes_) p->stop();
  client_.closeAll();
}

void SignalScraper::adopt(std::shared_ptr<const Runtime> runtime) {
  for (auto& p : probes_) p->stop();  // a scrape under way ends in a stopped probe, which ignores it
  probes_.clear();
  client_.setRuntime(runtime);
  makeProbes(runtime);
  if (started_)
    for (auto& p : probes_) p->start();
}

void SignalScraper::declareStats(metrics::StatsRegistry& stats, const metrics::LabelSpace& labels,
                                 const ClusterState& cluster) {
  using At = std::span<const std::uint32_t>;
  using Zeros = metrics::FamilySpec::Zeros;
  const auto signalsOf = [&cluster](At at) -> const EndpointSignals& { return cluster.endpoint(at[0] - 1).signals; };
  // Endpoints in force whose backend takes signals.
  const auto scraped = [&cluster](At at) {
    return cluster.live(at[0] - 1) && cluster.endpoint(at[0] - 1).signals.configured();
  };
  // A reading is exported only while fresh: an unknown load has no value, not zero.
  const auto reading = [&cluster, scraped, signalsOf](std::atomic<double> EndpointSignals::*field) {
    return [&cluster, scraped, signalsOf, field](At at) {
      if (!scraped(at)) return false;
      const auto& s = signalsOf(at);
      return s.fresh(ClusterState::steadyNowNs()) && (s.*field).load(std::memory_order_relaxed) >= 0;
    };
  };
  const auto value = [signalsOf](std::atomic<double> EndpointSignals::*field) {
    return [signalsOf, field](At at) { return (signalsOf(at).*field).load(std::memory_order_relaxed); };
  };
  stats.gaugeFrom({"infergate_backend_requests_running",
                   "Requests the endpoint's model server says it is running (signals), while its reading is fresh.",
                   {labels.endpointDimension()}, Zeros::Export, reading(&EndpointSignals::running)},
                  value(&EndpointSignals::running));
  stats.gaugeFrom({"infergate_backend_requests_waiting",
                   "Requests waiting in the endpoint's model server's queue (signals), while its reading is fresh.",
                   {labels.endpointDimension()}, Zeros::Export, reading(&EndpointSignals::waiting)},
                  value(&EndpointSignals::waiting));
  stats.gaugeFrom({"infergate_backend_kv_cache_usage",
                   "Share of the endpoint's KV cache in use, 0-1 (signals), while its reading is fresh.",
                   {labels.endpointDimension()}, Zeros::Export, reading(&EndpointSignals::kvCacheUsage)},
                  value(&EndpointSignals::kvCacheUsage));
  stats.gaugeFrom({"infergate_backend_signals_age_seconds",
                   "Age of the endpoint's last good signals scrape; past the backend's max_age its load is unknown.",
                   {labels.endpointDimension()}, Zeros::Export,
                   [scraped, signalsOf](At at) { return scraped(at) && signalsOf(at).atNs.load() != 0; }},
                  [signalsOf](At at) {
                    return static_cast<double>(ClusterState::steadyNowNs() - signalsOf(at).atNs.load()) / 1e9;
                  });
  stats.counterFrom({"infergate_backend_signals_scrapes_total", "Scrapes of the endpoints' model-server metrics, by result.",
                     {labels.endpointDimension(), metrics::Dimension::of("result", {"ok", "failed"})}, Zeros::Export,
                     [scraped](At at) { return scraped(at); }},
                    [signalsOf](At at) {
                      const auto& s = signalsOf(at);
                      return static_cast<double>(at[1] == 0 ? s.scrapesOk.load() : s.scrapesFailed.load());
                    });
}

}  // namespace infergate
