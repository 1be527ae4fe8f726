#include "gateway/gathered_write.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
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
