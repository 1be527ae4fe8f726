// TlsStream over real loopback sockets and the test CA's certificates: both
// ends handshake, bytes cross intact through full socket buffers, handlers
// never run inside the call that starts them, a close without close_notify
// is stream_truncated and one with it is eof, and writing to a peer that has
// gone is an error, not a SIGPIPE (this test process does not ignore it).
#include "gateway/net/tls_stream.hpp"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>

#include "gateway/net/worker_io.hpp"

namespace asio = boost::asio;
using boost::system::error_code;
using infergate::TlsStream;
using infergate::WorkerAcceptor;
using infergate::WorkerSocket;

namespace {

const std::string& certDir() {
  static const std::string dir = [] {
    const std::string d = "/tmp/infergate-tls-stream-test-" + std::to_string(::getpid());
    const std::string command =
        "bash " + std::string(INFERGATE_SOURCE_DIR) + "/tests/support/make_test_certs.sh " + d + " >/dev/null";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("make_test_certs.sh failed");
    std::atexit([] { std::filesystem::remove_all("/tmp/infergate-tls-stream-test-" + std::to_string(::getpid())); });
    return d;
  }();
  return dir;
}

// A connected pair of loopback sockets, each end with its TLS stream, shook hands.
struct TlsPair {
  asio::io_context io;
  asio::ssl::context serverContext{asio::ssl::context::tls_server};
  asio::ssl::context clientContext{asio::ssl::context::tls_client};
  WorkerSocket serverSocket{io.get_executor()};
  WorkerSocket clientSocket{io.get_executor()};
  std::unique_ptr<TlsStream<WorkerSocket&>> server, client;

  explicit TlsPair(int socketBuffer = 0) {
    serverContext.use_certificate_chain_file(certDir() + "/server.crt");
    serverContext.use_private_key_file(certDir() + "/server.key", asio::ssl::context::pem);
    clientContext.load_verify_file(certDir() + "/ca.crt");
    clientContext.set_verify_mode(asio::ssl::verify_peer);
    WorkerAcceptor acceptor(io.get_executor(), {asio::ip::make_address("127.0.0.1"), 0});
    acceptor.async_accept(serverSocket, [](error_code ec) { EXPECT_FALSE(ec) << ec.message(); });
    clientSocket.async_connect(acceptor.local_endpoint(), [](error_code ec) { EXPECT_FALSE(ec) << ec.message(); });
    io.run();
    io.restart();
    if (socketBuffer > 0) {
      for (auto* s : {&serverSocket, &clientSocket}) {
        s->set_option(asio::socket_base::send_buffer_size(socketBuffer));
        s->set_option(asio::socket_base::receive_buffer_size(socketBuffer));
      }
    }
    server = std::make_unique<TlsStream<WorkerSocket&>>(serverSocket, serverContext);
    client = std::make_unique<TlsStream<WorkerSocket&>>(clientSocket, clientContext);
    SSL_set_tlsext_host_name(client->native_handle(), "localhost");
    SSL_set1_host(client->native_handle(), "localhost");
    error_code serverResult = asio::error::would_block, clientResult = asio::error::would_block;
    server->async_handshake(asio::ssl::stream_base::server, [&](error_code ec) { serverResult = ec; });
    client->async_handshake(asio::ssl::stream_base::client, [&](error_code ec) { clientResult = ec; });
    io.run();
    io.restart();
    EXPECT_FALSE(serverResult) << serverResult.message();
    EXPECT_FALSE(clientResult) << clientResult.message();
  }
};

std::string pattern(std::size_t bytes) {
  std::string s(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

}  // namespace

TEST(TlsStream, BytesCrossIntactThroughFullSocketBuffersBothWaysAtOnce) {
  TlsPair pair(8 * 1024);  // small socket buffers: writes must wait for room
  const std::string up = pattern(300 * 1024), down = pattern(200 * 1024 + 17);
  std::string gotUp(up.size(), '\0'), gotDown(down.size(), '\0');
  error_code e1 = asio::error::would_block, e2 = e1, e3 = e1, e4 = e1;
  asio::async_write(*pair.client, asio::buffer(up), [&](error_code ec, std::size_t) { e1 = ec; });
  asio::async_write(*pair.server, asio::buffer(down), [&](error_code ec, std::size_t) { e2 = ec; });
  asio::async_read(*pair.server, asio::buffer(gotUp), [&](error_code ec, std::size_t) { e3 = ec; });
  asio::async_read(*pair.client, asio::buffer(gotDown), [&](error_code ec, std::size_t) { e4 = ec; });
  pair.io.run();
  for (auto ec : {e1, e2, e3, e4}) EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(gotUp == up);
  EXPECT_TRUE(gotDown == down);
}

TEST(TlsStream, HandlersNeverRunInsideTheCallThatStartsThem) {
  TlsPair pair;
  // Two records in flight: after the first read, OpenSSL holds the second,
  // so the next read completes at once, yet not inside the call.
  bool wrote = false;
  asio::async_write(*pair.client, asio::buffer(std::string("first")), [&](error_code, std::size_t) {
    asio::async_write(*pair.client, asio::buffer(std::string("second")), [&](error_code, std::size_t) { wrote = true; });
  });
  pair.io.run();
  pair.io.restart();
  ASSERT_TRUE(wrote);
  char buffer[64];
  std::size_t total = 0;
  bool inside = false, ranInside = false;
  std::function<void()> readOne = [&] {
    inside = true;
    pair.server->async_read_some(asio::buffer(buffer + total, sizeof buffer - total), [&](error_code ec, std::size_t n) {
      ranInside = ranInside || inside;
      ASSERT_FALSE(ec) << ec.message();
      total += n;
      if (total < std::string("firstsecond").size()) readOne();
    });
    inside = false;
  };
  readOne();
  pair.io.run();
  EXPECT_FALSE(ranInside);
  EXPECT_EQ(std::string(buffer, total), "firstsecond");
}

TEST(TlsStream, ACloseWithoutCloseNotifyIsTruncatedAndOneWithItIsEof) {
  {
    TlsPair pair;
    pair.clientSocket.shutdown(asio::socket_base::shutdown_send);  // a FIN, no close_notify
    char buffer[16];
    error_code result;
    pair.server->async_read_some(asio::buffer(buffer), [&](error_code ec, std::size_t) { result = ec; });
    pair.io.run();
    EXPECT_EQ(result, asio::ssl::error::stream_truncated) << result.message();
  }
  {
    TlsPair pair;
    ASSERT_GE(SSL_shutdown(pair.client->native_handle()), 0);  // sends close_notify
    char buffer[16];
    error_code result;
    pair.server->async_read_some(asio::buffer(buffer), [&](error_code ec, std::size_t) { result = ec; });
    pair.io.run();
    EXPECT_EQ(result, asio::error::eof) << result.message();
  }
}

TEST(TlsStream, WritingToAPeerThatHasGoneIsAnErrorNotASignal) {
  TlsPair pair(8 * 1024);
  // The client resets its connection; the server writes on, past the first
  // error too (a send() to a reset socket then fails with EPIPE, which
  // without MSG_NOSIGNAL would kill this process).
  pair.clientSocket.set_option(asio::socket_base::linger(true, 0));
  pair.clientSocket.close();
  const std::string chunk = pattern(64 * 1024);
  int writes = 0, errors = 0;
  std::function<void()> writeMore = [&] {
    asio::async_write(*pair.server, asio::buffer(chunk), [&](error_code ec, std::size_t) {
      if (ec) ++errors;
      if (++writes < 20) writeMore();
    });
  };
  writeMore();
  pair.io.run();
  EXPECT_EQ(writes, 20);
  EXPECT_GE(errors, 19) << "writes to a reset peer succeeded";
}
