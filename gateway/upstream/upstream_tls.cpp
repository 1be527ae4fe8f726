#include "gateway/upstream/upstream_tls.hpp"

#include "gateway/server/runtime.hpp"
#include "gateway/upstream/upstream_pool.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>

namespace infergate {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> makeUpstreamTlsContext(const config::BackendConfig& backend) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  auto* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  const auto& tls = backend.tls;
  const auto fail = [&](const std::string& what, const boost::system::error_code& ec) {
    throw std::runtime_error("backend '" + backend.name + "': " + what + ": " + ec.message());
  };
  boost::system::error_code ec;
  if (tls.insecure_skip_verify) {
    context->set_verify_mode(ssl::verify_none);
  } else {
    context->set_verify_mode(ssl::verify_peer);
    if (tls.ca_file.empty()) context->set_default_verify_paths(ec);
    else context->load_verify_file(tls.ca_file, ec);
    if (ec) fail(tls.ca_file.empty() ? "the system CA store" : "tls.ca_file '" + tls.ca_file + "'", ec);
  }
  if (!tls.cert_file.empty()) {
    context->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) fail("tls.cert_file '" + tls.cert_file + "'", ec);
    context->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    if (ec) fail("tls.key_file '" + tls.key_file + "'", ec);
  }
  // Record buffers given back between records: a pooled connection that
  // waits holds none (17 KiB each way otherwise).
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(native, 1);  // one recv() per read, not a header's and a body's
  // Sessions are kept per worker and endpoint (UpstreamPool) for resumption.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  return context;
}

void prepareTls(SSL* ssl, const EndpointRuntime& endpoint, const UpstreamPool& pool) {
  SSL_set_tlsext_host_name(ssl, endpoint.serverName.c_str());
  SSL_set1_host(ssl, endpoint.serverName.c_str());
  if (auto* session = pool.session(endpoint.id)) SSL_set_session(ssl, session);
}

std::string tlsFailureReason(const void* sslHandle, const boost::system::error_code& ec) {
  auto* ssl = static_cast<SSL*>(const_cast<void*>(sslHandle));
  if (ssl != nullptr) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) return std::string("certificate: ") + X509_verify_cert_error_string(verify);
  }
  return ec.message();
}

}  // namespace infergate
