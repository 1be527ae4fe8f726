#include "gateway/upstream/endpoint_resolver.hpp"

#include <algorithm>

#include "filters/core/log_line.hpp"

namespace infergate {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
enum Result : std::size_t { kKept, kChanged, kFailed };
}

// One config endpoint named by host. Copies, not references into a config: a
// reload retires it while its resolution may still be under way.
struct EndpointResolver::Named {
  Named(asio::io_context& io, std::string backend, std::string authority, std::chrono::milliseconds refresh,
        std::string host, std::string port, bool every)
      : backend(std::move(backend)), authority(std::move(authority)), refresh(refresh), host(std::move(host)),
        port(std::move(port)), every(every), timer(io) {}
  std::string backend, authority;
  std::chrono::milliseconds refresh;
  std::string host, port;
  bool every;                          // resolve: all (an endpoint per address)
  std::vector<std::size_t> ids;        // its endpoints in the config in force
  std::vector<tcp::endpoint> known;    // resolve: all: their addresses, sorted
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
    std::vector<std::shared_ptr<Named>> entries(backend.config->endpoints.size());
    for (const auto& e : backend.endpoints) {
      const auto& config = backend.config->endpoints[e.configIndex];
      boost::system::error_code ec;
      asio::ip::make_address(config.address.host, ec);
      if (!ec) continue;  // an IP address: nothing to resolve
      auto& n = entries[e.configIndex];
      if (!n) {
        n = std::make_shared<Named>(io_, backend.config->name, e.authority, backend.config->dns_refresh,
                                    config.address.host, std::to_string(config.address.port), config.every_address);
        named_.push_back(n);
      }
      n->ids.push_back(e.id);
      n->known.push_back(e.address);
      resolved_[metrics::LabelSpace::endpointIndex(e.id)] = 1;
    }
  }
  for (auto& n : named_) std::sort(n->known.begin(), n->known.end());
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
    const auto count = [&](Result r) {
      for (auto id : n->ids) counts_[id][r].fetch_add(1, std::memory_order_relaxed);
    };
    const auto fields = log::Fields().add("backend", n->backend).add("endpoint", n->authority);
    if (ec || results.empty()) {
      count(kFailed);
      if (!n->failing)
        log::write(log::Level::Warn, fields,
                   "cannot resolve " + n->authority + ": " + (ec ? ec.message() : "no addresses") + "; keeping " +
                       (n->every ? std::to_string(n->known.size()) + " address(es)"
                                 : cluster_.endpoint(n->ids.front()).address.current().address().to_string()));
      n->failing = true;
      return schedule(n);
    }
    if (n->failing) log::write(log::Level::Info, fields, "resolves again: " + n->authority);
    n->failing = false;
    if (n->every) return followAll(n, results);
    auto& where = cluster_.endpoint(n->ids.front()).address;
    const auto current = where.current();
    const bool kept = std::any_of(results.begin(), results.end(),
                                  [&](const auto& r) { return r.endpoint() == current; });
    if (kept) {
      count(kKept);
    } else {
      const auto next = results.begin()->endpoint();
      where.replace(next);
      count(kChanged);
      log::write(log::Level::Info, fields,
                 n->authority + " now resolves to " + next.address().to_string() + " (was " +
                     current.address().to_string() + "): new connections go there");
    }
    schedule(n);
  });
}

// resolve: all. A different set of addresses is a different set of
// endpoints: the server builds a new generation from the config in force
// (new addresses join, those gone are drained) and adopt() starts again.
void EndpointResolver::followAll(const std::shared_ptr<Named>& n, const tcp::resolver::results_type& results) {
  std::vector<tcp::endpoint> now;
  for (const auto& r : results) now.push_back(r.endpoint());
  std::sort(now.begin(), now.end());
  now.erase(std::unique(now.begin(), now.end()), now.end());
  const auto fields = log::Fields().add("backend", n->backend).add("endpoint", n->authority);
  if (now == n->known || !onChange_) {
    for (auto id : n->ids) counts_[id][kKept].fetch_add(1, std::memory_order_relaxed);
    return schedule(n);
  }
  for (auto id : n->ids) counts_[id][kChanged].fetch_add(1, std::memory_order_relaxed);
  log::write(log::Level::Info, fields,
             n->authority + " now resolves to " + std::to_string(now.size()) + " address(es) (was " +
                 std::to_string(n->known.size()) + "): its endpoints follow");
  onChange_();  // on success, adopt() has retired `n`
  if (!n->retired) schedule(n);
}

}  // namespace infergate
