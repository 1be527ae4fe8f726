#include "gateway/server/runtime.hpp"

#include <boost/asio/io_context.hpp>

#include "gateway/http/client_tls.hpp"
#include "gateway/upstream/upstream_tls.hpp"

namespace infergate {

std::shared_ptr<const Runtime> buildRuntime(config::Config config, std::string& error,
                                            std::vector<std::string>* unresolved) {
  auto runtime = std::make_shared<Runtime>();
  runtime->config = std::move(config);
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  for (const auto& backend : runtime->config.backends) {
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
      e.id = runtime->endpointCount++;
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
