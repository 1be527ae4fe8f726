#include "tls_front.hpp"

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <memory>

namespace mock {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// One client's TLS connection and its plain connection to the mock.
class Relay : public std::enable_shared_from_this<Relay> {
 public:
  Relay(tcp::socket client, ssl::context& context, const tcp::endpoint& plain, Stats& stats)
      : tls_(std::move(client), context), plain_(tls_.get_executor()), to_(plain), stats_(stats) {}

  void start() {
    tls_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
      if (ec) {
        self->stats_.tlsFailed.fetch_add(1);
        return self->close();
      }
      self->stats_.tlsHandshakes.fetch_add(1);
      if (SSL_session_reused(self->tls_.native_handle())) self->stats_.tlsResumed.fetch_add(1);
      self->plain_.async_connect(self->to_, [self](error_code ec2) {
        if (ec2) return self->close();
        error_code ignored;
        self->plain_.set_option(tcp::no_delay(true), ignored);
        self->pumpUp();
        self->pumpDown();
      });
    });
  }

 private:
  // Client (TLS) to mock (plain).
  void pumpUp() {
    tls_.async_read_some(asio::buffer(up_), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (ec) return self->close();
      asio::async_write(self->plain_, asio::buffer(self->up_.data(), n), [self](error_code ec2, std::size_t) {
        if (ec2) return self->close();
        self->pumpUp();
      });
    });
  }
  // Mock (plain) to client (TLS).
  void pumpDown() {
    plain_.async_read_some(asio::buffer(down_), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (ec) return self->close();
      asio::async_write(self->tls_, asio::buffer(self->down_.data(), n), [self](error_code ec2, std::size_t) {
        if (ec2) return self->close();
        self->pumpDown();
      });
    });
  }
  // Either side ending ends both, as a plain connection would.
  void close() {
    error_code ignored;
    tls_.next_layer().close(ignored);
    plain_.close(ignored);
  }

  ssl::stream<tcp::socket> tls_;
  tcp::socket plain_;
  tcp::endpoint to_;
  Stats& stats_;
  std::array<char, 16 * 1024> up_{};
  std::array<char, 16 * 1024> down_{};
};

}  // namespace

TlsFront::TlsFront(asio::io_context& io, const tcp::endpoint& listen, const tcp::endpoint& plain,
                   const std::string& certFile, const std::string& keyFile, const std::string& clientCa,
                   Stats& stats)
    : context_(ssl::context::tls_server), acceptor_(io), plain_(plain), stats_(stats) {
  SSL_CTX_set_min_proto_version(context_.native_handle(), TLS1_2_VERSION);
  context_.use_certificate_chain_file(certFile);
  context_.use_private_key_file(keyFile, ssl::context::pem);
  if (!clientCa.empty()) {
    context_.load_verify_file(clientCa);
    context_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  // Sessions resumable (TLS 1.2 cache and 1.3 tickets), as hosted APIs allow.
  SSL_CTX_set_session_cache_mode(context_.native_handle(), SSL_SESS_CACHE_SERVER);
  static const unsigned char kId[] = "infergate-mock";
  SSL_CTX_set_session_id_context(context_.native_handle(), kId, sizeof kId - 1);
  acceptor_.open(listen.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(listen);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  accept();
}

void TlsFront::accept() {
  acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;
    if (!ec) std::make_shared<Relay>(std::move(socket), context_, plain_, stats_)->start();
    accept();
  });
}

}  // namespace mock
