#include "gateway/net/gathered_write.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <sys/socket.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Writes `pieces` through GatheredWrite on a real loopback connection and
// returns what the other end read.
std::string sendAndReceive(infergate::GatheredWrite& writer, const std::vector<std::string>& pieces) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io), server(io);
  client.connect(acceptor.local_endpoint());
  acceptor.accept(server);

  std::vector<asio::const_buffer> buffers;
  std::size_t total = 0;
  for (const auto& p : pieces) {
    buffers.push_back(asio::buffer(p));
    total += p.size();
  }
  bool written = false;
  writer.start(client, std::span<const asio::const_buffer>(buffers.data(), buffers.size()),
               [&](boost::system::error_code ec, std::size_t n) {
                 EXPECT_FALSE(ec) << ec.message();
                 EXPECT_EQ(n, total);
                 written = true;
               });
  std::string received(total, '\0');
  asio::async_read(server, asio::buffer(received), [](boost::system::error_code ec, std::size_t) {
    EXPECT_FALSE(ec) << ec.message();
  });
  io.run();
  EXPECT_TRUE(written);
  return received;
}

}  // namespace

TEST(GatheredWrite, SmallPiecesArriveInOrderAsOneStream) {
  infergate::GatheredWrite writer;
  EXPECT_EQ(sendAndReceive(writer, {"HTTP/1.1 200 OK\r\n\r\n", "5\r\n", "hello", "\r\n"}),
            "HTTP/1.1 200 OK\r\n\r\n5\r\nhello\r\n");
  // The copy buffer is reused: a shorter write after a longer one carries only its bytes.
  EXPECT_EQ(sendAndReceive(writer, {"ab", "c"}), "abc");
  EXPECT_EQ(sendAndReceive(writer, {"single piece"}), "single piece");
}

TEST(GatheredWrite, PiecesAboveTheCopyLimitAreWrittenWhole) {
  infergate::GatheredWrite writer;
  std::string big(infergate::GatheredWrite::kCopyLimit * 8, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(sendAndReceive(writer, {"head:", big, ":tail"}), "head:" + big + ":tail");
  EXPECT_EQ(sendAndReceive(writer, {std::string(infergate::GatheredWrite::kCopyLimit - 1, 'x'), "y"}),
            std::string(infergate::GatheredWrite::kCopyLimit - 1, 'x') + "y");
}

namespace {

struct Connected {
  asio::io_context io;
  tcp::socket client{io}, server{io};
  Connected() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
};

}  // namespace

TEST(GatheredWrite, CompletesInlineWhenTheSocketTakesEverything) {
  Connected c;
  infergate::GatheredWrite writer;
  const std::string head = "HTTP/1.1 200 OK\r\n\r\n", body = "hello";
  std::array<asio::const_buffer, 2> parts{asio::buffer(head), asio::buffer(body)};
  bool written = false;
  writer.start(c.client, std::span<const asio::const_buffer>(parts), [&](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, head.size() + body.size());
    written = true;
  });
  EXPECT_TRUE(written);  // before any handler of the io_context ran
  std::string received(head.size() + body.size(), '\0');
  asio::read(c.server, asio::buffer(received));
  EXPECT_EQ(received, head + body);
}

// More than the socket buffers hold: the kernel takes a part, Asio sends the
// rest as the peer reads, and the handler sees the whole count once.
TEST(GatheredWrite, AShortSendFinishesWhenThePeerReads) {
  Connected c;
  const int small = 16 * 1024;
  ::setsockopt(c.client.native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(c.server.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  infergate::GatheredWrite writer;
  std::string big(8 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7) % 26);
  const std::string tail = ":end";
  std::array<asio::const_buffer, 2> parts{asio::buffer(big), asio::buffer(tail)};
  int calls = 0;
  std::size_t reported = 0;
  writer.start(c.client, std::span<const asio::const_buffer>(parts), [&](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    ++calls;
    reported = n;
  });
  EXPECT_EQ(calls, 0);  // the socket could not take 8 MiB at once
  std::string received(big.size() + tail.size(), '\0');
  asio::async_read(c.server, asio::buffer(received), [](boost::system::error_code ec, std::size_t) {
    EXPECT_FALSE(ec) << ec.message();
  });
  c.io.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(reported, big.size() + tail.size());
  EXPECT_TRUE(received == big + tail);
}

TEST(GatheredWrite, ReportsAPeerThatReset) {
  Connected c;
  ::linger hard{1, 0};
  ::setsockopt(c.server.native_handle(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  c.server.close();  // RST
  infergate::GatheredWrite writer;
  const std::string text = "GET / HTTP/1.1\r\n\r\n";
  std::array<asio::const_buffer, 1> parts{asio::buffer(text)};
  boost::system::error_code seen;
  int calls = 0;
  writer.start(c.client, std::span<const asio::const_buffer>(parts), [&](boost::system::error_code ec, std::size_t) {
    seen = ec;
    ++calls;
  });
  c.io.run();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(seen == asio::error::connection_reset || seen == asio::error::broken_pipe) << seen.message();
}

// A handler that starts the next write (a streamed body relaying piece after
// piece) would recurse without end if every write completed inline.
TEST(GatheredWrite, InlineCompletionsNestOnlyToABoundedDepth) {
  Connected c;
  infergate::GatheredWrite writer;
  const std::string piece = "data: x\n\n";
  std::array<asio::const_buffer, 1> parts{asio::buffer(piece)};
  constexpr int kWrites = 200;
  int written = 0, depth = 0, deepest = 0;
  std::function<void()> next = [&] {
    writer.start(c.client, std::span<const asio::const_buffer>(parts), [&](boost::system::error_code ec, std::size_t) {
      EXPECT_FALSE(ec);
      ++depth;
      deepest = std::max(deepest, depth);
      if (++written < kWrites) next();
      --depth;
    });
  };
  next();
  std::string received(piece.size() * kWrites, '\0');
  asio::async_read(c.server, asio::buffer(received), [](boost::system::error_code, std::size_t) {});
  c.io.run();
  EXPECT_EQ(written, kWrites);
  EXPECT_LE(deepest, static_cast<int>(infergate::GatheredWrite::kMaxInlineDepth) + 1);
  std::string expected;
  for (int i = 0; i < kWrites; ++i) expected += piece;
  EXPECT_EQ(received, expected);
}

// A copied write that the socket takes at once leaves nothing in the writer: a
// connection between writes (a stream waiting for its next token) holds no copy.
TEST(GatheredWrite, AWriteTakenAtOnceLeavesNoCopyBehind) {
  Connected c;
  infergate::GatheredWrite writer;
  const std::string head = "HTTP/1.1 200 OK\r\n\r\n", body = "data: {}\n\n";
  std::array<asio::const_buffer, 2> parts{asio::buffer(head), asio::buffer(body)};
  bool written = false;
  writer.start(c.client, std::span<const asio::const_buffer>(parts), [&](boost::system::error_code, std::size_t) {
    written = true;
  });
  EXPECT_TRUE(written);
  EXPECT_EQ(writer.heldBytes(), 0u);
}

// A copied write the socket cannot take keeps its own copy of the unsent
// bytes, so the thread's scratch can serve other connections' writes (which
// overwrite it) meanwhile; the copy goes once the bytes are sent.
TEST(GatheredWrite, UnsentBytesOfACopiedWriteSurviveOtherWritesOnTheThread) {
  Connected c;
  const int small = 4096;
  ::setsockopt(c.client.native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  // Fill the socket's send path until it would block.
  std::string filler;
  const std::string block(4096, 'f');
  for (;;) {
    const auto n = ::send(c.client.native_handle(), block.data(), block.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    filler.append(block, 0, static_cast<std::size_t>(n));
  }
  infergate::GatheredWrite writer;
  const std::string head(3000, 'h'), body(5000, 'b');
  std::array<asio::const_buffer, 2> parts{asio::buffer(head), asio::buffer(body)};
  bool written = false;
  writer.start(c.client, std::span<const asio::const_buffer>(parts), [&](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(n, head.size() + body.size());
    written = true;
  });
  ASSERT_FALSE(written);
  EXPECT_GE(writer.heldBytes(), head.size() + body.size());

  // Another connection's write on this thread reuses the scratch.
  infergate::GatheredWrite other;
  EXPECT_EQ(sendAndReceive(other, {std::string(6000, 'x'), std::string(2000, 'y')}),
            std::string(6000, 'x') + std::string(2000, 'y'));

  std::string received(filler.size() + head.size() + body.size(), '\0');
  asio::async_read(c.server, asio::buffer(received), [](boost::system::error_code ec, std::size_t) {
    EXPECT_FALSE(ec) << ec.message();
  });
  c.io.run();
  EXPECT_TRUE(written);
  EXPECT_TRUE(received == filler + head + body);
  EXPECT_EQ(writer.heldBytes(), 0u);
}
