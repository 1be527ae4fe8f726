#include "gateway/net/read_prefetch.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/net/socket_read.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using infergate::ReadBuffer;
using infergate::ReadPrefetch;

namespace {

// A worker's thread in miniature: its io_context (no locking, as a
// worker's), a prefetch with its ring installed on this thread, and loopback
// connections whose server ends are read the way the gateway reads.
struct OnAWorker {
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  ReadPrefetch prefetch{io};
  bool opened = prefetch.open();
  ReadPrefetch::Installed installed{&prefetch};
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};

  struct Conn {
    tcp::socket client, server;
    ReadBuffer buffer;
    std::vector<error_code> outcomes;
    explicit Conn(asio::io_context& io) : client(io), server(io) {}
    std::string received() const {
      const auto d = buffer.data();
      return {static_cast<const char*>(d.data()), d.size()};
    }
  };
  std::vector<std::unique_ptr<Conn>> conns;

  Conn& connect() {
    auto c = std::make_unique<Conn>(io);
    c->client.connect(acceptor.local_endpoint());
    acceptor.accept(c->server);
    conns.push_back(std::move(c));
    return *conns.back();
  }

  // The handler every read below gets: it commits what it is told (also
  // when cancelled, as the gateway's do) and runs `then`.
  template <class Then>
  static auto committing(Conn& c, Then then) {
    return [&c, then](error_code ec, std::size_t n) {
      c.buffer.commit(n);
      c.outcomes.push_back(ec);
      then(c, ec);
    };
  }
  // The read for a new message, as the gateway's sessions and exchanges make
  // it: it waits for the socket's event.
  template <class Then>
  void readNext(Conn& c, std::size_t size, Then then) {
    infergate::readNextMessageInto(c.server, c.buffer, size, committing(c, then));
  }
  void readNext(Conn& c, std::size_t size = 4096) {
    readNext(c, size, [](Conn&, error_code) {});
  }
  // A read in the middle of a message: tries the socket first.
  template <class Then>
  void readMore(Conn& c, std::size_t size, Then then) {
    infergate::readMoreInto(c.server, c.buffer, size, committing(c, then));
  }

  // Runs handlers until `done` or nothing is left to do.
  template <class Done>
  void runUntil(Done done) {
    for (int i = 0; i < 1000 && !done(); ++i) io.run_one_for(std::chrono::milliseconds(20));
  }
};

void sendAll(tcp::socket& s, const std::string& bytes) { asio::write(s, asio::buffer(bytes)); }

}  // namespace

// The point of it: the reads one wait announces are made together, each into
// its own connection's buffer.
TEST(ReadPrefetch, ReadsOfOneWaitAreMadeTogetherEachIntoItsOwnBuffer) {
  OnAWorker w;
  ASSERT_TRUE(w.opened) << "io_uring refused: " << std::strerror(errno);
  constexpr int kConns = 6;
  for (int i = 0; i < kConns; ++i) w.readNext(w.connect());
  w.io.poll();  // every read now waits for its socket's event
  for (int i = 0; i < kConns; ++i) sendAll(w.conns[i]->client, "request " + std::to_string(i) + std::string(100 + i, 'x'));
  w.runUntil([&] {
    for (auto& c : w.conns)
      if (c->outcomes.empty()) return false;
    return true;
  });
  for (int i = 0; i < kConns; ++i) {
    ASSERT_EQ(w.conns[i]->outcomes.size(), 1u);
    EXPECT_FALSE(w.conns[i]->outcomes[0]) << w.conns[i]->outcomes[0].message();
    EXPECT_EQ(w.conns[i]->received(), "request " + std::to_string(i) + std::string(100 + i, 'x'));
  }
  EXPECT_EQ(w.prefetch.counts().rings, 1u);
  EXPECT_EQ(w.prefetch.counts().reads, static_cast<std::uint64_t>(kConns));
}

// A lone ready socket is read by the reactor's own recv(): a ring of one costs more.
TEST(ReadPrefetch, ALoneReadySocketIsNotReadAhead) {
  OnAWorker w;
  ASSERT_TRUE(w.opened) << "io_uring refused: " << std::strerror(errno);
  auto& a = w.connect();
  auto& b = w.connect();
  w.readNext(a);
  w.readNext(b);
  w.io.poll();
  sendAll(a.client, "only a");
  w.runUntil([&] { return !a.outcomes.empty(); });
  EXPECT_EQ(a.received(), "only a");
  EXPECT_TRUE(b.outcomes.empty());
  EXPECT_EQ(w.prefetch.counts().reads, 0u);
}

// A message larger than a read ahead takes arrives whole and in order: the
// rest is read by the next reads.
TEST(ReadPrefetch, AMessageLargerThanTheReadAheadArrivesWhole) {
  OnAWorker w;
  ASSERT_TRUE(w.opened) << "io_uring refused: " << std::strerror(errno);
  std::vector<std::string> sent;
  // Each completion reads on until the whole message is there.
  std::function<void(OnAWorker::Conn&, error_code)> on = [&](OnAWorker::Conn& c, error_code ec) {
    const auto i = static_cast<std::size_t>(&c == w.conns[0].get() ? 0 : &c == w.conns[1].get() ? 1 : 2);
    if (!ec && c.buffer.size() < sent[i].size()) w.readMore(c, 16 * 1024, on);
  };
  for (int i = 0; i < 3; ++i) {
    auto& c = w.connect();
    std::string bytes;
    for (int k = 0; bytes.size() < 3 * infergate::ReadPrefetch::kAheadBytes + 123; ++k)
      bytes += std::to_string(i) + ":" + std::to_string(k) + ",";
    sent.push_back(bytes);
    w.readNext(c, 16 * 1024, on);
  }
  w.io.poll();
  for (int i = 0; i < 3; ++i) sendAll(w.conns[i]->client, sent[i]);
  w.runUntil([&] {
    for (int i = 0; i < 3; ++i)
      if (w.conns[i]->buffer.size() < sent[i].size()) return false;
    return true;
  });
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(w.conns[i]->received() == sent[i]) << "connection " << i << ": " << w.conns[i]->received().size() << " bytes of " << sent[i].size();
  EXPECT_GE(w.prefetch.counts().reads, 3u);
}

// A read made ahead and then cancelled before the reactor performs it (here:
// by the handler of the socket reported before it in the same wait) hands its
// bytes to its handler with operation_aborted; nothing is lost.
TEST(ReadPrefetch, AReadCancelledAfterItWasMadeAheadKeepsItsBytes) {
  OnAWorker w;
  ASSERT_TRUE(w.opened) << "io_uring refused: " << std::strerror(errno);
  auto& a = w.connect();
  auto& b = w.connect();
  auto cancelOther = [&](OnAWorker::Conn& self, error_code) {
    OnAWorker::Conn& other = &self == &a ? b : a;
    if (other.outcomes.empty()) other.server.cancel();
  };
  w.readNext(a, 4096, cancelOther);
  w.readNext(b, 4096, cancelOther);
  w.io.poll();
  sendAll(a.client, "first");
  sendAll(b.client, "second, cancelled");
  w.runUntil([&] { return !a.outcomes.empty() && !b.outcomes.empty(); });
  ASSERT_EQ(w.prefetch.counts().reads, 2u);
  // Events come in the order the sockets became ready.
  ASSERT_EQ(b.outcomes.size(), 1u);
  EXPECT_EQ(b.outcomes[0], asio::error::operation_aborted);
  EXPECT_EQ(a.received(), "first");
  EXPECT_EQ(b.received(), "second, cancelled");
}

// End-of-file read ahead reaches its read as end-of-file. A socket reported
// with an error is left to the reactor's own read, which reports the reset.
TEST(ReadPrefetch, EndOfFileReadAheadIsEndOfFileAndAResetIsLeftToTheReactor) {
  OnAWorker w;
  ASSERT_TRUE(w.opened) << "io_uring refused: " << std::strerror(errno);
  auto& closedA = w.connect();
  auto& closedB = w.connect();
  auto& reset = w.connect();
  for (auto* c : {&closedA, &closedB, &reset}) w.readNext(*c);
  w.io.poll();
  closedA.client.shutdown(tcp::socket::shutdown_send);
  closedB.client.shutdown(tcp::socket::shutdown_send);
  reset.client.set_option(asio::socket_base::linger(true, 0));
  reset.client.close();
  w.runUntil([&] { return !closedA.outcomes.empty() && !closedB.outcomes.empty() && !reset.outcomes.empty(); });
  EXPECT_EQ(w.prefetch.counts().reads, 2u);
  for (auto* c : {&closedA, &closedB}) {
    ASSERT_EQ(c->outcomes.size(), 1u);
    EXPECT_EQ(c->outcomes[0], asio::error::eof);
  }
  ASSERT_EQ(reset.outcomes.size(), 1u);
  EXPECT_EQ(reset.outcomes[0], asio::error::connection_reset);
}

// Bytes followed by the peer's FIN: the bytes first, then the end-of-file on
// the next read in the middle of the message (which tries the socket first).
TEST(ReadPrefetch, BytesThenEndOfFileAreBothSeen) {
  OnAWorker w;
  ASSERT_TRUE(w.opened) << "io_uring refused: " << std::strerror(errno);
  std::vector<OnAWorker::Conn*> conns{&w.connect(), &w.connect()};
  std::function<void(OnAWorker::Conn&, error_code)> on = [&](OnAWorker::Conn& c, error_code ec) {
    if (!ec) w.readMore(c, 4096, on);
  };
  for (auto* c : conns) w.readNext(*c, 4096, on);
  w.io.poll();
  for (auto* c : conns) {
    sendAll(c->client, "last words");
    c->client.shutdown(tcp::socket::shutdown_send);
  }
  w.runUntil([&] { return conns[0]->outcomes.size() >= 2 && conns[1]->outcomes.size() >= 2; });
  for (auto* c : conns) {
    EXPECT_EQ(c->received(), "last words");
    ASSERT_EQ(c->outcomes.size(), 2u);
    EXPECT_FALSE(c->outcomes[0]);
    EXPECT_EQ(c->outcomes[1], asio::error::eof);
  }
}

// The ring's receives never wait: on an empty socket one answers -EAGAIN at
// once (the read then waits for its event in the reactor, not in the kernel).
TEST(UringBatch, AReceiveOnAnEmptySocketAnswersEagainAtOnce) {
  OnAWorker w;
  ASSERT_TRUE(w.opened) << "io_uring refused: " << std::strerror(errno);
  infergate::UringBatch ring;
  ASSERT_TRUE(ring.open());
  auto& empty = w.connect();
  auto& full = w.connect();
  sendAll(full.client, "there");
  char a[64], b[64];
  const infergate::UringBatch::Op ops[] = {{empty.server.native_handle(), a, sizeof a},
                                           {full.server.native_handle(), b, sizeof b}};
  int results[2] = {0, 0};
  ring.recv(ops, results);
  EXPECT_EQ(results[0], -EAGAIN);
  EXPECT_EQ(results[1], 5);
  EXPECT_EQ(std::string(b, 5), "there");
}
