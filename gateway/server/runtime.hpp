#pragma once
// The immutable, resolved form of a Config that workers share read-only:
// endpoint addresses resolved, routes compiled. Built once at startup.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "gateway/http/client_tls.hpp"
#include "gateway/routing/router.hpp"

namespace infergate {

struct EndpointRuntime {
  std::size_t id = 0;                    // index into every worker's pool table
  std::string authority;                 // Host header value
  // Its name in labels, logs and reports, and what a reload knows it by: the
  // authority, or for `resolve: all` the address it stands for ("10.0.0.7:8000").
  std::string name;
  std::size_t configIndex = 0;           // its entry in the backend's config endpoints
  std::uint64_t nameHash = 0;            // of `name`: prefix affinity ranks endpoints by it (the same on every replica)
  unsigned weight = 1;
  boost::asio::ip::tcp::endpoint address;
  boost::asio::ssl::context* tls = nullptr;  // https://: the backend's context
  std::string serverName;                    // https://: SNI and the name the certificate must carry
};

struct BackendRuntime {
  const config::BackendConfig* config = nullptr;
  std::vector<EndpointRuntime> endpoints;
  std::shared_ptr<boost::asio::ssl::context> tls;  // when it has https:// endpoints
};

struct Runtime {
  config::Config config;
  std::vector<BackendRuntime> backends;  // same order as config.backends
  // Its endpoints' ids are below endpointCount. An id is never given to
  // another endpoint (a reload's runtime gets them from the label space), so
  // arrays indexed by id are made once, at start, with endpointCapacity
  // places (server.max_endpoints).
  std::size_t endpointCount = 0;
  std::size_t endpointCapacity = 0;
  std::unique_ptr<Router> router;
  std::shared_ptr<ClientTlsContext> clientTls;  // server.tls: the HTTPS listener's (replaceable)
};

// Where an endpoint's id comes from: (backend index, name) to its id, or
// nothing when no place is left. Unset: ids in config order from 0 (start).
using EndpointPlacer = std::function<std::optional<std::size_t>(std::size_t backend, const std::string& authority)>;

// Resolves host names (blocking: at startup, and on the control thread for a
// reload). Returns null and fills `error` when an endpoint cannot be resolved.
// An endpoint with `resolve: all` becomes one endpoint per address (sorted,
// so that the same answers give the same endpoints in the same order).
// With `unresolved` (infergate --check), an endpoint host name that does not
// resolve here is listed there instead of failing: a check runs where the
// cluster's names are not visible (CI, a laptop); a start still fails on it.
std::shared_ptr<const Runtime> buildRuntime(config::Config config, std::string& error,
                                            std::vector<std::string>* unresolved = nullptr,
                                            const EndpointPlacer& place = {});

}  // namespace infergate
