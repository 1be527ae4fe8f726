#pragma once
// One client connection: reads requests (keep-alive, pipelined requests answered
// in order), enforces limits, timeouts and framing rules, runs each request
// through its route's filter chain, answers locally when it must, and hands
// routed requests to its UpstreamExchange. While a request is in flight it
// watches the client socket (on a worker, without a pending read:
// gateway/net/readiness_watch.hpp), so a client that goes away is seen at once
// and its upstream connection is closed.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <optional>
#include <string>

#include "filters/core/errors.hpp"
#include "filters/core/kept_capacity.hpp"
#include "filters/core/request_facts.hpp"
#include "filters/core/request_record.hpp"
#include "filters/filter_chain.hpp"
#include "filters/paused_request.hpp"
#include "gateway/http/parser_slot.hpp"
#include "gateway/net/lazy_deadline.hpp"
#include "gateway/net/readiness_watch.hpp"
#include "gateway/net/socket_read.hpp"
#include "gateway/net/worker_io.hpp"
#include "gateway/server/generation.hpp"
#include "gateway/server/session_list.hpp"
#include "gateway/upstream/exchange.hpp"

namespace infergate {

class Worker;

class DownstreamSession final : public std::enable_shared_from_this<DownstreamSession>,
                                public DownstreamPort,
                                public RequestPauser,
                                public ReadyWatcher,
                                public SessionLink {
 public:
  // `client` was admitted by the worker's ConnectionLimits; released on destruction.
  // `tls`: the HTTPS listener's context (the session starts with a handshake).
  DownstreamSession(Worker& worker, WorkerSocket socket, boost::asio::ip::address client,
                    boost::asio::ssl::context* tls = nullptr);
  ~DownstreamSession();
  DownstreamSession(const DownstreamSession&) = delete;
  DownstreamSession& operator=(const DownstreamSession&) = delete;

  void start();
  void onDrain();
  // The drain ran out of time: a request being proxied is ended with its
  // cause told to the client (503 draining, or an SSE error event); anything
  // else still open is closed.
  void cutForDrain();

  // DownstreamPort: for the exchange.
  WorkerSocket& clientSocket() override { return socket_; }
  ClientTlsStream* clientTls() override { return tls_.get(); }
  std::shared_ptr<void> keepAlive() override { return shared_from_this(); }
  void watchClient() override;
  void releaseRequest() override;
  void releaseFacts() override;
  void onExchangeFinished(const ExchangeOutcome& outcome) override;

  // ReadyWatcher: the watched client socket may be read.
  void onSocketReady() override;

  // RequestPauser: for a filter that paused the chain.
  RequestContext* pausedContext(std::uint64_t serial) override;
  void resumeRequest(std::uint64_t serial, FilterStatus status) override;
  std::shared_ptr<RequestPauser> holdPaused() override;

 private:
  static constexpr std::size_t kReadChunk = 16 * 1024;
  // The read that watches a client while its answer is relayed: what comes
  // is almost always the end of the connection (or a pipelined request, read
  // on in more pieces). The block is taken when the reactor reads, before the
  // handler runs, so when thousands of streaming clients leave at once each
  // epoll batch held one 16 KiB block per client (the RSS of 8,000 streams
  // rose by about 5 MB as they ended).
  static constexpr std::size_t kWatchReadChunk = 1024;
  // A request body's memory is kept for the next request on the connection up to
  // this capacity; a rare large body is given back rather than held per client.
  static constexpr std::size_t kKeptBodyCapacity = 64 * 1024;
  // Kept while waiting for a request: a short body's room (kKeptCapacity,
  // filters/core/kept_capacity.hpp); a 12 KB prompt's 16 KiB held by every
  // idle connection measured 4 KiB more per connection.
  static constexpr std::size_t kIdleBodyCapacity = kKeptCapacity;
  // Pipelined bytes the session buffers while a request is in flight; past this it
  // stops reading and TCP flow control pushes back on the client.
  static constexpr std::size_t kMaxPipelinedBytes = 256 * 1024;
  static constexpr std::chrono::milliseconds kLingerTime{1000};

  enum class State : std::uint8_t { ReadingHead, ReadingBody, Filtering, Proxying, WritingReply, AwaitingMonitor, Closing, Closed };
  enum class TimerKind : std::uint8_t { KeepAliveIdle, Header, Body, Linger, Handshake };

  void handshake();  // HTTPS: before the first request, under its own timeout
  void readHead();
  // Reads and writes on the client connection, through TLS when it has it.
  template <class Handler>
  void readInto(ReadBuffer& buffer, std::size_t size, bool nextMessage, Handler&& handler);
  template <class Handler>
  void readInto(boost::asio::mutable_buffer into, Handler&& handler);
  template <class Handler>
  void writeAll(boost::asio::const_buffer bytes, Handler&& handler);
  void onHeadRead(boost::system::error_code ec, std::size_t bytes);
  void parseHead(std::size_t headLength);
  void readBody();
  void onBodyRead(boost::system::error_code ec, std::size_t bytes);
  void onBodyReadInPlace(boost::system::error_code ec, std::size_t bytes);
  void dispatch();
  // The chains' verdicts, in order; each may find its chain paused.
  void afterBeforeRouting(FilterStatus status);
  void afterRouteChain(FilterStatus status);
  void adoptGeneration();
  void beginContext(std::string_view path, bool jsonApi);
  const config::RouteConfig* route(std::string_view path, bool jsonApi);
  void forward(const config::RouteConfig& route);
  void sendLocalReply(const LocalReply& reply, bool close, unsigned retryAfterSeconds = 0);
  void replyError(ErrorReply error, bool close, unsigned retryAfterSeconds = 0) {
    sendLocalReply(LocalReply{std::move(error), {}, {}, 0}, close, retryAfterSeconds);
  }
  void onReplyWritten(boost::system::error_code ec, bool close);
  void endRequest(bool close);
  void onMonitorRead(boost::system::error_code ec, std::size_t bytes);
  // The watch without a read: false when it cannot be (HTTPS: OpenSSL may
  // hold bytes already read; a descriptor beyond the watch's table).
  bool watchWithoutRead();
  // Ends that watch: true when it was on and no notice is under way.
  bool unwatchClient();
  void onDeadline();
  void armTimer(TimerKind kind, std::chrono::milliseconds after);
  void closeGracefully();
  void lingerRead();
  void closeNow();
  void logFailure(const ErrorReply& reply);
  void beginRecord();
  void finishRecord();
  void writeReply(bool close);  // reply_ is ready: send it, then end the request
  std::string_view bufferView() const;
  bool chargeBody(std::size_t total);  // the body's memory against the shared budget
  void releaseBody();

  Worker& worker_;
  WorkerSocket socket_;
  std::unique_ptr<ClientTlsStream> tls_;  // HTTPS connections: TLS over socket_
  ReadBuffer buffer_;
  RequestParserSlot parser_;
  // The last request body's memory, reused by the next one; a stream's own
  // body while its answer is relayed (the parser is gone then).
  BodyBytes spareBody_;
  LazyDeadline deadline_;
  // (The small members share one word: every open stream keeps a session.)
  TimerKind timerKind_ = TimerKind::KeepAliveIdle;
  State state_ = State::ReadingHead;
  bool headStarted_ = false;
  bool monitorActive_ = false;
  bool keepAlive_ = true;
  bool requestClose_ = false;
  bool peerTrusted_ = false;    // a configured trusted proxy: its forwarding headers are believed
  bool recordOpen_ = false;     // record_ holds a request in progress
  boost::asio::ip::address clientIp_;
  std::uint32_t scanned_ = 0;   // head bytes already searched for its end (in the address's tail room)
  std::string clientAddress_;   // the peer's address as text
  // This request's client when a trusted proxy says who (else empty: the
  // peer). Made by the first such request: most connections have none.
  std::unique_ptr<std::string> requestClient_;
  std::size_t bodyCharged_ = 0;  // bytes of this request's body counted in ConnectionLimits
  // A local reply's bytes, made by the connection's first one and kept
  // (most streams never have one).
  std::unique_ptr<std::string> reply_;
  // Out of line, like the parser: a stream gives its facts back with it (344
  // bytes); made again by the connection's next request.
  std::unique_ptr<RequestFacts> facts_;
  RequestRecord record_;     // the request in progress (and its id); reused
  RequestContext ctx_;       // the filters' view of the request in progress; reused
  // The config the current request runs on (taken as it starts, kept to its
  // end) and its filters' state block.
  std::shared_ptr<const Generation> generation_;
  FilterStates filterStates_;
  const FilterChain* chain_ = nullptr;  // the chain the request ran (its completion observers)
  const FilterChain* pausedChain_ = nullptr;         // while State::Filtering
  const config::RouteConfig* matchedRoute_ = nullptr;  // once routed
  UpstreamExchange exchange_;
};

// ---- the client connection's reads and writes ----

template <class Handler>
inline void DownstreamSession::readInto(ReadBuffer& buffer, std::size_t size, bool nextMessage, Handler&& handler) {
  // OpenSSL reads the socket itself: the drain-aware reads are for plain
  // sockets; TLS too takes the read buffer only when there is something to read.
  if (tls_) return readWhenReadyInto(*tls_, buffer, size, std::forward<Handler>(handler));
  if (nextMessage) readNextMessageInto(socket_, buffer, size, std::forward<Handler>(handler));
  else readMoreInto(socket_, buffer, size, std::forward<Handler>(handler));
}

template <class Handler>
inline void DownstreamSession::readInto(boost::asio::mutable_buffer into, Handler&& handler) {
  if (tls_) return tls_->async_read_some(into, std::forward<Handler>(handler));
  readMore(socket_, into, std::forward<Handler>(handler));
}

template <class Handler>
inline void DownstreamSession::writeAll(boost::asio::const_buffer bytes, Handler&& handler) {
  if (tls_) return boost::asio::async_write(*tls_, bytes, std::forward<Handler>(handler));
  boost::asio::async_write(socket_, bytes, std::forward<Handler>(handler));
}

}  // namespace infergate
