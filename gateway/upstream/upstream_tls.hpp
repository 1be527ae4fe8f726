#pragma once
// TLS to https:// endpoints: one OpenSSL client context per backend (its CA
// store, client certificate, TLS 1.2 at least), built once at start and
// shared by every worker (an SSL_CTX is safe to make connections from on any
// thread), and the checks each new connection gets: SNI and the host name
// its certificate must carry.
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "config/config.hpp"

namespace infergate {

// Throws std::runtime_error naming the backend and the file that failed.
std::shared_ptr<boost::asio::ssl::context> makeUpstreamTlsContext(const config::BackendConfig& backend);

struct EndpointRuntime;
class UpstreamPool;
// Before a new connection's handshake: SNI, the host name its certificate
// must carry, and the worker's last session for the endpoint to resume.
void prepareTls(SSL* ssl, const EndpointRuntime& endpoint, const UpstreamPool& pool);

// Why a handshake failed, for the log: the certificate verification result
// when there is one (unknown CA, wrong host name, expired), else the error.
std::string tlsFailureReason(const void* ssl, const boost::system::error_code& ec);

}  // namespace infergate
