#include "gateway/upstream/signal_scraper.hpp"

#include "filters/core/log_line.hpp"
#include "gateway/upstream/signal_text.hpp"

namespace infergate {

namespace asio = boost::asio;

namespace {

// What one endpoint's answers say, into its EndpointSignals; a failure is
// logged once per outage.
class SignalReader {
 public:
  SignalReader(const config::SignalsConfig& config, const std::string& backend, const EndpointRuntime& endpoint,
               EndpointSignals& signals)
      : config_(config), names_(signalNames(config)), backend_(backend), endpoint_(endpoint), signals_(signals) {}

  void operator()(const UpstreamClient::Response& r) {
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
      return;
    }
    signals_.scrapesFailed.fetch_add(1, std::memory_order_relaxed);
    if (!failing_)
      log::write(log::Level::Warn, fields,
                 "signals: cannot read " + config_.path + " of " + endpoint_.name + ": " +
                     (!ok ? (r.status ? "status " + std::to_string(r.status) : std::string("no answer"))
                          : std::string("none of the signal metrics in it")) +
                     "; its load is unknown once the last reading is older than max_age");
    failing_ = true;
  }

 private:
  const config::SignalsConfig& config_;
  SignalNames names_;
  const std::string& backend_;
  const EndpointRuntime& endpoint_;
  EndpointSignals& signals_;
  bool failing_ = false;
};

}  // namespace

SignalScraper::SignalScraper(asio::io_context& io, std::shared_ptr<const Runtime> runtime, ClusterState& cluster)
    : poller_(
          io, std::move(runtime), cluster,
          [](const BackendRuntime& b) -> std::optional<PollSpec> {
            const auto& s = b.config->signals;
            if (!s.enabled) return std::nullopt;
            // vLLM's text with every histogram is a few hundred KB; the
            // backend's headers go along (a server whose metrics need its key).
            return PollSpec{s.path, s.interval, s.timeout, 16 << 20, "infergate-signals", true};
          },
          [&cluster](const BackendRuntime& b, std::size_t, const EndpointRuntime& e) -> EndpointPoller::Handler {
            auto reader =
                std::make_shared<SignalReader>(b.config->signals, b.config->name, e, cluster.endpoint(e.id).signals);
            return [reader](const UpstreamClient::Response& r) { (*reader)(r); };
          }) {}

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
