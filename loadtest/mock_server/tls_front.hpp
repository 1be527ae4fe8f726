#pragma once
// The mock's HTTPS mode (--tls-cert/--tls-key): a TLS listener in front of its
// own plain listener. Each TLS connection is terminated here and relayed byte
// for byte to a plain connection of its own, so every behaviour of the plain
// mock (streams, hangs, resets, a client leaving) holds over TLS unchanged:
// closing either side closes the other. It counts handshakes and resumed
// sessions, for tests of connection reuse and resumption.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <string>

#include "mock_stats.hpp"

namespace mock {

class TlsFront {
 public:
  // Throws when the certificate or key cannot be read. `clientCa` not empty:
  // clients must present a certificate it signed (mTLS).
  TlsFront(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& listen,
           const boost::asio::ip::tcp::endpoint& plain, const std::string& certFile, const std::string& keyFile,
           const std::string& clientCa, Stats& stats);
  boost::asio::ip::tcp::endpoint localEndpoint() const { return acceptor_.local_endpoint(); }

 private:
  void accept();

  boost::asio::ssl::context context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint plain_;
  Stats& stats_;
};

}  // namespace mock
