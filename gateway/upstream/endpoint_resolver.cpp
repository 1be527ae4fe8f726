#include "gateway/upstream/endpoint_resolver.hpp"

#include <algorithm>

#include "filters/core/log_line.hpp"

namespace infergate {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
enum Result : std::size_t { kKept, kChanged, kFailed };
}

// Copies, not references into a config: a reload retires it while its
// resolution may still be under way.
struct EndpointResolver::Named {
  Named(asio::io_context& io, std::string backend, const EndpointRuntime& e, std::chrono::milliseconds refresh,
        std::string host, std::string port)
      : backend(std::move(backend)), authority(e.authority), id(e.id), refresh(refresh), host(std::move(host)),
        port(std::move(port)), timer(io) {}
  std::string backend, authority;
  std::size_t id;
  std::chrono::milliseconds refresh;
  std::string host, port;
  asio::steady_timer timer;
  bool failing = false;  // the last resolution failed (logged once per outage)
  bool retired = false;  // a reload replaced it
};

EndpointResolver::EndpointResolver(asio::io_context& io, const Runtime& runtime, ClusterState& cluster)
    : io_(io), cluster_(cluster), resolver_(io),
      counts_(std::max(runtime.endpointCapacity, runtime.endpointCount)),
      resolved_(counts_.size() + 1, 0) {
  collect(runtime);
}

EndpointResolver::~EndpointResolver() = default;

void EndpointResolver::collect(const Runtime& runtime) {
  for (const auto& backend : runtime.backends) {
    if (backend.config->dns_refresh.count() <= 0) continue;
    for (std::size_t i = 0; i < backend.endpoints.size(); ++i) {
      const auto& address = backend.config->endpoints[i].address;
      boost::system::error_code ec;
      asio::ip::make_address(address.host, ec);
      if (!ec) continue;  // an IP address: nothing to resolve
      named_.push_back(std::make_shared<Named>(io_, backend.config->name, backend.endpoints[i],
                                               backend.config->dns_refresh, address.host, std::to_string(address.port)));
      resolved_[metrics::LabelSpace::endpointIndex(backend.endpoints[i].id)] = 1;
    }
  }
}

void EndpointResolver::adopt(const Runtime& runtime) {
  for (auto& n : named_) {
    n->retired = true;
    n->timer.cancel();
  }
  named_.clear();
  collect(runtime);  // an endpoint resolved before keeps its series (its counts stay)
  if (started_ && !stopped_)
    for (auto& n : named_) schedule(n);
}

void EndpointResolver::declareStats(metrics::StatsRegistry& stats, const metrics::LabelSpace& labels) {
  stats.counterFrom({"infergate_dns_resolutions_total",
                     "Resolutions of endpoints named by host, by result: kept (the address in use is still among the "
                     "answers), changed (new connections go to a new address), failed (the address in use is kept).",
                     {labels.endpointDimension(), metrics::Dimension::of("result", {"kept", "changed", "failed"})},
                     // Zeros exported: a first failure must show as an increase, not as a new series.
                     metrics::FamilySpec::Zeros::Export,
                     // Read at scrape, on the control thread that also adopts reloads.
                     [this](std::span<const std::uint32_t> at) { return resolved_[at[0]] != 0; }},
                    [this](std::span<const std::uint32_t> at) {
                      return static_cast<double>(counts_[at[0] - 1][at[1]].load(std::memory_order_relaxed));
                    });
}

void EndpointResolver::start() {
  started_ = true;
  for (auto& n : named_) schedule(n);
}

void EndpointResolver::stop() {
  stopped_ = true;
  resolver_.cancel();
  for (auto& n : named_) n->timer.cancel();
}

void EndpointResolver::schedule(const std::shared_ptr<Named>& n) {
  n->timer.expires_after(n->refresh);
  n->timer.async_wait([this, n](boost::system::error_code ec) {
    if (!ec && !stopped_ && !n->retired) resolve(n);
  });
}

void EndpointResolver::resolve(const std::shared_ptr<Named>& n) {
  resolver_.async_resolve(n->host, n->port, tcp::resolver::numeric_service,
                          [this, n](boost::system::error_code ec, tcp::resolver::results_type results) {
    if (stopped_ || n->retired) return;
    auto& where = cluster_.endpoint(n->id).address;
    auto& counts = counts_[n->id];
    const auto fields = log::Fields().add("backend", n->backend).add("endpoint", n->authority);
    if (ec || results.empty()) {
      counts[kFailed].fetch_add(1, std::memory_order_relaxed);
      if (!n->failing)
        log::write(log::Level::Warn, fields,
                   "cannot resolve " + n->authority + ": " + (ec ? ec.message() : "no addresses") + "; keeping " +
                       where.current().address().to_string());
      n->failing = true;
      return schedule(n);
    }
    if (n->failing) log::write(log::Level::Info, fields, "resolves again: " + n->authority);
    n->failing = false;
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
                 n->authority + " now resolves to " + next.address().to_string() + " (was " +
                     current.address().to_string() + "): new connections go there");
    }
    schedule(n);
  });
}

}  // namespace infergate
