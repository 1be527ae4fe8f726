#include "gateway/http/client_tls.hpp"

#include <openssl/ssl.h>

#include <cstring>
#include <stdexcept>

namespace infergate {

namespace ssl = boost::asio::ssl;

namespace {
// ALPN: http/1.1 when the client offers it; no protocol otherwise (the
// handshake goes on and the client speaks HTTP/1.1 or leaves).
int selectHttp11(SSL*, const unsigned char** out, unsigned char* outLength, const unsigned char* in,
                 unsigned int inLength, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outLength, kHttp11, sizeof kHttp11, in, inLength) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}
}  // namespace

std::shared_ptr<ssl::context> makeClientTlsContext(const config::ServerConfig::Tls& tls) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                       ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(tls.cert_file, ec);
  if (ec) throw std::runtime_error("server.tls.cert_file '" + tls.cert_file + "': " + ec.message());
  context->use_private_key_file(tls.key_file, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("server.tls.key_file '" + tls.key_file + "': " + ec.message());
  if (SSL_CTX_check_private_key(context->native_handle()) != 1)
    throw std::runtime_error("server.tls: the key in '" + tls.key_file + "' does not match the certificate");
  SSL_CTX_set_alpn_select_cb(context->native_handle(), &selectHttp11, nullptr);
  // OpenSSL keeps a read and a write record buffer (17 KiB each) per
  // connection for its life unless told to give them back between records:
  // an idle keep-alive connection then holds none.
  SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  // OpenSSL reads the socket itself (gateway/net/tls_stream.hpp): with read
  // ahead, one recv() takes what is there instead of a record's 5-byte
  // header and then its body.
  SSL_CTX_set_read_ahead(context->native_handle(), 1);
  // Resumption (session cache and TLS 1.3 tickets) spares returning clients a full handshake.
  SSL_CTX_set_session_cache_mode(context->native_handle(), SSL_SESS_CACHE_SERVER);
  static const unsigned char kId[] = "infergate";
  SSL_CTX_set_session_id_context(context->native_handle(), kId, sizeof kId - 1);
  return context;
}

ClientTlsContext::ClientTlsContext(config::ServerConfig::Tls tls) : tls_(std::move(tls)) {
  made_.push_back(makeClientTlsContext(tls_));
  current_.store(made_.back().get(), std::memory_order_release);
}

bool ClientTlsContext::reload(std::string& error) {
  try {
    made_.push_back(makeClientTlsContext(tls_));
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  current_.store(made_.back().get(), std::memory_order_release);
  return true;
}

}  // namespace infergate
