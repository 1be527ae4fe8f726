// The upstream exchange driven without sockets, as Envoy's router tests do: a
// fake transport records each operation the exchange asks for, and the test
// completes it by hand (connected, refused, bytes read, a reset, a write done).
// Everything else is real: the attempt planner, the breakers, the pool, the
// parser, the deadlines (on an io_context with no socket in it).
#include "gateway/upstream/exchange.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "tests/unit/gateway/upstream/worker_upstream_fixture.hpp"

namespace infergate {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using std::chrono::milliseconds;

struct Op {
  enum Kind { Connect, Send, Read, Write, WriteError };
  Op(Kind k, UpstreamConnection* c = nullptr, asio::ip::tcp::endpoint t = {}, unsigned e = 0, std::string b = {},
     bool l = false, FailureCause f = FailureCause::None)
      : kind(k), conn(c), to(t), epoch(e), bytes(std::move(b)), last(l), cause(f) {}
  Kind kind;
  UpstreamConnection* conn = nullptr;
  asio::ip::tcp::endpoint to;
  unsigned epoch = 0;
  std::string bytes;  // what a send or write carried
  bool last = false;
  FailureCause cause = FailureCause::None;
  ExchangeTransport::ReadWait wait = ExchangeTransport::ReadWait::First;  // of a read
};

std::string flatten(std::span<const asio::const_buffer> parts) {
  std::string out;
  for (const auto& p : parts) out.append(static_cast<const char*>(p.data()), p.size());
  return out;
}

class FakeTransport final : public ExchangeTransport {
 public:
  UpstreamExchange* exchange = nullptr;
  std::deque<Op> pending;
  int closes = 0, clientCancels = 0;

  void connect(UpstreamConnection& conn, const asio::ip::tcp::endpoint& to, unsigned epoch) override {
    pending.push_back({Op::Connect, &conn, to, epoch});
  }
  void send(UpstreamConnection& conn, std::span<const asio::const_buffer> parts, unsigned epoch) override {
    pending.push_back({Op::Send, &conn, {}, epoch, flatten(parts)});
  }
  void read(UpstreamConnection& conn, ReadWait wait, unsigned epoch) override {
    pending.push_back({Op::Read, &conn, {}, epoch});
    pending.back().wait = wait;
  }
  void writeClient(std::span<const asio::const_buffer> parts, bool last, unsigned epoch) override {
    pending.push_back({Op::Write, nullptr, {}, epoch, flatten(parts), last});
  }
  void writeClientError(std::span<const asio::const_buffer> parts, FailureCause cause, unsigned epoch) override {
    pending.push_back({Op::WriteError, nullptr, {}, epoch, flatten(parts), true, cause});
  }
  void cancelClient() override { ++clientCancels; }
  void close(UpstreamConnection&) override { ++closes; }

  // Takes the oldest pending operation, which must be of `kind`.
  Op take(Op::Kind kind) {
    EXPECT_FALSE(pending.empty());
    if (pending.empty()) return Op(kind);
    auto op = pending.front();
    pending.pop_front();
    EXPECT_EQ(op.kind, kind);
    return op;
  }
  void connected(error_code ec = {}) {
    auto op = take(Op::Connect);
    exchange->onConnected(op.epoch, ec);
  }
  std::string sent(error_code ec = {}) {
    auto op = take(Op::Send);
    exchange->onRequestSent(op.epoch, ec);
    return op.bytes;
  }
  void readBytes(const std::string& bytes, error_code ec = {}) {
    auto op = take(Op::Read);
    auto into = op.conn->buffer.prepare(bytes.size());
    std::memcpy(into.data(), bytes.data(), bytes.size());
    exchange->onUpstreamRead(op.epoch, ec, bytes.size());
  }
  Op written(error_code ec = {}) {
    auto op = take(Op::Write);
    exchange->onDownstreamWritten(op.epoch, op.last, ec);
    return op;
  }
};

class FakePort final : public DownstreamPort {
 public:
  explicit FakePort(asio::io_context& io) : socket(io) {}
  WorkerSocket& clientSocket() override { return socket; }
  std::shared_ptr<void> keepAlive() override { return anchor; }
  void watchClient() override { ++watches; }
  void releaseFacts() override { ++factReleases; }
  void releaseRequest() override {
    ++releases;
    // As the session does: the body moves where the context points, and the
    // parsed head is gone (a later use of it would send this).
    if (message) {
      spareBody.swap(message->body());
      context->body = &spareBody;
      message->target("/released");
      message->set(boost::beast::http::field::user_agent, "released");
      message->body() = "released";
    }
  }
  void onExchangeFinished(const ExchangeOutcome& o) override { outcome = o; }

  WorkerSocket socket;  // never opened: the transport does the I/O
  std::shared_ptr<int> anchor = std::make_shared<int>(0);
  int watches = 0;
  int releases = 0;
  int factReleases = 0;
  ProxyRequestMessage* message = nullptr;  // what releaseRequest wipes
  RequestContext* context = nullptr;
  BodyBytes spareBody;
  std::optional<ExchangeOutcome> outcome;
};

constexpr const char* kConfig =
    "backends:\n"
    "  - name: b\n"
    "    endpoints: [{url: 'http://127.0.0.1:1001'}, {url: 'http://127.0.0.1:1002'}]\n"
    "    circuit_breaker: {consecutive_failures: 1, max_ejected_percent: 100}\n"
    "    retry: {max_attempts: 2, backoff_base: 1ms, backoff_max: 2ms}\n"
    "    timeouts: {first_token: 60ms, total: 5s}\n"
    "routes:\n  - name: chat\n    path_prefix: /v1/\n    backend: b\n";

class ExchangeTest : public ::testing::Test, protected testing::WorkerUpstreamFixture {
 protected:
  ExchangeTest() : WorkerUpstreamFixture(kConfig) {}
  void SetUp() override {
    exchange = std::make_unique<UpstreamExchange>(port, *upstream, &transport);
    transport.exchange = exchange.get();

    message.method(boost::beast::http::verb::post);
    message.target("/v1/chat/completions");
    message.version(11);
    message.set(boost::beast::http::field::user_agent, "OpenAI/Python 1.0");
    message.body() = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
    extractRequestFacts(parser, message.body().padded(), facts, ApiKind::Chat);
    record.route = 1;
    record.backend = 1;
    record.bodyRead = RequestRecord::Clock::now();
    ctx.message = &message;
    ctx.body = &message.body();
    ctx.facts = &facts;
    ctx.record = &record;
    ctx.requestId = "req-7";
    proxy.runtime = runtime.get();
    proxy.message = &message;
    proxy.route = &runtime->config.routes[0];
    proxy.context = &ctx;
    proxy.chain = &chain;
    proxy.clientAddress = "127.0.0.1";
    port.message = &message;
    port.context = &ctx;
  }
  // Runs timers (backoff, deadlines) until `done` or a second passes.
  template <class Done>
  void runUntil(Done done) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!done() && std::chrono::steady_clock::now() < until) io.run_one_for(milliseconds(5));
  }
  // The next attempt after a failure before the answer started: it sends the
  // whole request again (from the parsed head, or from the text kept once
  // the request was given back), and the stream it answers with has given
  // the request back by its head, once.
  std::string retryIsSentWholeAndItsStreamReleasesTheRequest() {
    transport.connected();
    const auto again = transport.sent();
    EXPECT_EQ(again.rfind("POST /v1/chat/completions HTTP/1.1\r\n", 0), 0u) << again;
    EXPECT_NE(again.find("User-Agent: OpenAI/Python 1.0\r\n"), std::string::npos) << again;
    EXPECT_NE(again.find(R"("content":"hi")"), std::string::npos) << again;
    transport.readBytes(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        "13\r\ndata: {\"a\":\"tok\"}\n\n\r\n");
    EXPECT_EQ(port.releases, 1);
    const auto head = transport.written();
    EXPECT_EQ(head.bytes.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head.bytes;
    EXPECT_EQ(port.releases, 1);
    return again;
  }
  CircuitBreaker::State breakerOf(const asio::ip::tcp::endpoint& e) {
    for (const auto& ep : runtime->backends[0].endpoints)
      if (ep.address == e) return cluster->endpoint(ep.id).breaker.state();
    return CircuitBreaker::State::Closed;
  }

  FakeTransport transport;
  FakePort port{io};
  std::unique_ptr<UpstreamExchange> exchange;
  simdjson::ondemand::parser parser;
  ProxyRequestMessage message;
  RequestFacts facts;
  RequestRecord record;
  RequestContext ctx;
  FilterChain chain;
  ProxyRequest proxy;
};

const std::string kJsonAnswer =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";

TEST_F(ExchangeTest, ARefusedConnectionIsRetriedOnTheOtherEndpointAndTheAnswerRelayed) {
  exchange->start(proxy);
  ASSERT_EQ(transport.pending.size(), 1u);
  const auto first = transport.pending.front().to;
  transport.connected(asio::error::connection_refused);
  EXPECT_EQ(breakerOf(first), CircuitBreaker::State::Open);  // a connect error is the endpoint's, at once
  runUntil([&] { return !transport.pending.empty(); });      // the backoff
  ASSERT_EQ(transport.pending.size(), 1u);
  EXPECT_NE(transport.pending.front().to, first);
  transport.connected();
  const auto request = transport.sent();
  EXPECT_EQ(request.rfind("POST /v1/chat/completions HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("x-request-id: req-7\r\n"), std::string::npos);
  EXPECT_NE(request.find(R"("content":"hi")"), std::string::npos);
  transport.readBytes(kJsonAnswer);
  const auto reply = transport.written();
  EXPECT_TRUE(reply.last);
  EXPECT_EQ(reply.bytes.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply.bytes;
  EXPECT_NE(reply.bytes.find("x-request-id: req-7\r\n"), std::string::npos);
  EXPECT_EQ(reply.bytes.substr(reply.bytes.size() - 11), "{\"ok\":true}");
  ASSERT_TRUE(port.outcome);
  EXPECT_EQ(port.outcome->cause, FailureCause::None);
  EXPECT_EQ(port.outcome->status, 200u);
  EXPECT_TRUE(port.outcome->responseStarted);
  EXPECT_FALSE(exchange->active());
  EXPECT_EQ(stats->retries.total({labels->pairIndex(1, 1), static_cast<std::uint32_t>(FailureCause::UpstreamConnectError)}),
            1u);
  EXPECT_EQ(stats->inFlight.total({1}), 0);
}

TEST_F(ExchangeTest, ASilentModelHitsTheFirstTokenDeadlineAndIsNotRetried) {
  exchange->start(proxy);
  transport.connected();
  transport.sent();
  ASSERT_EQ(transport.pending.front().kind, Op::Read);
  runUntil([&] { return transport.closes > 0; });  // the deadline closes the connection...
  ASSERT_EQ(transport.closes, 1);
  transport.readBytes("", asio::error::operation_aborted);  // ...which ends the pending read
  ASSERT_TRUE(port.outcome);
  EXPECT_EQ(port.outcome->cause, FailureCause::UpstreamFirstTokenTimeout);
  EXPECT_FALSE(port.outcome->responseStarted);  // the session answers 504
  EXPECT_TRUE(transport.pending.empty());       // retry.on_first_token_timeout is off
}

TEST_F(ExchangeTest, AStreamCutAfterItStartedEndsWithAnInBandErrorEvent) {
  exchange->start(proxy);
  transport.connected();
  transport.sent();
  transport.readBytes(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
      "13\r\ndata: {\"a\":\"tok\"}\n\n\r\n");
  const auto head = transport.written();
  EXPECT_FALSE(head.last);
  EXPECT_NE(head.bytes.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << head.bytes;
  EXPECT_NE(head.bytes.find("data: {\"a\":\"tok\"}"), std::string::npos);
  transport.readBytes("", asio::error::connection_reset);  // the model server goes away mid-stream
  auto error = transport.take(Op::WriteError);
  EXPECT_NE(error.bytes.find("event: error\ndata: {\"error\":"), std::string::npos) << error.bytes;
  EXPECT_NE(error.bytes.find("\r\n0\r\n\r\n"), std::string::npos);  // and the chunked body ends cleanly
  exchange->onStreamErrorWritten(error.epoch, error.cause, {});
  ASSERT_TRUE(port.outcome);
  EXPECT_EQ(port.outcome->cause, FailureCause::UpstreamReset);
  EXPECT_TRUE(port.outcome->responseStarted);
  EXPECT_FALSE(port.outcome->closeDownstream);  // the client connection stays usable
}

TEST_F(ExchangeTest, AStreamBetweenEventsHoldsNoRelayBuffer) {
  exchange->start(proxy);
  transport.connected();
  transport.sent();
  transport.readBytes(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
      "13\r\ndata: {\"a\":\"tok\"}\n\n\r\n");
  // While the piece is being written the exchange holds a relay buffer the
  // size of what was read (25 bytes: the smallest class), not a 32 KiB one...
  const auto largeWhileWriting = BlockCache::local().cached(UpstreamExchange::kBufferSize);
  const auto whileWriting = BlockCache::local().cached(BlockCache::kSmallest);
  transport.written();
  // ...and gives it back to the thread's cache once written, while it waits for the next event.
  EXPECT_EQ(BlockCache::local().cached(BlockCache::kSmallest), whileWriting + 1);
  EXPECT_EQ(BlockCache::local().cached(UpstreamExchange::kBufferSize), largeWhileWriting);
  ASSERT_EQ(transport.pending.front().kind, Op::Read);
  transport.readBytes("13\r\ndata: {\"a\":\"two\"}\n\n\r\n0\r\n\r\n");
  const auto rest = transport.written();  // a buffer again for the next piece, and the end
  EXPECT_NE(rest.bytes.find("two"), std::string::npos);
  EXPECT_TRUE(rest.last);
  ASSERT_TRUE(port.outcome);
  EXPECT_EQ(port.outcome->cause, FailureCause::None);
}

// The relay buffer is sized to what was read: a small first read takes a small
// block, a large read after it a block of kBufferSize, relayed in pieces of at
// most that, each written whole, and the body arrives whole and in order.
TEST_F(ExchangeTest, ASmallReadThenALargeOneAreRelayedWholeInPiecesOfTheLargestBuffer) {
  exchange->start(proxy);
  transport.connected();
  transport.sent();
  std::string body(UpstreamExchange::kBufferSize + 1100, 'x');
  for (std::size_t i = 0; i < body.size(); i += 97) body[i] = static_cast<char>('a' + i % 26);
  transport.readBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 100));
  auto first = transport.written();
  const auto headEnd = first.bytes.find("\r\n\r\n");
  ASSERT_NE(headEnd, std::string::npos);
  EXPECT_EQ(first.bytes.substr(headEnd + 4), body.substr(0, 100));
  transport.readBytes(body.substr(100));
  auto second = transport.written();
  EXPECT_EQ(second.bytes.size(), UpstreamExchange::kBufferSize);  // the largest piece, no more
  EXPECT_FALSE(second.last);
  auto third = transport.written();  // the rest of that read, without another read
  EXPECT_TRUE(third.last);
  EXPECT_EQ(first.bytes.substr(headEnd + 4) + second.bytes + third.bytes, body);
  ASSERT_TRUE(port.outcome);
  EXPECT_EQ(port.outcome->cause, FailureCause::None);
}

TEST_F(ExchangeTest, AClientThatLeavesClosesTheUpstreamConnection) {
  exchange->start(proxy);
  transport.connected();
  transport.sent();
  exchange->abortClientGone();
  EXPECT_EQ(transport.closes, 1);  // the model server sees the close and frees its slot
  transport.readBytes("", asio::error::operation_aborted);
  ASSERT_TRUE(port.outcome);
  EXPECT_EQ(port.outcome->cause, FailureCause::ClientDisconnect);
  EXPECT_TRUE(port.outcome->closeDownstream);
  EXPECT_EQ(breakerOf(runtime->backends[0].endpoints[0].address), CircuitBreaker::State::Closed);
  EXPECT_EQ(breakerOf(runtime->backends[0].endpoints[1].address), CircuitBreaker::State::Closed);
}

TEST_F(ExchangeTest, ARetryableStatusMovesToTheOtherEndpointAndAnEarlierRequestsCompletionIsIgnored) {
  exchange->start(proxy);
  transport.connected();
  transport.sent();
  const auto epoch = transport.pending.front().epoch;
  transport.readBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  runUntil([&] { return !transport.pending.empty(); });
  transport.connected();
  transport.sent();
  // A late completion of an earlier request on this exchange changes nothing.
  exchange->onUpstreamRead(epoch - 1, asio::error::connection_reset, 0);
  EXPECT_FALSE(port.outcome);
  transport.readBytes(kJsonAnswer);
  transport.written();
  ASSERT_TRUE(port.outcome);
  EXPECT_EQ(port.outcome->status, 200u);
  EXPECT_EQ(port.releases, 0);  // not a stream: the session ends the request as usual
}

// A request that did not ask for a stream and gets one gives its request
// back (the session's parser) at the stream's head, not when it is sent: a
// request expecting a short answer keeps its parser, whose block the
// connection reuses for its next request.
TEST_F(ExchangeTest, AStreamGivesItsRequestBackAtItsHeadWhenTheRequestDidNotAskForOne) {
  exchange->start(proxy);
  transport.connected();
  transport.sent();
  transport.readBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  runUntil([&] { return !transport.pending.empty(); });
  EXPECT_EQ(port.releases, 0);
  retryIsSentWholeAndItsStreamReleasesTheRequest();
  // The stream goes on without its request.
  transport.readBytes("13\r\ndata: {\"a\":\"two\"}\n\n\r\n0\r\n\r\n");
  const auto rest = transport.written();
  EXPECT_NE(rest.bytes.find("two"), std::string::npos);
  EXPECT_TRUE(rest.last);
  ASSERT_TRUE(port.outcome);
  EXPECT_EQ(port.outcome->cause, FailureCause::None);
  EXPECT_EQ(port.releases, 1);
}

// A stream's head alone, then the model server goes away before its first
// event: nothing reached the client, so the request is retried, whole. The
// head gave the parsed request back (once a retry used a request that was
// gone, and the process crashed): the retry is written from the kept text.
TEST_F(ExchangeTest, AStreamThatFailsBetweenItsHeadAndItsFirstEventIsRetriedWithItsRequest) {
  exchange->start(proxy);
  transport.connected();
  transport.sent();
  transport.readBytes("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
  runUntil([&] { return !transport.pending.empty(); });
  EXPECT_EQ(port.releases, 1);
  EXPECT_EQ(port.factReleases, 1);  // the facts are not needed again: a stream waiting for its first token holds none
  transport.readBytes("", asio::error::connection_reset);
  runUntil([&] { return !transport.pending.empty(); });
  retryIsSentWholeAndItsStreamReleasesTheRequest();
}

// A request that asked for a stream gives its parsed head and its facts back
// as soon as it is sent (the first token may be seconds away). A retry on the
// other endpoint sends the same request, but for its Host line.
TEST_F(ExchangeTest, AStreamRequestGivesItsHeadBackOnceSentAndARetrySendsTheSameRequest) {
  proxy.stream = true;
  exchange->start(proxy);
  transport.connected();
  const auto first = transport.sent();
  EXPECT_EQ(port.releases, 1);
  EXPECT_EQ(port.factReleases, 1);
  transport.readBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  runUntil([&] { return !transport.pending.empty(); });
  const auto again = retryIsSentWholeAndItsStreamReleasesTheRequest();
  EXPECT_EQ(port.factReleases, 1);
  const auto withoutHost = [](std::string text) {
    const auto at = text.find("Host: ");
    return text.erase(at, text.find("\r\n", at) + 2 - at);
  };
  EXPECT_EQ(withoutHost(again), withoutHost(first));
  EXPECT_NE(again, first);  // the other endpoint's Host
}

}  // namespace
}  // namespace infergate
