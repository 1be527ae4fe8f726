#pragma once
// Typed configuration of infergate. Everything the request path needs is resolved
// here once (addresses, durations, sizes, compiled match rules); nothing on the
// request path looks a setting up by name.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace infergate::config {

using Duration = std::chrono::milliseconds;

// A host:port pair, kept as written (for Host headers and logs) and as numbers.
struct Address {
  std::string host;       // "127.0.0.1", "::1", "model-a.internal"
  std::uint16_t port = 0;
  std::string authority() const;  // host:port, IPv6 bracketed
};

struct ServerLimits {
  std::size_t max_body_bytes = 8 * 1024 * 1024;    // 413 above this
  std::size_t max_header_bytes = 16 * 1024;        // 431 above this (request line + fields)
};

struct ServerTimeouts {
  Duration header_read{10'000};      // first byte of a request to end of its header: 408
  Duration body_read{30'000};        // end of header to end of body: 408
  Duration keepalive_idle{60'000};   // idle keep-alive connection is closed silently
};

struct ServerConfig {
  Address listen{"0.0.0.0", 8080};
  unsigned workers = 0;              // 0 = one per core
  Duration drain_timeout{30'000};    // graceful shutdown bound
  ServerLimits limits;
  ServerTimeouts timeouts;
};

struct AdminConfig {
  Address listen{"127.0.0.1", 9090};
};

struct UpstreamTimeouts {
  Duration connect{2'000};           // TCP connect
  Duration first_token{60'000};      // request sent -> first response body byte (first SSE event)
  Duration idle{30'000};             // between two body pieces
  Duration total{600'000};           // whole exchange
};

struct PoolConfig {
  std::size_t max_idle_per_endpoint = 64;  // per worker
  Duration idle_ttl{60'000};               // idle upstream connection lifetime
};

struct EndpointConfig {
  Address address;
};

struct HeaderValue {
  std::string name;
  std::string value;                 // already ${ENV}-interpolated; may be a secret
};

struct BackendConfig {
  std::string name;
  std::vector<EndpointConfig> endpoints;
  std::vector<HeaderValue> headers;  // injected into every upstream request, overriding the client's
  UpstreamTimeouts timeouts;
  PoolConfig pool;
};

struct RouteConfig {
  std::string name;
  std::string path_prefix = "/";
  std::vector<std::string> models;   // exact names or '*' globs; empty = any request
  std::string backend;               // name in Config::backends
  std::string rename_model;          // empty = keep the client's model
  std::size_t backend_index = 0;     // resolved at load
};

struct Config {
  std::string source;                // file the config was read from
  ServerConfig server;
  AdminConfig admin;
  std::vector<BackendConfig> backends;
  std::vector<RouteConfig> routes;   // matched in order, first match wins
};

}  // namespace infergate::config
