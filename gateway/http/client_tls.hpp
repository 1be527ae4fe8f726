#pragma once
// The HTTPS listener's server context (server.tls): its certificate chain and
// key, TLS 1.2 at least, and ALPN that offers http/1.1 only (a client asking
// for h2 alone gets no protocol and falls back, as HTTP/2 is not served).
#include <boost/asio/ssl/context.hpp>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace infergate {

// Throws std::runtime_error naming the file that cannot be used.
std::shared_ptr<boost::asio::ssl::context> makeClientTlsContext(const config::ServerConfig::Tls& tls);

// The context new HTTPS connections get, replaceable while the gateway runs
// (its certificate read again): a worker takes current() at each accept (one
// atomic load); connections made before keep theirs. Contexts replaced are
// kept until exit, as their connections may still use them (a replacement
// per certificate change, so few).
class ClientTlsContext {
 public:
  explicit ClientTlsContext(config::ServerConfig::Tls tls);  // throws, as makeClientTlsContext
  boost::asio::ssl::context& current() const { return *current_.load(std::memory_order_acquire); }
  const config::ServerConfig::Tls& config() const { return tls_; }
  // Reads the files again: true when the new context is in force; else the
  // reason in `error` and the current one stays. One thread at a time.
  bool reload(std::string& error);

 private:
  config::ServerConfig::Tls tls_;
  std::vector<std::shared_ptr<boost::asio::ssl::context>> made_;
  std::atomic<boost::asio::ssl::context*> current_{nullptr};
};

}  // namespace infergate
