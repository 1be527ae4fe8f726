#include "gateway/net/send_batch.hpp"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gateway/net/gathered_write.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using infergate::SendBatch;

namespace {

struct Pair {
  tcp::socket client, server;
  Pair(asio::io_context& io, tcp::acceptor& acceptor) : client(io), server(io) {
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
};

struct Loopback {
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};  // as a worker's: a post from its thread waits in its private queue
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::unique_ptr<Pair> connect() { return std::make_unique<Pair>(io, acceptor); }
};

// A worker's thread in miniature: a batch with its ring, installed on this
// thread (so the io_context's waits flush it), and loopback connections.
struct OnAWorker {
  SendBatch batch;
  bool opened = batch.open();
  SendBatch::Installed installed{&batch};
  Loopback net;
};

// What has arrived on `s` so far, without waiting.
std::string arrived(tcp::socket& s) {
  std::string out;
  char buf[65536];
  for (;;) {
    const auto n = ::recv(s.native_handle(), buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string fillUntilFull(tcp::socket& s) {
  const int small = 4096;
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  std::string filler;
  const std::string block(4096, 'f');
  for (;;) {
    const auto n = ::send(s.native_handle(), block.data(), block.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    filler.append(block, 0, static_cast<std::size_t>(n));
  }
  return filler;
}

}  // namespace

// The point of the batch: sends on several sockets leave at the flush, through
// the ring, each whole and on its own socket.
TEST(SendBatch, SendsOnSeveralSocketsLeaveAtTheFlushEachOnItsOwnSocket) {
  OnAWorker w;
  ASSERT_TRUE(w.opened) << "io_uring refused: " << std::strerror(errno);
  auto& [batch, opened, installed, net] = w;
  std::vector<std::unique_ptr<Pair>> pairs;
  std::vector<std::string> texts;
  for (int i = 0; i < 6; ++i) {
    pairs.push_back(net.connect());
    texts.push_back("message " + std::to_string(i) + std::string(100 + i * 37, static_cast<char>('a' + i)));
  }
  std::vector<SendBatch::Outcome> outcomes;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(batch.hasRoom());
    batch.add(pairs[i]->client.native_handle(), texts[i].data(), texts[i].size(),
              [&outcomes](const SendBatch::Outcome& o) { outcomes.push_back(o); });
  }
  EXPECT_FALSE(batch.empty());
  for (auto& p : pairs) EXPECT_EQ(arrived(p->server), "");  // nothing leaves before the flush
  EXPECT_TRUE(outcomes.empty());
  batch.flush();
  EXPECT_TRUE(batch.empty());
  ASSERT_EQ(outcomes.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(outcomes[i].sent, texts[i].size());
    EXPECT_EQ(outcomes[i].error, 0);
    EXPECT_FALSE(outcomes[i].forgotten);
    EXPECT_EQ(arrived(pairs[i]->server), texts[i]);
  }
}

// A connection closed while its send waits: the send is not made, and the
// descriptor's number, taken by the next connection, gets none of its bytes.
TEST(SendBatch, ASocketClosedBeforeTheFlushDoesNotPassItsBytesToTheNextOwnerOfItsNumber) {
  OnAWorker w;
  ASSERT_TRUE(w.opened);
  auto& [batch, opened, installed, net] = w;
  auto other = net.connect();  // a second send in the batch, so that the ring is used
  auto first = net.connect();
  const int fd = first->client.native_handle();
  const std::string secret = "the first client's answer";
  const std::string otherText = "the other client's answer";
  std::vector<SendBatch::Outcome> outcomes;
  batch.add(fd, secret.data(), secret.size(), [&](const SendBatch::Outcome& o) { outcomes.push_back(o); });
  batch.add(other->client.native_handle(), otherText.data(), otherText.size(),
            [&](const SendBatch::Outcome& o) { outcomes.push_back(o); });
  batch.forget(fd);
  first->client.close();
  auto next = net.connect();
  // The kernel gives the lowest free number: the closed one (else this test shows nothing).
  ASSERT_EQ(next->client.native_handle(), fd);
  batch.flush();
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(outcomes[0].forgotten);
  EXPECT_EQ(outcomes[0].sent, 0u);
  EXPECT_FALSE(outcomes[1].forgotten);
  EXPECT_EQ(arrived(next->server), "");
  EXPECT_EQ(arrived(other->server), otherText);
}

// A send whose socket has no room reports EAGAIN (the ring does not wait for
// room): the writer learns it at the flush.
TEST(SendBatch, ASendWithoutRoomReportsWouldBlock) {
  OnAWorker w;
  ASSERT_TRUE(w.opened);
  auto& [batch, opened, installed, net] = w;
  auto full = net.connect();
  auto fine = net.connect();
  fillUntilFull(full->client);
  const std::string text(2000, 'x');
  std::vector<SendBatch::Outcome> outcomes;
  batch.add(full->client.native_handle(), text.data(), text.size(), [&](const SendBatch::Outcome& o) { outcomes.push_back(o); });
  batch.add(fine->client.native_handle(), text.data(), text.size(), [&](const SendBatch::Outcome& o) { outcomes.push_back(o); });
  batch.flush();
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].error, EAGAIN);
  EXPECT_EQ(outcomes[0].sent, 0u);
  EXPECT_EQ(outcomes[1].sent, text.size());
}

// A completion that sends again (a stream relaying its next piece) is
// flushed by the same call.
TEST(SendBatch, ACompletionThatSendsAgainIsFlushedByTheSameCall) {
  OnAWorker w;
  ASSERT_TRUE(w.opened);
  auto& [batch, opened, installed, net] = w;
  auto a = net.connect();
  auto b = net.connect();
  const std::string one = "one;", two = "two;", three = "three;";
  int completions = 0;
  batch.add(a->client.native_handle(), one.data(), one.size(), [&](const SendBatch::Outcome&) {
    ++completions;
    batch.add(a->client.native_handle(), two.data(), two.size(), [&](const SendBatch::Outcome&) {
      ++completions;
      batch.add(a->client.native_handle(), three.data(), three.size(), [&](const SendBatch::Outcome&) { ++completions; });
    });
  });
  batch.add(b->client.native_handle(), one.data(), one.size(), [&](const SendBatch::Outcome&) { ++completions; });
  batch.flush();
  EXPECT_EQ(completions, 4);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(arrived(a->server), one + two + three);
  EXPECT_EQ(arrived(b->server), one);
}

// A batch destroyed with sends queued (a worker stopping) destroys their
// completions without running them, as Asio does with a stopped context's.
TEST(SendBatch, DestroyedWithSendsQueuedItRunsNoCompletion) {
  Loopback net;
  auto a = net.connect();
  auto alive = std::make_shared<int>(0);
  bool ran = false;
  {
    SendBatch batch;
    const std::string text = "never sent";
    batch.add(a->client.native_handle(), text.data(), text.size(), [&ran, keep = alive](const SendBatch::Outcome&) { ran = true; });
    EXPECT_EQ(alive.use_count(), 2);
  }
  EXPECT_FALSE(ran);
  EXPECT_EQ(alive.use_count(), 1);
  EXPECT_EQ(arrived(a->server), "");
}

// Through GatheredWrite on a worker's thread: pieces are joined into the
// batch's memory and leave at the flush; the handler runs from there.
TEST(SendBatch, AGatheredWriteOnAWorkerLeavesAtTheFlush) {
  OnAWorker w;
  ASSERT_TRUE(w.opened);
  auto& [batch, opened, installed, net] = w;
  auto a = net.connect();
  auto b = net.connect();
  infergate::GatheredWrite wa, wb;
  const std::string head = "HTTP/1.1 200 OK\r\n\r\n", body = "data: {}\n\n";
  std::array<asio::const_buffer, 2> parts{asio::buffer(head), asio::buffer(body)};
  int written = 0;
  auto onWritten = [&](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(n, head.size() + body.size());
    ++written;
  };
  wa.start(a->client, std::span<const asio::const_buffer>(parts), onWritten);
  wb.start(b->client, std::span<const asio::const_buffer>(parts.data(), 1), [&](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, head.size());
    ++written;
  });
  EXPECT_EQ(written, 0);
  EXPECT_EQ(arrived(a->server), "");
  batch.flush();
  EXPECT_EQ(written, 2);
  EXPECT_EQ(arrived(a->server), head + body);
  EXPECT_EQ(arrived(b->server), head);
  EXPECT_EQ(wa.heldBytes(), 0u);
}

// A joined write the socket could not take: its bytes move out of the
// batch's memory (which the next round reuses) and Asio sends them when the
// peer reads; they arrive intact after other writes reused that memory.
TEST(SendBatch, AGatheredWriteWithoutRoomFinishesThroughAsioWithItsOwnCopy) {
  OnAWorker w;
  ASSERT_TRUE(w.opened);
  auto& [batch, opened, installed, net] = w;
  auto full = net.connect();
  auto fine = net.connect();
  const std::string filler = fillUntilFull(full->client);
  infergate::GatheredWrite writer, other;
  const std::string head(3000, 'h'), body(5000, 'b');
  std::array<asio::const_buffer, 2> parts{asio::buffer(head), asio::buffer(body)};
  bool written = false;
  writer.start(full->client, std::span<const asio::const_buffer>(parts), [&](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(n, head.size() + body.size());
    written = true;
  });
  const std::string x(6000, 'x'), y(2000, 'y');
  std::array<asio::const_buffer, 2> otherParts{asio::buffer(x), asio::buffer(y)};
  bool otherWritten = false;
  other.start(fine->client, std::span<const asio::const_buffer>(otherParts),
              [&](boost::system::error_code ec, std::size_t) { otherWritten = !ec; });
  batch.flush();
  EXPECT_TRUE(otherWritten);
  ASSERT_FALSE(written);
  EXPECT_GE(writer.heldBytes(), head.size() + body.size());
  // The next round overwrites the batch's memory.
  other.start(fine->client, std::span<const asio::const_buffer>(otherParts), [](boost::system::error_code, std::size_t) {});
  batch.flush();
  EXPECT_EQ(arrived(fine->server), x + y + x + y);

  std::string received;
  while (received.size() < filler.size() + head.size() + body.size()) {
    received += arrived(full->server);
    net.io.poll();
    batch.flush();
  }
  net.io.run();
  EXPECT_TRUE(written);
  EXPECT_TRUE(received == filler + head + body);
  EXPECT_EQ(writer.heldBytes(), 0u);
}

// One large piece (an answer's body relayed as it is) is sent from the
// writer's memory, not copied; what the socket does not take goes on through
// Asio from there, whole and in order.
TEST(SendBatch, ALargePieceTheSocketTakesInPartsArrivesWhole) {
  OnAWorker w;
  ASSERT_TRUE(w.opened);
  auto& [batch, opened, installed, net] = w;
  auto a = net.connect();
  auto b = net.connect();
  const int small = 16 * 1024;
  ::setsockopt(a->client.native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(a->server.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  std::string big(SendBatch::kMaxSendBytes, '\0');  // the largest piece a batch takes
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7) % 26);
  infergate::GatheredWrite writer, other;
  std::array<asio::const_buffer, 1> parts{asio::buffer(big)};
  std::size_t reported = 0;
  int calls = 0;
  writer.start(a->client, std::span<const asio::const_buffer>(parts), [&](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    reported = n;
    ++calls;
  });
  const std::string small1 = "other";
  std::array<asio::const_buffer, 1> otherParts{asio::buffer(small1)};
  other.start(b->client, std::span<const asio::const_buffer>(otherParts), [](boost::system::error_code, std::size_t) {});
  batch.flush();
  EXPECT_EQ(calls, 0);  // 1 MiB does not fit at once
  std::string received;
  received.reserve(big.size());
  for (int spins = 0; received.size() < big.size() && spins < 10'000'000; ++spins) {
    received += arrived(a->server);
    net.io.poll();
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(reported, big.size());
  EXPECT_TRUE(received == big);
  EXPECT_EQ(arrived(b->server), small1);
}

// The flush point: a worker's io_context looking at its sockets again
// (epoll_wait) first makes the sends its handlers queued, without a flush()
// from the caller.
TEST(SendBatch, AThreadsNextWaitForItsSocketsFlushesItsBatch) {
  OnAWorker w;
  ASSERT_TRUE(w.opened);
  auto& [batch, opened, installed, net] = w;
  auto a = net.connect();
  auto b = net.connect();
  tcp::socket never(net.io);
  net.acceptor.async_accept(never, [](boost::system::error_code) {});  // work: poll() returns at once without any
  infergate::GatheredWrite wa, wb;
  const std::string text = "data: {\"x\":1}\n\n";
  std::array<asio::const_buffer, 1> parts{asio::buffer(text)};
  int written = 0;
  auto onWritten = [&](boost::system::error_code ec, std::size_t) { written += ec ? 0 : 1; };
  wa.start(a->client, std::span<const asio::const_buffer>(parts), onWritten);
  wb.start(b->client, std::span<const asio::const_buffer>(parts), onWritten);
  EXPECT_EQ(written, 0);
  net.io.poll();  // nothing is ready: the reactor's epoll_wait runs once
  EXPECT_EQ(written, 2);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(arrived(a->server), text);
  EXPECT_EQ(arrived(b->server), text);
}

// A completion run by that flush may queue a handler that Asio keeps in the
// thread's private queue until the wait returns: so the wait that follows a
// flush does not block. Here nothing else could end it: an epoll set with no
// descriptor, asked to wait 5 s.
TEST(SendBatch, TheWaitAfterAFlushDoesNotBlock) {
  SendBatch batch;
  ASSERT_TRUE(batch.open());
  SendBatch::Installed installed(&batch);
  int a[2], b[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
  const int epfd = ::epoll_create1(0);
  ASSERT_GE(epfd, 0);
  int completed = 0;
  const std::string text = "x";
  batch.add(a[0], text.data(), text.size(), [&](const SendBatch::Outcome& o) { completed += o.sent == 1; });
  batch.add(b[0], text.data(), text.size(), [&](const SendBatch::Outcome& o) { completed += o.sent == 1; });
  epoll_event events[4];
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(::epoll_wait(epfd, events, 4, 5000), 0);
  // A liveness check, not a speed one: had it blocked, 5 s would have passed.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2500));
  EXPECT_EQ(completed, 2);
  char byte;
  EXPECT_EQ(::recv(a[1], &byte, 1, MSG_DONTWAIT), 1);
  EXPECT_EQ(::recv(b[1], &byte, 1, MSG_DONTWAIT), 1);
  for (int fd : {epfd, a[0], a[1], b[0], b[1]}) ::close(fd);
}
