// The upstream side of peer_close_events.hpp on a real io_context: the mark
// put before a connect reaches the kernel with the connect's own registration
// change, and a close the reactor reported is visible without a system call.
#include "gateway/net/peer_close_events.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gateway/net/socket_read.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// An upstream connection as the exchange makes one: opened, marked, then
// connected asynchronously; `server` is the model server's end.
struct Upstream {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  infergate::WorkerSocket socket{io};
  tcp::socket server{io};
  Upstream() {
    socket.open(tcp::v4());
    infergate::reportPeerCloseFromConnect(socket);
    bool connected = false;
    socket.async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) { connected = !ec; });
    acceptor.accept(server);
    io.run();
    EXPECT_TRUE(connected);
  }
  void poll() {
    io.restart();
    io.poll();
  }
};

}  // namespace

TEST(PeerCloseEvents, ASocketNotReportedHasNoEvents) {
  asio::io_context io;
  infergate::WorkerSocket socket(io);
  socket.open(tcp::v4());
  EXPECT_EQ(infergate::peerCloseEventsOf(socket), nullptr);
}

// As the exchange makes one: marked before the connect, checked after it (an
// epoll_ctl only if the connect did not wait). The kernel's registration then
// reports the server's close, with no read waiting (what the pool's reuse
// check reads) and with one (socket_read_test.cpp: a FIN that came with the
// data is seen). Without EPOLLRDHUP in the kernel's registration the events
// never say so.
TEST(PeerCloseEvents, AnUpstreamSocketMarkedBeforeItsConnectReportsTheServersClose) {
  Upstream u;
  ASSERT_TRUE(infergate::reportPeerClose(u.socket));
  const unsigned* events = infergate::peerCloseEventsOf(u.socket);
  ASSERT_NE(events, nullptr);
  // A worker's io_context always has work (its accept): its reactor runs.
  auto work = asio::make_work_guard(u.io);
  u.poll();
  EXPECT_FALSE(infergate::peerCloseReported(events));
  u.server.close();
  u.poll();
  EXPECT_TRUE(infergate::peerCloseReported(events));
}
