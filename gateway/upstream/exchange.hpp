#pragma once
// One request's exchange with the upstream: the attempts an AttemptPlanner
// decides (waiting in a backend's wait list or a backoff between them), each
// attempt's I/O (connect or take a pooled connection, send the request with its
// body rewrites, read the answer), and the answer relayed to the client piece
// by piece as it arrives, never buffered whole. The filters see the answer's
// head and pieces through their chain. It talks to the client side through a
// DownstreamPort only. Owned by a session and reused for each of its requests,
// so its buffers keep their capacity and a steady request allocates nothing here.
#include <boost/asio/buffer.hpp>
#include <array>
#include <chrono>
#include <climits>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "filters/filter_chain.hpp"
#include "gateway/http/message_writer.hpp"
#include "gateway/http/parser_slot.hpp"
#include "gateway/http/response_body_decoder.hpp"
#include "gateway/net/gathered_write.hpp"
#include "gateway/net/lazy_deadline.hpp"
#include "gateway/net/readiness_watch.hpp"
#include "gateway/net/worker_io.hpp"
#include "gateway/upstream/attempt_planner.hpp"
#include "gateway/upstream/body_edits.hpp"
#include "gateway/upstream/downstream_port.hpp"
#include "gateway/upstream/exchange_states.hpp"
#include "gateway/upstream/exchange_transport.hpp"

namespace infergate {

// Everything the exchange needs about the request; valid until it finishes.
// A connection's endpoint as a label index.
inline std::uint32_t connectionLabel(const UpstreamConnection& c) { return static_cast<std::uint32_t>(c.endpointId + 1); }

struct ProxyRequest {
  const Runtime* runtime = nullptr;  // the config the request started on: it finishes on it
  // The parsed request, until a stream's request is sent (giveBackRequest):
  // null after, when its head is the kept text and its body the context's.
  ProxyRequestMessage* message = nullptr;
  const config::RouteConfig* route = nullptr;
  RequestContext* context = nullptr;  // the filters' view: record, request id, body rewrites
  const FilterChain* chain = nullptr;
  std::string_view clientAddress;  // the peer: appended to X-Forwarded-For
  bool forwardedTrusted = false;   // the peer is a trusted proxy: keep its forwarding headers
  bool isHead = false;
  bool stream = false;  // the request asked for a stream ("stream": true)
  bool clientHttp10 = false;
  bool keepAlive = true;  // the client allows keep-alive and the gateway is not draining
};

class UpstreamExchange;

// The production transport: the worker's Asio sockets (exchange_io.cpp).
//
// A stream's wait for its next event (ReadWait::Idle) on a plain socket the
// reactor holds drained is a watch (readiness_watch.hpp), not a pending read:
// a pending read is an Asio operation on the heap for every open stream
// (176 bytes with its handler, heaptrack, 2,000 streams) that waits seconds
// between events. The watch's notice makes the recv() itself, into the
// thread's scratch, and completes the read as the reactor would.
class AsioExchangeTransport final : public ExchangeTransport, private ReadyWatcher {
 public:
  static constexpr std::size_t kReadSize = 32 * 1024;
  // A read after a wait (the first bytes of an answer, a stream's next event)
  // is sized for what usually comes then, a head or one event: many streams
  // have one in hand at the same moment. The rest of a message is read
  // kReadSize at a time.
  static constexpr std::size_t kWaitReadSize = 4 * 1024;
  // Requests up to this size are joined into one TLS write (fewer records).
  static constexpr std::size_t kJoinedRequestBytes = 64 * 1024;
  AsioExchangeTransport(UpstreamExchange& exchange, DownstreamPort& port) : exchange_(exchange), port_(port) {}
  void connect(UpstreamConnection& conn, const boost::asio::ip::tcp::endpoint& to, unsigned epoch) override;
  void send(UpstreamConnection& conn, std::span<const boost::asio::const_buffer> parts, unsigned epoch) override;
  void read(UpstreamConnection& conn, ReadWait wait, unsigned epoch) override;
  void writeClient(std::span<const boost::asio::const_buffer> parts, bool last, unsigned epoch) override;
  void writeClientError(std::span<const boost::asio::const_buffer> parts, FailureCause cause, unsigned epoch) override;
  void cancelClient() override;
  void close(UpstreamConnection& conn) override;
  void forget(UpstreamConnection& conn) override;
  ~AsioExchangeTransport() override;

 private:
  // The watch for a stream's next event (see above): true when it began; false
  // when the read must be Asio's (TLS, a socket not known drained, no watch
  // on this thread, a descriptor beyond its table).
  bool watchUpstream(UpstreamConnection& conn, unsigned epoch);
  // Ends a watch that has not completed: its read completes with
  // operation_aborted, as a pending read's would on a close.
  void abortWatch();
  void onSocketReady() override;
  std::shared_ptr<void> keepAlive() override { return port_.keepAlive(); }
  std::size_t readAheadLimit() const override { return kWaitReadSize; }
  void tookAhead(const char* landed, std::size_t size, int result) noexcept override;

  // What only TLS and in-band errors need, made on first use: a plain stream
  // does not carry its 112 bytes.
  struct HeldWrites {
    std::vector<boost::asio::const_buffer> errorParts;
    std::vector<boost::asio::const_buffer> sentParts;  // a large request's parts, for an https:// endpoint
    // Joined for TLS (one record per write); each keeps at most kKeptCapacity
    // once its message has passed (filters/core/kept_capacity.hpp).
    std::string tlsOut;     // a request's parts, for an https:// endpoint
    std::string clientOut;  // an answer's pieces, for an HTTPS client
  };
  HeldWrites& held() {
    if (!held_) held_ = std::make_unique<HeldWrites>();
    return *held_;
  }
  boost::asio::const_buffer joined(std::span<const boost::asio::const_buffer> parts);

  UpstreamExchange& exchange_;
  DownstreamPort& port_;
  GatheredWrite write_;
  std::unique_ptr<HeldWrites> held_;
  // While a watch waits (on the exchange's connection): its read's epoch;
  // and, once its event came, the read made for it as the wait returned
  // (tookAhead: bytes already in the connection's buffer, 0, -errno; kNoRead
  // when its notice is to read), and whether that read filled what it asked.
  static constexpr int kNoRead = INT32_MIN;
  unsigned watchEpoch_ = 0;
  std::int32_t aheadResult_ = kNoRead;
  bool watching_ = false;
  bool aheadFull_ = false;
};

class UpstreamExchange {
 public:
  using Clock = LazyDeadline::Clock;
  static constexpr std::size_t kBufferSize = 32 * 1024;  // response body bytes relayed per write, at most
  // The parts of one write: the request head and its body around the edits;
  // or a head, a chunk's framing, its bytes and the last chunk.
  static constexpr std::size_t kMaxWriteParts = 2 + 2 * BodyEdits::kMaxSplices;

  // `transport` null: the worker's sockets (tests pass their own).
  UpstreamExchange(DownstreamPort& port, WorkerUpstream& upstream, ExchangeTransport* transport = nullptr);
  void start(const ProxyRequest& request);
  // The client went away: stop reading upstream and close that connection now.
  void abortClientGone();
  // server.drain_timeout ran out: an answer not started gets 503 draining, a
  // started stream an SSE error event (cause draining), anything else is cut.
  void cutForDrain();
  bool active() const { return state_ != State::Idle; }
  // Drops the pending timer wait (which holds the session alive); on close.
  void cancelTimer();
  // Between requests: gives the relay buffer back to the thread's BlockCache.
  void releaseBuffers();

  // ---- completions, called by the transport ----
  void onConnected(unsigned epoch, boost::system::error_code ec);
  void onTcpConnected(unsigned epoch);  // TLS: the handshake starts, with its own deadline
  void onRequestSent(unsigned epoch, boost::system::error_code ec);
  void onUpstreamRead(unsigned epoch, boost::system::error_code ec, std::size_t bytes);
  void onDownstreamWritten(unsigned epoch, bool last, boost::system::error_code ec);
  void onStreamErrorWritten(unsigned epoch, FailureCause cause, boost::system::error_code ec);

  // For the transport's watch on a stream's next event (exchange_io.cpp): the
  // connection it reads, and whether a deadline is set, whose anchor holds
  // the session while nothing else does (a watch is not an operation that
  // holds it). Every wait on the upstream has one (the total deadline, at
  // least).
  UpstreamConnection* connection() const { return conn_.get(); }
  bool deadlineSet() const { return deadline_.enabled(); }

 private:
  void logTlsFailure(boost::system::error_code ec);  // the reason (certificate check or TLS error), with the request id
  // The states and the decisions taken on them: exchange_states.hpp.
  using State = ExchangeState;
  using Answer = AnswerProgress;
  // The connection of the current attempt.
  enum class Connection : std::uint8_t { Fresh, Pooled, PooledRetried };

  // ---- attempts (exchange.cpp) ----
  void nextAttempt();
  void startAttempt();
  void makeUpstreamHead();
  writer::UpstreamRequestHead attemptHead() const;
  void giveBackRequest();
  void waitForSlot();
  void onSlotGranted();
  void giveUpSlot();
  void retryLater(FailureCause reason, std::chrono::milliseconds retryAfter);
  bool retryOnStatus();
  bool retryOnFreshConnection();
  void onBackoffDone(unsigned epoch, boost::system::error_code ec);
  void onDeadline();
  void interrupt(FailureCause cause);
  void fail(FailureCause cause);
  void writeStreamError(FailureCause cause);
  void finish(FailureCause cause, bool closeDownstream);
  void returnConnection(FailureCause cause);
  void setPhaseDeadline(std::chrono::milliseconds d, FailureCause cause);
  void onlyTotalDeadline();
  Clock::time_point nextDeadline() const;
  unsigned upstreamStatus() const;
  void releaseInFlight();

  // ---- upstream and client I/O (exchange_io.cpp) ----
  void acquireConnection();
  void connect();
  void sendRequest();
  void newParser();
  bool parseHead();
  void startBody();
  bool responseWhole() const { return answer_ != Answer::Awaiting && body_.done(); }
  void readUpstream(bool idle = false);  // idle: nothing pending, the wait may be long
  void parseUpstream();
  void onResponseHead();
  void writeDownstream(bool last);
  void relayPiece(std::size_t from, std::size_t to);
  void takeConnection(std::unique_ptr<UpstreamConnection> conn);
  void dropConnection();
  void closeUpstream();

  DownstreamPort& port_;
  WorkerUpstream& up_;
  AsioExchangeTransport asioTransport_;
  ExchangeTransport& io_;  // asioTransport_, or a test's
  AttemptPlanner planner_;
  LazyDeadline deadline_;
  // Made by the first retry that waits: most exchanges never back off, and
  // every stream would carry an idle 72-byte timer.
  std::unique_ptr<WorkerTimer> backoffTimer_;
  ProxyRequest request_;
  RequestRecord* record_ = nullptr;
  State state_ = State::Idle;
  Answer answer_ = Answer::Awaiting;
  bool responseEnded_ = false;  // the filters' onResponseEnd ran (at the last piece, before it is written)
  Connection connection_ = Connection::Fresh;
  FailureCause failure_ = FailureCause::None;  // set when aborting; the pending handler routes it to fail()
  unsigned epoch_ = 0;                          // completions of an earlier request or wait are ignored
  std::uint32_t inFlightBackend_ = 0;           // the backend label counted in the in-flight gauge (0: none)
  std::uint64_t slotTicket_ = 0;                // in a wait list (0: not waiting)
  Clock::time_point queueDeadline_{};           // set once the request waited for a slot

  std::unique_ptr<UpstreamConnection> conn_;
  // The answer's head is parsed by Beast, out of line (a stream gives the
  // parser back once past its head); its body by the decoder, which keeps
  // only its place between reads. What later steps need of the head is kept:
  // its status and whether the server keeps the connection open.
  ResponseParserSlot head_;
  ResponseBodyDecoder body_;
  std::uint16_t status_ = 0;  // the final head's, once read (0 before)
  bool upstreamKeepAlive_ = false;
  // How the answer's body goes to the client (set with its head).
  writer::BodyFraming framing_ = writer::BodyFraming::ContentLength;
  FailureCause phaseCause_ = FailureCause::None;  // what phaseDeadline_ ends as
  // Both heads and the body's edits (usage injection, model rename, token
  // cap): needed while an attempt may still send the request, so a stream
  // gives them back once its answer has started (made again by the next
  // request on the connection; a keep-alive connection keeps them). A stream
  // whose request was sent keeps its head as text (keptHead) instead of the
  // session's parser, and makes upstreamHead again only for a retry.
  struct AttemptText {
    BodyEdits edits;
    std::optional<std::size_t> contentLength;  // the request's, as sent (its body edited)
    std::string upstreamHead;
    std::string downstreamHead;
    writer::KeptRequestHead keptHead;
  };
  std::unique_ptr<AttemptText> text_;
  // Held while a piece of the answer is relayed, sized to it (kBufferSize at
  // most); back to the thread's BlockCache while a stream waits for its next
  // event and between requests.
  CachedBlock relayBuffer_;
  std::size_t relayUsed_ = 0;
  char chunkPrefix_[24];
  std::unique_ptr<std::string> streamError_;  // a failed stream's error event (made by the first)
  Clock::time_point readAt_{};  // when the bytes being parsed arrived
  std::uint64_t bytesWritten_ = 0;
  std::uint64_t pendingWriteBytes_ = 0;

  Clock::time_point totalDeadline_{};
  Clock::time_point phaseDeadline_{};
  Clock::time_point monitorAt_{};  // when to start watching the client
};

}  // namespace infergate
