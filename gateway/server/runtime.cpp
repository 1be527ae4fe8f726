#include "gateway/server/runtime.hpp"

#include <algorithm>
#include <functional>
#include <boost/asio/io_context.hpp>

#include "gateway/http/client_tls.hpp"
#include "gateway/upstream/upstream_tls.hpp"

namespace infergate {

namespace {
// "10.0.0.7:8000", "[fd00::7]:8000".
std::string addressName(const boost::asio::ip::tcp::endpoint& e) {
  const auto ip = e.address().to_string();
  return (e.address().is_v6() ? "[" + ip + "]" : ip) + ":" + std::to_string(e.port());
}
}  // namespace

std::shared_ptr<const Runtime> buildRuntime(config::Config config, std::string& error,
                                            std::vector<std::string>* unresolved, const EndpointPlacer& place) {
  auto runtime = std::make_shared<Runtime>();
  runtime->config = std::move(config);
  std::size_t configured = 0;
  for (const auto& b : runtime->config.backends) configured += b.endpoints.size();
  runtime->endpointCapacity = std::max<std::size_t>(runtime->config.server.max_endpoints, configured);
  std::size_t nextId = 0;
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  for (std::size_t bi = 0; bi < runtime->config.backends.size(); ++bi) {
    const auto& backend = runtime->config.backends[bi];
    BackendRuntime b;
    b.config = &backend;
    for (const auto& endpoint : backend.endpoints)
      if (endpoint.tls && !b.tls) {
        try {
          b.tls = makeUpstreamTlsContext(backend);
        } catch (const std::exception& e) {
          error = e.what();
          return nullptr;
        }
      }
    for (std::size_t ci = 0; ci < backend.endpoints.size(); ++ci) {
      const auto& endpoint = backend.endpoints[ci];
      boost::system::error_code ec;
      auto results = resolver.resolve(endpoint.address.host, std::to_string(endpoint.address.port),
                                      boost::asio::ip::resolver_base::numeric_service, ec);
      std::string why;
      if (ec || results.empty())
        why = "backend '" + backend.name + "': cannot resolve " + endpoint.address.authority() + ": " +
              (ec ? ec.message() : "no addresses");
      if (!why.empty() && unresolved == nullptr) {
        error = why;
        return nullptr;
      }
      if (!why.empty()) unresolved->push_back(why);
      // One endpoint, or one per address.
      std::vector<boost::asio::ip::tcp::endpoint> addresses;
      if (why.empty())
        for (const auto& r : results) {
          addresses.push_back(r.endpoint());
          if (!endpoint.every_address) break;
        }
      if (endpoint.every_address) {
        std::sort(addresses.begin(), addresses.end());
        addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
      } else if (addresses.empty()) {
        addresses.emplace_back();  // --check: unresolved, kept in the runtime
      }
      for (const auto& address : addresses) {
        EndpointRuntime e;
        e.authority = endpoint.address.authority();
        e.name = endpoint.every_address ? addressName(address) : e.authority;
        e.configIndex = ci;
        e.nameHash = std::hash<std::string>{}(e.name);
        e.weight = endpoint.weight;
        auto id = place ? place(bi, e.name) : std::optional<std::size_t>(nextId++);
        if (!place && *id >= runtime->endpointCapacity) id.reset();
        if (!id) {
          error = "backend '" + backend.name + "': no room for endpoint " + e.name +
                  ": the process has had server.max_endpoints (" + std::to_string(runtime->endpointCapacity) +
                  ") endpoints; raise it and restart";
          return nullptr;
        }
        e.id = *id;
        runtime->endpointCount = std::max(runtime->endpointCount, *id + 1);
        e.address = address;
        if (endpoint.tls) {
          e.tls = b.tls.get();
          e.serverName = backend.tls.server_name.empty() ? endpoint.address.host : backend.tls.server_name;
        }
        b.endpoints.push_back(std::move(e));
      }
    }
    runtime->backends.push_back(std::move(b));
  }
  runtime->router = std::make_unique<Router>(runtime->config.routes);
  if (runtime->config.server.tls.enabled) {
    try {
      runtime->clientTls = std::make_shared<ClientTlsContext>(runtime->config.server.tls);
    } catch (const std::exception& e) {
      error = e.what();
      return nullptr;
    }
  }
  return runtime;
}

}  // namespace infergate
