#include "gateway/net/socket_read.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <string>

#include "gateway/net/peer_close_events.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;

// Counts recv() calls on one socket. Asio's reads call ::recv, which this
// definition in the test binary takes over; every other caller is unaffected.
namespace {
std::atomic<int> watchedFd{-1};
std::atomic<int> recvCalls{0};
}  // namespace

extern "C" ssize_t recv(int fd, void* buffer, size_t length, int flags) {
  if (fd == watchedFd.load()) recvCalls.fetch_add(1);
  return ::recvfrom(fd, buffer, length, flags, nullptr, nullptr);
}

namespace {

struct Pair {
  asio::io_context io;
  tcp::socket client{io};
  infergate::WorkerSocket server{io};  // the gateway's side, as its workers hold it
  Pair() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
    watchedFd = server.native_handle();
    recvCalls = 0;
  }
  ~Pair() { watchedFd = -1; }
  void send(const std::string& text) { asio::write(client, asio::buffer(text)); }
  // The server side's registration made to report the client's close, as an
  // upstream socket's is: the events its reads take (null if that failed).
  const unsigned* reportPeerClose() {
    return infergate::reportPeerClose(server) ? infergate::peerCloseEventsOf(server) : nullptr;
  }
  // Runs ready handlers; reaches the reactor with a zero timeout.
  void poll() {
    io.restart();
    io.poll();
  }
};

struct ReadResult {
  bool done = false;
  boost::system::error_code ec;
  std::string bytes;
};

auto collect(ReadResult& result, char* buffer) {
  return [&result, buffer](boost::system::error_code ec, std::size_t n) {
    result.done = true;
    result.ec = ec;
    result.bytes.assign(buffer, n);
  };
}

}  // namespace

TEST(SocketRead, NextMessageReadSpendsNoRecvOnADrainedSocket) {
  Pair p;
  char buffer[64];
  ReadResult first;
  // As in the gateway: the read waits in the reactor, and the bytes' event completes it.
  infergate::readNextMessage(p.server, asio::buffer(buffer), collect(first, buffer));
  p.send("abc");
  p.poll();
  ASSERT_TRUE(first.done);
  EXPECT_EQ(first.bytes, "abc");  // short: the socket is drained

  recvCalls = 0;
  ReadResult second;
  infergate::readNextMessage(p.server, asio::buffer(buffer), collect(second, buffer));
  p.poll();
  EXPECT_FALSE(second.done);
  EXPECT_EQ(recvCalls.load(), 0);  // waits for the event, no EAGAIN round trip

  p.send("def");
  p.io.restart();
  p.io.run_one();
  ASSERT_TRUE(second.done);
  EXPECT_EQ(second.bytes, "def");
  EXPECT_EQ(recvCalls.load(), 1);
}

// What the drain mark saves: Asio's own read, in the same place, makes a recv()
// that finds nothing.
TEST(SocketRead, PlainAsioReadTriesADrainedSocketFirst) {
  Pair p;
  char buffer[64];
  ReadResult first;
  p.server.async_read_some(asio::buffer(buffer), collect(first, buffer));
  p.send("abc");
  p.poll();
  ASSERT_TRUE(first.done);

  recvCalls = 0;
  ReadResult second;
  p.server.async_read_some(asio::buffer(buffer), collect(second, buffer));
  p.poll();
  EXPECT_FALSE(second.done);
  EXPECT_EQ(recvCalls.load(), 1);
  p.server.cancel();
  p.poll();
}

TEST(SocketRead, AFullBufferLeavesTheSocketToBeTriedAtOnce) {
  Pair p;
  char buffer[4];
  ReadResult first, second;
  infergate::readNextMessage(p.server, asio::buffer(buffer), collect(first, buffer));
  p.send("abcdefg");
  p.poll();
  ASSERT_TRUE(first.done);
  EXPECT_EQ(first.bytes, "abcd");  // full: more may be queued
  infergate::readNextMessage(p.server, asio::buffer(buffer), collect(second, buffer));
  p.poll();  // no new event needed
  ASSERT_TRUE(second.done);
  EXPECT_EQ(second.bytes, "efg");
}

// The case the mark cannot see: an end-of-file that arrived with the data of a
// short read raises no later event. Reads inside a message use readMore, which
// looks at the socket first.
TEST(SocketRead, ReadMoreSeesAnEndOfFileThatCameWithTheData) {
  Pair p;
  char buffer[64];
  ReadResult data;
  infergate::readNextMessage(p.server, asio::buffer(buffer), collect(data, buffer));
  p.send("abc");
  p.client.shutdown(tcp::socket::shutdown_send);
  p.poll();
  ASSERT_TRUE(data.done);
  EXPECT_EQ(data.bytes, "abc");

  ReadResult eof;
  infergate::readMore(p.server, asio::buffer(buffer), collect(eof, buffer));
  EXPECT_FALSE(eof.done);  // completes through the io_context, never inline
  p.poll();
  ASSERT_TRUE(eof.done);
  EXPECT_EQ(eof.ec, asio::error::eof);
}

// With the peer's close reported by the reactor (peer_close_events.hpp), a
// read in the middle of a message trusts a short read too: it waits for the
// next event without a recv() that finds nothing...
TEST(SocketRead, AReportedSocketWaitsMidMessageWithoutARecvThatFindsNothing) {
  Pair p;
  const unsigned* events = p.reportPeerClose();
  ASSERT_NE(events, nullptr);
  char buffer[64];
  ReadResult first;
  infergate::readMore(p.server, asio::buffer(buffer), events, collect(first, buffer));
  p.send("abc");
  p.poll();
  ASSERT_TRUE(first.done);
  EXPECT_EQ(first.bytes, "abc");
  EXPECT_FALSE(infergate::peerCloseReported(events));

  recvCalls = 0;
  ReadResult second;
  infergate::readMore(p.server, asio::buffer(buffer), events, collect(second, buffer));
  p.poll();
  EXPECT_FALSE(second.done);
  EXPECT_EQ(recvCalls.load(), 0);  // readMore would have made one here
  p.client.shutdown(tcp::socket::shutdown_send);  // a FIN after the data: an event of its own
  p.io.restart();
  p.io.run_one();
  ASSERT_TRUE(second.done);
  EXPECT_EQ(second.ec, asio::error::eof);
}

// ...and an end-of-file that came with the data is not hidden by the mark:
// the event that reported the data says the FIN is there, so the short read
// does not mark the socket drained and the next read sees the end at once.
// The same sequence with a read that trusts short reads unconditionally
// (readNextMessage, for new messages) waits for an event that never comes.
TEST(SocketRead, AReportedSocketSeesAnEndOfFileThatCameWithTheData) {
  Pair p;
  const unsigned* events = p.reportPeerClose();
  ASSERT_NE(events, nullptr);
  char buffer[64];
  ReadResult data;
  infergate::readMore(p.server, asio::buffer(buffer), events, collect(data, buffer));
  p.poll();  // waiting in the reactor, as a stream's read is
  ASSERT_FALSE(data.done);
  p.send("abc");
  p.client.shutdown(tcp::socket::shutdown_send);  // both there before the reactor looks
  p.poll();
  ASSERT_TRUE(data.done);
  EXPECT_EQ(data.bytes, "abc");
  EXPECT_TRUE(infergate::peerCloseReported(events));

  ReadResult eof;
  infergate::readMore(p.server, asio::buffer(buffer), events, collect(eof, buffer));
  p.poll();
  ASSERT_TRUE(eof.done);
  EXPECT_EQ(eof.ec, asio::error::eof);
}

TEST(SocketRead, WithoutTheReportAShortReadHidesAnEndOfFileThatCameWithIt) {
  Pair p;
  char buffer[64];
  ReadResult data;
  infergate::readNextMessage(p.server, asio::buffer(buffer), collect(data, buffer));
  p.poll();
  p.send("abc");
  p.client.shutdown(tcp::socket::shutdown_send);
  p.poll();
  ASSERT_TRUE(data.done);
  ReadResult next;
  infergate::readNextMessage(p.server, asio::buffer(buffer), collect(next, buffer));
  p.poll();
  EXPECT_FALSE(next.done);  // why reads mid-message need the report, or a recv() first
  p.server.cancel();
  p.poll();
}

TEST(SocketRead, ReadMoreOnAnEmptySocketWaitsForData) {
  Pair p;
  char buffer[64];
  ReadResult result;
  infergate::readMore(p.server, asio::buffer(buffer), collect(result, buffer));
  p.poll();
  EXPECT_FALSE(result.done);
  p.send("late");
  p.io.restart();
  p.io.run_one();
  ASSERT_TRUE(result.done);
  EXPECT_EQ(result.bytes, "late");
}

TEST(SocketRead, ReadMoreReportsAResetPeer) {
  Pair p;
  char buffer[64];
  ::linger hard{1, 0};
  ::setsockopt(p.client.native_handle(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  p.client.close();  // RST
  ReadResult result;
  infergate::readMore(p.server, asio::buffer(buffer), collect(result, buffer));
  p.poll();
  ASSERT_TRUE(result.done);
  EXPECT_EQ(result.ec, asio::error::connection_reset);
}

// A stream's wait (readMoreInto) and the first-token wait (readNextMessageInto)
// hold no read buffer while the socket is empty; the buffer is taken when the
// bytes are there, and the few unparsed bytes left from before are kept.
TEST(SocketRead, WaitsIntoABufferHoldNoMemoryUntilBytesArrive) {
  Pair p;
  infergate::ReadBuffer buffer;
  buffer.commit(asio::buffer_copy(buffer.prepare(32 * 1024), asio::buffer(std::string("\r\n"))));
  ASSERT_GE(buffer.capacity(), 32u * 1024);
  ReadResult result;
  infergate::readMoreInto(p.server, buffer, 32 * 1024, [&](boost::system::error_code ec, std::size_t n) {
    result.done = true;
    result.ec = ec;
    buffer.commit(n);
  });
  p.poll();
  EXPECT_FALSE(result.done);
  EXPECT_EQ(buffer.size(), 2u);      // the unparsed CRLF is kept
  EXPECT_LT(buffer.capacity(), 64u);  // the 32 KiB went back while the socket is empty
  p.send("data: x\n\n");
  p.io.restart();
  p.io.run_one();
  ASSERT_TRUE(result.done);
  EXPECT_FALSE(result.ec);
  EXPECT_EQ(std::string(static_cast<const char*>(buffer.data().data()), buffer.size()), "\r\ndata: x\n\n");

  infergate::ReadBuffer first;
  ReadResult second;
  infergate::readNextMessageInto(p.server, first, 32 * 1024, [&](boost::system::error_code ec, std::size_t n) {
    second.done = true;
    first.commit(n);
  });
  p.poll();
  EXPECT_FALSE(second.done);
  EXPECT_EQ(first.capacity(), 0u);
  p.send("HTTP/1.1 200 OK\r\n");
  p.io.restart();
  p.io.run_one();
  ASSERT_TRUE(second.done);
  EXPECT_EQ(first.size(), 17u);
}
