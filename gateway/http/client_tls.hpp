#pragma once
// The HTTPS listener's server context (server.tls): its certificate chain and
// key, TLS 1.2 at least, and ALPN that offers http/1.1 only (a client asking
// for h2 alone gets no protocol and falls back, as HTTP/2 is not served).
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "config/config.hpp"

namespace infergate {

// Throws std::runtime_error naming the file that cannot be used.
std::shared_ptr<boost::asio::ssl::context> makeClientTlsContext(const config::ServerConfig::Tls& tls);

}  // namespace infergate
