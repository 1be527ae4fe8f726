#include "gateway/upstream/endpoint_resolver.hpp"

#include <algorithm>

#include "filters/core/log_line.hpp"

namespace infergate {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
enum Result : std::size_t { kKept, kChanged, kFailed };
}

struct EndpointResolver::Named {
  Named(asio::io_context& io, const config::BackendConfig& b, const EndpointRuntime& e, std::string host, std::string port)
      : backend(b), endpoint(e), host(std::move(host)), port(std::move(port)), timer(io) {}
  const config::BackendConfig& backend;
  const EndpointRuntime& endpoint;
  std::string host, port;
  asio::steady_timer timer;
  bool failing = false;  // the last resolution failed (logged once per outage)
};

EndpointResolver::EndpointResolver(asio::io_context& io, const Runtime& runtime, ClusterState& cluster)
    : io_(io), cluster_(cluster), resolver_(io), counts_(runtime.endpointCount) {
  for (const auto& backend : runtime.backends) {
    if (backend.config->dns_refresh.count() <= 0) continue;
    for (std::size_t i = 0; i < backend.endpoints.size(); ++i) {
      const auto& address = backend.config->endpoints[i].address;
      boost::system::error_code ec;
      asio::ip::make_address(address.host, ec);
      if (!ec) continue;  // an IP address: nothing to resolve
      named_.push_back(std::make_unique<Named>(io, *backend.config, backend.endpoints[i], address.host,
                                               std::to_string(address.port)));
    }
  }
}

EndpointResolver::~EndpointResolver() = default;

void EndpointResolver::declareStats(metrics::StatsRegistry& stats, const metrics::LabelSpace& labels) {
  if (named_.empty()) return;
  std::vector<char> named(labels.endpointCount(), 0);
  for (const auto& n : named_) named[metrics::LabelSpace::endpointIndex(n->endpoint.id)] = 1;
  stats.counterFrom({"infergate_dns_resolutions_total",
                     "Resolutions of endpoints named by host, by result: kept (the address in use is still among the "
                     "answers), changed (new connections go to a new address), failed (the address in use is kept).",
                     {labels.endpointDimension(), metrics::Dimension::of("result", {"kept", "changed", "failed"})},
                     // Zeros exported: a first failure must show as an increase, not as a new series.
                     metrics::FamilySpec::Zeros::Export,
                     [named](std::span<const std::uint32_t> at) { return named[at[0]] != 0; }},
                    [this](std::span<const std::uint32_t> at) {
                      return static_cast<double>(counts_[at[0] - 1][at[1]].load(std::memory_order_relaxed));
                    });
}

void EndpointResolver::start() {
  for (auto& n : named_) schedule(*n);
}

void EndpointResolver::stop() {
  stopped_ = true;
  resolver_.cancel();
  for (auto& n : named_) n->timer.cancel();
}

void EndpointResolver::schedule(Named& n) {
  n.timer.expires_after(n.backend.dns_refresh);
  n.timer.async_wait([this, &n](boost::system::error_code ec) {
    if (!ec && !stopped_) resolve(n);
  });
}

void EndpointResolver::resolve(Named& n) {
  resolver_.async_resolve(n.host, n.port, tcp::resolver::numeric_service,
                          [this, &n](boost::system::error_code ec, tcp::resolver::results_type results) {
    if (stopped_) return;
    auto& where = cluster_.endpoint(n.endpoint.id).address;
    auto& counts = counts_[n.endpoint.id];
    const auto fields = log::Fields().add("backend", n.backend.name).add("endpoint", n.endpoint.authority);
    if (ec || results.empty()) {
      counts[kFailed].fetch_add(1, std::memory_order_relaxed);
      if (!n.failing)
        log::write(log::Level::Warn, fields,
                   "cannot resolve " + n.endpoint.authority + ": " + (ec ? ec.message() : "no addresses") +
                       "; keeping " + where.current().address().to_string());
      n.failing = true;
      return schedule(n);
    }
    if (n.failing) log::write(log::Level::Info, fields, "resolves again: " + n.endpoint.authority);
    n.failing = false;
    const auto current = where.current();
    const bool kept = std::any_of(results.begin(), results.end(),
                                  [&](const auto& r) { return r.endpoint() == current; });
    if (kept) {
      counts[kKept].fetch_add(1, std::memory_order_relaxed);
    } else {
      const auto next = results.begin()->endpoint();
      where.replace(next);
      counts[kChanged].fetch_add(1, std::memory_order_relaxed);
      log::write(log::Level::Info, fields,
                 n.endpoint.authority + " now resolves to " + next.address().to_string() + " (was " +
                     current.address().to_string() + "): new connections go there");
    }
    schedule(n);
  });
}

}  // namespace infergate
