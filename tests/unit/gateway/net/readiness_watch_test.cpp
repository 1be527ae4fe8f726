#include "gateway/net/readiness_watch.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/net/peer_close_events.hpp"
#include "gateway/net/read_prefetch.hpp"
#include "gateway/net/worker_io.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using infergate::ReadinessWatch;

namespace {

// A watcher as a session is one: owned by a shared_ptr, told through the
// io_context. It reads nothing itself; the test reads what it needs.
struct Watcher final : infergate::ReadyWatcher, std::enable_shared_from_this<Watcher> {
  int notices = 0;
  std::function<void()> onNotice;
  void onSocketReady() override {
    ++notices;
    if (onNotice) onNotice();
  }
  std::shared_ptr<void> keepAlive() override { return shared_from_this(); }
};

// A worker's thread in miniature: its io_context (no locking, as a
// worker's), its watch installed on this thread (the process's epoll_wait()
// hands it each wait's events), and loopback connections whose server ends
// are watched.
struct OnAWorker {
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  // A worker always has work (its listener): its loop waits in the reactor.
  asio::executor_work_guard<asio::io_context::executor_type> busy{io.get_executor()};
  ReadinessWatch watch{io};
  ReadinessWatch::Installed installed{&watch};
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};

  struct Conn {
    tcp::socket client;
    infergate::WorkerSocket server;  // as the gateway's: the reactor's marks are read and set through it
    std::shared_ptr<Watcher> watcher = std::make_shared<Watcher>();
    explicit Conn(asio::io_context& io) : client(io), server(io.get_executor()) {}
    int fd() { return server.native_handle(); }
  };
  std::vector<std::unique_ptr<Conn>> conns;
  // The table is the process's: no watch may outlive its watcher.
  ~OnAWorker() {
    for (auto& c : conns)
      if (c->watcher) watch.unwatch(c->fd(), *c->watcher);
  }

  Conn& connect() {
    auto c = std::make_unique<Conn>(io);
    c->client.connect(acceptor.local_endpoint());
    acceptor.accept(c->server);  // registered with the reactor, edge-triggered, as the gateway's are
    conns.push_back(std::move(c));
    return *conns.back();
  }

  // Runs handlers until `done`, or for about a second.
  template <class Done>
  void runUntil(Done done) {
    for (int i = 0; i < 50 && !done(); ++i) io.run_one_for(std::chrono::milliseconds(20));
  }
  // Lets a little time pass with the reactor waiting: what could come, came.
  void settle() {
    for (int i = 0; i < 5; ++i) io.run_one_for(std::chrono::milliseconds(20));
  }
};

void sendAll(tcp::socket& s, const std::string& bytes) { asio::write(s, asio::buffer(bytes)); }

// The worker's reads ahead, installed on this thread beside its watch.
struct ReadPrefetchOn {
  explicit ReadPrefetchOn(asio::io_context& io) : prefetch(io) {}
  infergate::ReadPrefetch prefetch;
  bool opened = prefetch.open();
  infergate::ReadPrefetch::Installed installed{opened ? &prefetch : nullptr};
};

}  // namespace

// Bytes, an end-of-file and a reset each end their socket's watch with one
// notice; the others are not told.
TEST(ReadinessWatch, BytesAnEndOfFileAndAResetEachGiveTheirWatcherOneNotice) {
  OnAWorker w;
  auto& bytes = w.connect();
  auto& eof = w.connect();
  auto& reset = w.connect();
  auto& quiet = w.connect();
  w.settle();
  for (auto* c : {&bytes, &eof, &reset, &quiet}) ASSERT_TRUE(w.watch.watch(c->fd(), *c->watcher));
  EXPECT_EQ(w.watch.watching(), 4u);
  w.settle();
  EXPECT_EQ(bytes.watcher->notices + eof.watcher->notices + reset.watcher->notices + quiet.watcher->notices, 0);

  sendAll(bytes.client, "a pipelined request");
  eof.client.shutdown(tcp::socket::shutdown_send);
  reset.client.set_option(asio::socket_base::linger(true, 0));
  reset.client.close();
  w.runUntil([&] { return bytes.watcher->notices && eof.watcher->notices && reset.watcher->notices; });
  EXPECT_EQ(bytes.watcher->notices, 1);
  EXPECT_EQ(eof.watcher->notices, 1);
  EXPECT_EQ(reset.watcher->notices, 1);
  EXPECT_EQ(quiet.watcher->notices, 0);
  EXPECT_EQ(w.watch.watching(), 1u);

  // A notice ends the watch: more bytes tell no one until it is watched again.
  sendAll(bytes.client, "more");
  w.settle();
  EXPECT_EQ(bytes.watcher->notices, 1);
  ASSERT_TRUE(w.watch.watch(bytes.fd(), *bytes.watcher));
  sendAll(bytes.client, "and more");
  w.runUntil([&] { return bytes.watcher->notices == 2; });
  EXPECT_EQ(bytes.watcher->notices, 2);
}

// Only a descriptor's own watcher ends its watch: a number closed and reused
// for another connection (another session's) is not the old owner's to end.
TEST(ReadinessWatch, OnlyItsOwnWatcherEndsAWatch) {
  OnAWorker w;
  auto& c = w.connect();
  w.settle();
  auto formerOwner = std::make_shared<Watcher>();
  ASSERT_TRUE(w.watch.watch(c.fd(), *c.watcher));
  EXPECT_FALSE(w.watch.unwatch(c.fd(), *formerOwner));
  EXPECT_EQ(w.watch.watching(), 1u);
  sendAll(c.client, "bytes");
  w.runUntil([&] { return c.watcher->notices == 1; });
  EXPECT_EQ(c.watcher->notices, 1);
  EXPECT_EQ(formerOwner->notices, 0);
}

// A watch ended before its socket's event tells nothing.
TEST(ReadinessWatch, AnEndedWatchTellsNothing) {
  OnAWorker w;
  auto& c = w.connect();
  w.settle();
  ASSERT_TRUE(w.watch.watch(c.fd(), *c.watcher));
  EXPECT_TRUE(w.watch.unwatch(c.fd(), *c.watcher));
  EXPECT_FALSE(w.watch.unwatch(c.fd(), *c.watcher));  // not watched any more
  EXPECT_EQ(w.watch.watching(), 0u);
  sendAll(c.client, "bytes");
  c.client.shutdown(tcp::socket::shutdown_send);
  w.settle();
  EXPECT_EQ(c.watcher->notices, 0);
}

// When one wait reports two watched sockets, the first notice's handler may
// try to end the second watch (a session ending its request): the notice is
// already on its way, so unwatch says no, and the notice still comes, with its
// watcher kept alive by it even when nothing else holds it.
TEST(ReadinessWatch, ANoticeAlreadyPostedStillComesAndKeepsItsWatcherAlive) {
  OnAWorker w;
  auto& a = w.connect();
  auto& b = w.connect();
  w.settle();
  ASSERT_TRUE(w.watch.watch(a.fd(), *a.watcher));
  ASSERT_TRUE(w.watch.watch(b.fd(), *b.watcher));
  std::weak_ptr<Watcher> bAlive = b.watcher;
  int bFd = b.fd();
  bool unwatchedInFlight = true;
  std::vector<std::string> order;
  a.watcher->onNotice = [&] {
    order.push_back("a");
    unwatchedInFlight = w.watch.unwatch(bFd, *b.watcher);
    b.watcher.reset();  // the notice alone holds it now
  };
  b.watcher->onNotice = [&] { order.push_back("b"); };
  sendAll(a.client, "first");
  sendAll(b.client, "second");
  w.runUntil([&] { return order.size() == 2; });
  ASSERT_EQ(order.size(), 2u) << "both in one wait: the test relies on it; unwatch in flight gave " << unwatchedInFlight;
  EXPECT_EQ(order[0], "a");
  EXPECT_FALSE(unwatchedInFlight);
  EXPECT_EQ(order[1], "b");
  EXPECT_TRUE(bAlive.expired());  // released once its notice ran
  EXPECT_EQ(w.watch.watching(), 0u);
}

// A wait made while the watch is not installed on the thread (the admin
// thread, a worker not yet running) tells no one: each worker tells only its
// own watchers, from its own thread.
TEST(ReadinessWatch, AWaitWithoutTheWatchInstalledTellsNoOne) {
  OnAWorker w;
  auto& c = w.connect();
  w.settle();
  ASSERT_TRUE(w.watch.watch(c.fd(), *c.watcher));
  {
    ReadinessWatch::Installed none(nullptr);
    sendAll(c.client, "bytes");
    w.settle();
  }
  EXPECT_EQ(c.watcher->notices, 0);
  EXPECT_EQ(w.watch.watching(), 1u);
  EXPECT_TRUE(w.watch.unwatch(c.fd(), *c.watcher));
}

// A watch that takes its socket's event (Event::Taken: the upstream of a
// stream, whose watcher reads the socket itself and sets the reactor's drain
// mark) leaves that mark to its watcher; a shared one's event marks the socket
// readable, as the reactor would.
TEST(ReadinessWatch, ATakenEventLeavesTheReadMarkToItsWatcher) {
  OnAWorker w;
  auto& taken = w.connect();
  auto& shared = w.connect();
  w.settle();
  for (auto* c : {&taken, &shared}) {
    ASSERT_TRUE(infergate::reportPeerClose(c->server));
    infergate::markDrained(c->server);
    ASSERT_TRUE(infergate::heldDrained(c->server));
  }
  ASSERT_TRUE(w.watch.watch(taken.fd(), *taken.watcher, ReadinessWatch::Event::Taken));
  ASSERT_TRUE(w.watch.watch(shared.fd(), *shared.watcher));
  sendAll(taken.client, "an event");
  sendAll(shared.client, "a pipelined request");
  w.runUntil([&] { return taken.watcher->notices && shared.watcher->notices; });
  ASSERT_EQ(taken.watcher->notices, 1);
  ASSERT_EQ(shared.watcher->notices, 1);
  w.settle();  // the reactor has handled both events by now
  EXPECT_TRUE(infergate::heldDrained(taken.server)) << "the reactor saw the taken event";
  EXPECT_FALSE(infergate::heldDrained(shared.server));
}

// A readable event marks its socket readable as the wait returns, before any
// handler of that round runs: a handler that then asks whether the socket is
// drained (to watch it rather than read it) must not be told it is, or it
// would wait for an event the wait has already spent. Here the handler is
// another socket's notice from the same wait, which runs before the reactor
// handles the first socket's event.
TEST(ReadinessWatch, AReadableEventMarksItsSocketBeforeTheRoundsHandlersRun) {
  OnAWorker w;
  auto& unwatched = w.connect();
  auto& watched = w.connect();
  w.settle();
  ASSERT_TRUE(infergate::reportPeerClose(unwatched.server));
  infergate::markDrained(unwatched.server);
  ASSERT_TRUE(infergate::heldDrained(unwatched.server));
  ASSERT_TRUE(w.watch.watch(watched.fd(), *watched.watcher));
  bool drainedSeen = true;
  watched.watcher->onNotice = [&] { drainedSeen = infergate::heldDrained(unwatched.server); };
  sendAll(unwatched.client, "the next event");
  sendAll(watched.client, "bytes");
  w.runUntil([&] { return watched.watcher->notices == 1; });
  ASSERT_EQ(watched.watcher->notices, 1);
  EXPECT_FALSE(drainedSeen);
}

namespace {

// A watcher that reads its socket itself and lets the wait read for it
// (the stream's upstream, AsioExchangeTransport): what was read for it, and
// whether that came before its notice.
struct ReadingWatcher final : infergate::ReadyWatcher, std::enable_shared_from_this<ReadingWatcher> {
  std::string ahead;
  int aheadResult = 0;
  int aheadCalls = 0;
  bool aheadBeforeNotice = false;
  int notices = 0;
  void onSocketReady() override {
    ++notices;
    aheadBeforeNotice = aheadCalls == 1;
  }
  std::shared_ptr<void> keepAlive() override { return shared_from_this(); }
  std::size_t readAheadLimit() const override { return 4096; }
  void tookAhead(const char* landed, std::size_t, int result) noexcept override {
    ++aheadCalls;
    aheadResult = result;
    if (result > 0) ahead.assign(landed, static_cast<std::size_t>(result));
  }
};

}  // namespace

// The reads of one wait's taken watches are made together as it returns
// (one ring), each handed to its own watcher before its notice; a lone one is
// left to its watcher's own recv().
TEST(ReadinessWatch, TheReadsOfAWaitsTakenWatchesAreMadeTogetherBeforeTheirNotices) {
  OnAWorker w;
  ReadPrefetchOn prefetchOn(w.io);
  ASSERT_TRUE(prefetchOn.opened) << "io_uring refused: " << std::strerror(errno);
  auto& a = w.connect();
  auto& b = w.connect();
  w.settle();
  auto readerA = std::make_shared<ReadingWatcher>();
  auto readerB = std::make_shared<ReadingWatcher>();
  ASSERT_TRUE(w.watch.watch(a.fd(), *readerA, ReadinessWatch::Event::Taken));
  ASSERT_TRUE(w.watch.watch(b.fd(), *readerB, ReadinessWatch::Event::Taken));
  sendAll(a.client, "data: {\"a\":1}\n\n");
  sendAll(b.client, "data: {\"b\":2}\n\n");
  w.runUntil([&] { return readerA->notices && readerB->notices; });
  ASSERT_EQ(readerA->notices, 1);
  ASSERT_EQ(readerB->notices, 1);
  ASSERT_EQ(prefetchOn.prefetch.counts().rings, 1u) << "both in one wait: the test relies on it";
  EXPECT_EQ(prefetchOn.prefetch.counts().reads, 2u);
  EXPECT_TRUE(readerA->aheadBeforeNotice);
  EXPECT_TRUE(readerB->aheadBeforeNotice);
  EXPECT_EQ(readerA->ahead, "data: {\"a\":1}\n\n");
  EXPECT_EQ(readerB->ahead, "data: {\"b\":2}\n\n");

  // Alone in its wait: its watcher reads.
  ASSERT_TRUE(w.watch.watch(a.fd(), *readerA, ReadinessWatch::Event::Taken));
  sendAll(a.client, "more");
  w.runUntil([&] { return readerA->notices == 2; });
  EXPECT_EQ(readerA->notices, 2);
  EXPECT_EQ(readerA->aheadCalls, 1);
  EXPECT_EQ(prefetchOn.prefetch.counts().reads, 2u);
}
