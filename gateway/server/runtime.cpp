#include "gateway/server/runtime.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>

#include "gateway/http/client_tls.hpp"
#include "gateway/upstream/upstream_tls.hpp"

namespace infergate {

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
    for (const auto& endpoint : backend.endpoints) {
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
      EndpointRuntime e;
      const auto id = place ? place(bi, endpoint.address.authority()) : std::optional<std::size_t>(nextId++);
      if (!id) {
        error = "backend '" + backend.name + "': no room for endpoint " + endpoint.address.authority() +
                ": the process has had server.max_endpoints (" + std::to_string(runtime->endpointCapacity) +
                ") endpoints; raise it and restart";
        return nullptr;
      }
      e.id = *id;
      runtime->endpointCount = std::max(runtime->endpointCount, *id + 1);
      e.authority = endpoint.address.authority();
      if (why.empty()) e.address = results.begin()->endpoint();
      if (endpoint.tls) {
        e.tls = b.tls.get();
        e.serverName = backend.tls.server_name.empty() ? endpoint.address.host : backend.tls.server_name;
      }
      b.endpoints.push_back(std::move(e));
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
