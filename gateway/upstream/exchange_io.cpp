// The exchange's I/O: the upstream connection (pooled or new), the request
// sent with its body rewrites, the answer parsed as it arrives, and each piece
// written to the client with the head the filters completed.
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

#include "gateway/http/field_scan.hpp"
#include "gateway/net/local_errors.hpp"
#include "gateway/net/peer_close_events.hpp"
#include "gateway/net/socket_read.hpp"
#include "gateway/upstream/exchange.hpp"
#include "gateway/upstream/upstream_tls.hpp"
#include "filters/core/kept_capacity.hpp"
#include "filters/core/log_line.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

namespace infergate {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using Verdict = AttemptPlanner::Verdict;

namespace {
constexpr std::uint32_t kUpstreamHeaderLimit = 64 * 1024;
}  // namespace

// ---- the production transport ------------------------------------------------

void AsioExchangeTransport::connect(UpstreamConnection& conn, const asio::ip::tcp::endpoint& to, unsigned epoch) {
  if (!conn.tlsStream && !conn.socket.is_open()) {
    // Opened here rather than by async_connect, so that the registration the
    // connect's wait makes asks for the peer's close too (no epoll_ctl of its
    // own). Plain reads then trust a short read mid-answer (read() below);
    // OpenSSL reads a TLS socket itself.
    error_code ec;
    conn.socket.open(to.protocol(), ec);
    if (ec) return asio::post(conn.socket.get_executor(), [this, self = port_.keepAlive(), epoch, ec] {
      exchange_.onConnected(epoch, ec);
    });
    reportPeerCloseFromConnect(conn.socket);
  }
  conn.socket.async_connect(to, [this, &conn, self = port_.keepAlive(), epoch](error_code ec) {
    if (!ec) {
      error_code ignored;
      conn.socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      if (!conn.tlsStream) reportPeerClose(conn.socket);
    }
    if (ec || !conn.tlsStream) return exchange_.onConnected(epoch, ec);
    conn.tcpConnected = true;
    exchange_.onTcpConnected(epoch);
    conn.tlsStream->async_handshake(asio::ssl::stream_base::client,
                                    [this, self, epoch](error_code handshake) { exchange_.onConnected(epoch, handshake); });
  });
}

void AsioExchangeTransport::send(UpstreamConnection& conn, std::span<const asio::const_buffer> parts,
                                 unsigned epoch) {
  auto onSent = [this, self = port_.keepAlive(), epoch](error_code ec, std::size_t) {
    exchange_.onRequestSent(epoch, ec);
  };
  if (conn.tlsStream) {
    // A TLS write is one SSL_write of one buffer: its own records and
    // send()s. A small request's parts (head, body, body edits) are joined
    // so that it leaves in as few records as TLS allows; a large one goes
    // part by part (a few short records more, no copy of a long prompt).
    std::size_t total = 0;
    for (const auto& part : parts) total += part.size();
    if (parts.size() == 1 || total > kJoinedRequestBytes) {
      // async_write keeps a view of the buffer sequence: copy the descriptors.
      auto& sent = held().sentParts;
      sent.assign(parts.begin(), parts.end());
      return asio::async_write(*conn.tlsStream, sent,
                               [this, onSent = std::move(onSent)](error_code ec, std::size_t n) mutable {
                                 std::vector<asio::const_buffer>().swap(held_->sentParts);
                                 onSent(ec, n);
                               });
    }
    auto& out = held().tlsOut;
    out.clear();
    for (const auto& part : parts) out.append(static_cast<const char*>(part.data()), part.size());
    return asio::async_write(*conn.tlsStream, asio::buffer(out),
                             [this, onSent = std::move(onSent)](error_code ec, std::size_t n) mutable {
                               clearKeepingSmall(held_->tlsOut);  // a long prompt's copy does not stay with the connection
                               onSent(ec, n);
                             });
  }
  write_.start(conn.socket, parts, std::move(onSent));
}

void AsioExchangeTransport::read(UpstreamConnection& conn, ReadWait wait, unsigned epoch) {
  if (wait == ReadWait::Idle && watchUpstream(conn, epoch)) return;
  auto onRead = [this, self = port_.keepAlive(), epoch](error_code ec, std::size_t n) {
    exchange_.onUpstreamRead(epoch, ec, n);
  };
  if (conn.tlsStream) {
    // OpenSSL reads the socket itself: the drain-aware reads below are for
    // plain sockets. A peer that closes without close_notify ends a
    // close-delimited body as an end-of-file would.
    auto onTlsRead = [onRead = std::move(onRead)](error_code ec, std::size_t n) {
      if (ec == asio::ssl::error::stream_truncated) ec = asio::error::eof;
      onRead(ec, n);
    };
    if (wait == ReadWait::More) return conn.tlsStream->async_read_some(conn.buffer.prepare(kReadSize), std::move(onTlsRead));
    // A first token or a stream's next event, maybe seconds away: no read
    // buffer held meanwhile.
    return readWhenReadyInto(*conn.tlsStream, conn.buffer, kWaitReadSize, std::move(onTlsRead));
  }
  // The first bytes of an answer (a model's first token, seconds away) and a
  // stream's next event take the read buffer only when bytes are there, so an
  // open stream holds no 32 KiB buffer while its model thinks. The first read
  // waits without a recv() (the connection is usually drained). A read in the
  // middle of the answer does too when the reactor reports the upstream's FIN
  // (peer_close_events.hpp: one recv() fewer per stream event); otherwise it
  // tries the socket first, to see an end-of-file at once.
  const unsigned* peerEvents = peerCloseEventsOf(conn.socket);
  switch (wait) {
    case ReadWait::First:
      return readNextMessageInto(conn.socket, conn.buffer, kWaitReadSize, peerEvents, std::move(onRead));
    case ReadWait::More:
      return readMore(conn.socket, conn.buffer.prepare(kReadSize), peerEvents, std::move(onRead));
    case ReadWait::Idle: return readMoreInto(conn.socket, conn.buffer, kWaitReadSize, peerEvents, std::move(onRead));
  }
}

void AsioExchangeTransport::writeClient(std::span<const asio::const_buffer> parts, bool last, unsigned epoch) {
  auto onWritten = [this, self = port_.keepAlive(), epoch, last](error_code ec, std::size_t) {
    if (last && held_) clearKeepingSmall(held_->clientOut);  // HTTPS: a long answer's pieces do not stay with the connection
    exchange_.onDownstreamWritten(epoch, last, ec);
  };
  // An HTTPS client: one TLS write (a record and a send per buffer otherwise).
  if (auto* tls = port_.clientTls()) return asio::async_write(*tls, joined(parts), std::move(onWritten));
  write_.start(port_.clientSocket(), parts, std::move(onWritten));
}

asio::const_buffer AsioExchangeTransport::joined(std::span<const asio::const_buffer> parts) {
  auto& out = held().clientOut;
  out.clear();
  for (const auto& part : parts) out.append(static_cast<const char*>(part.data()), part.size());
  return asio::buffer(out);
}

void AsioExchangeTransport::writeClientError(std::span<const asio::const_buffer> parts, FailureCause cause,
                                             unsigned epoch) {
  if (auto* tls = port_.clientTls())
    return asio::async_write(*tls, joined(parts), [this, self = port_.keepAlive(), epoch, cause](error_code ec, std::size_t) {
      clearKeepingSmall(held_->clientOut);
      exchange_.onStreamErrorWritten(epoch, cause, ec);
    });
  // async_write keeps a view of the buffer sequence: copy the descriptors.
  auto& errorParts = held().errorParts;
  errorParts.assign(parts.begin(), parts.end());
  asio::async_write(port_.clientSocket(), errorParts,
                    [this, self = port_.keepAlive(), epoch, cause](error_code ec, std::size_t) {
                      exchange_.onStreamErrorWritten(epoch, cause, ec);
                    });
}

void AsioExchangeTransport::cancelClient() {
  error_code ignored;
  port_.clientSocket().cancel(ignored);
}

void AsioExchangeTransport::close(UpstreamConnection& conn) {
  forget(conn);  // before the descriptor's number can be another's
  error_code ignored;
  forgetQueuedSend(conn.socket.native_handle());
  conn.socket.close(ignored);
}

void AsioExchangeTransport::forget(UpstreamConnection& conn) {
  if (watching_ && exchange_.connection() == &conn) abortWatch();
}

AsioExchangeTransport::~AsioExchangeTransport() {
  // Only when the worker's io_context goes, which takes the deadline's
  // anchor: the table must not keep this address.
  if (watching_ && exchange_.connection() != nullptr)
    if (auto* watch = ReadinessWatch::current()) watch->unwatch(exchange_.connection()->socket.native_handle(), *this);
}

// ---- a stream's wait for its next event ------------------------------------

bool AsioExchangeTransport::watchUpstream(UpstreamConnection& conn, unsigned epoch) {
  ReadinessWatch* watch = ReadinessWatch::current();
  // Drained as the reactor holds it: whatever comes next raises an event,
  // which the watch sees. TLS: OpenSSL may hold bytes already read. Without
  // a deadline nothing would hold the session while it waits.
  if (watch == nullptr || conn.tlsStream || watching_ || &conn != exchange_.connection() ||
      !exchange_.deadlineSet() || !heldDrained(conn.socket))
    return false;
  if (!watch->watch(conn.socket.native_handle(), *this, ReadinessWatch::Event::Taken)) return false;
  releaseIdle(conn.buffer);
  watching_ = true;
  watchEpoch_ = epoch;
  aheadResult_ = kNoRead;
  return true;
}

void AsioExchangeTransport::tookAhead(const char* landed, std::size_t size, int result) noexcept {
  if (!watching_) return;
  if (result > 0) {
    try {
      std::memcpy(exchange_.connection()->buffer.prepare(static_cast<std::size_t>(result)).data(), landed,
                  static_cast<std::size_t>(result));
    } catch (...) {
      result = -ENOMEM;  // the bytes are out of the socket: the connection cannot go on
    }
  }
  aheadResult_ = result;
  aheadFull_ = result > 0 && static_cast<std::size_t>(result) == size;
}

void AsioExchangeTransport::onSocketReady() {
  if (!watching_) return;  // ended since the event (abortWatch)
  UpstreamConnection& conn = *exchange_.connection();
  const int fd = conn.socket.native_handle();
  // A notice of an earlier watch (ended, then a new one began) finds the
  // current one: it reads for it, and that watch ends here.
  ReadinessWatch::current()->unwatch(fd, *this);
  error_code ec;
  std::size_t bytes = 0;
  bool full = false;
  bool received = true;  // false: the socket had nothing after all
  // Interrupted, or left unreported by a ring that broke: its own recv() then.
  if (const int ahead = std::exchange(aheadResult_, kNoRead); ahead != kNoRead && ahead != -EINTR && ahead != -ECANCELED) {
    // Made as the wait returned, its bytes already in the buffer's free room.
    if (ahead == -EAGAIN || ahead == -EWOULDBLOCK) received = false;
    else if (ahead < 0) ec.assign(-ahead, asio::error::get_system_category());
    else if (ahead == 0) ec = asio::error::eof;
    bytes = ahead > 0 ? static_cast<std::size_t>(ahead) : 0;
    full = aheadFull_;
  } else {
    const auto landing = landingFor(kWaitReadSize);
    received = tryRecv(fd, landing, ec, bytes);
    if (received) landReceived(conn.buffer, bytes);
    full = bytes == landing.size();
  }
  if (!received) {
    // Nothing after all (the event's bytes were read by a notice before):
    // the socket is drained, and the watch goes on.
    markDrained(conn.socket);
    if (ReadinessWatch::current()->watch(fd, *this, ReadinessWatch::Event::Taken)) return;
    watching_ = false;  // cannot happen (it watched before): Asio's read then
    return read(conn, ReadWait::More, watchEpoch_);
  }
  // The reactor did not see this event (the watch took it): the mark is the
  // watch's to set. Short, with no FIN reported, is drained; else the next
  // read tries the socket first.
  if (!ec && !full && !peerCloseReported(peerCloseEventsOf(conn.socket))) markDrained(conn.socket);
  else markReadable(conn.socket);
  watching_ = false;
  exchange_.onUpstreamRead(watchEpoch_, ec, bytes);
}

void AsioExchangeTransport::abortWatch() {
  if (auto* watch = ReadinessWatch::current()) watch->unwatch(exchange_.connection()->socket.native_handle(), *this);
  watching_ = false;
  // As a pending read's completion on a close: through the io_context, with
  // the session held until it runs.
  asio::post(port_.clientSocket().get_executor(), [this, hold = port_.keepAlive(), epoch = watchEpoch_] {
    exchange_.onUpstreamRead(epoch, asio::error::operation_aborted, 0);
  });
}

// ---- connect and send --------------------------------------------------------

void UpstreamExchange::acquireConnection() {
  const auto& endpoint = planner_.endpoint();
  if (auto pooled = up_.pool.acquire(endpoint, planner_.backendConfig().pool,
                                     up_.cluster.endpoint(endpoint.id).address.generation())) {
    takeConnection(std::move(pooled));
    connection_ = Connection::Pooled;
    record_->upstreamConnected = Clock::now();
    record_->newConnection = false;
    sendRequest();
  } else {
    connect();
  }
}

// The active-connection gauge follows ownership: +1 while the exchange holds one.
void UpstreamExchange::takeConnection(std::unique_ptr<UpstreamConnection> conn) {
  dropConnection();
  conn_ = std::move(conn);
  up_.stats.connections.add(up_.worker, {connectionLabel(*conn_), UpstreamStats::kActive}, 1);
}

void UpstreamExchange::dropConnection() {
  if (!conn_) return;
  io_.forget(*conn_);
  up_.stats.connections.add(up_.worker, {connectionLabel(*conn_), UpstreamStats::kActive}, -1);
  conn_.reset();
}

void UpstreamExchange::closeUpstream() {
  if (conn_) io_.close(*conn_);
}

void UpstreamExchange::connect() {
  const auto& endpoint = planner_.endpoint();
  connection_ = Connection::Fresh;
  takeConnection(std::make_unique<UpstreamConnection>(port_.clientSocket().get_executor(), endpoint.id, endpoint.tls));
  if (auto* tls = conn_->tlsStream.get()) prepareTls(tls->native_handle(), endpoint, up_.pool);
  setPhaseDeadline(planner_.backendConfig().timeouts.connect, FailureCause::UpstreamConnectTimeout);
  state_ = State::Connecting;
  // The generation first: an address that changes meanwhile leaves this connection the older one.
  const auto& where = up_.cluster.endpoint(endpoint.id).address;
  conn_->addressGeneration = where.generation();
  io_.connect(*conn_, where.current(), epoch_);
}

void UpstreamExchange::onConnected(unsigned epoch, error_code ec) {
  if (epoch != epoch_) return;
  if (failure_ != FailureCause::None) return fail(failure_);
  if (ec && isLocalResourceError(ec)) {
    // This process ran out of descriptors or ports: not the endpoint's fault,
    // and no other endpoint would do better. The gateway's own overload.
    planner_.endAttempt(Verdict::Neutral);
    closeUpstream();
    return finish(FailureCause::GatewayResources, false);
  }
  if (ec && conn_ && conn_->tlsStream && conn_->tcpConnected) {
    logTlsFailure(ec);
    return fail(FailureCause::UpstreamTlsError);
  }
  if (ec) return fail(FailureCause::UpstreamConnectError);
  record_->upstreamConnected = Clock::now();
  record_->newConnection = true;
  sendRequest();
}

void UpstreamExchange::logTlsFailure(error_code ec) {
  log::write(log::Level::Warn,
             log::Fields()
                 .add("request_id", request_.context->requestId)
                 .add("endpoint", planner_.endpoint().name)
                 .add("reason", tlsFailureReason(conn_->tlsStream->native_handle(), ec)),
             "TLS with the model server failed");
}

void UpstreamExchange::onTcpConnected(unsigned epoch) {
  if (epoch != epoch_) return;
  record_->tlsStarted = Clock::now();
  // The handshake gets a connect timeout of its own, and a stall in it is a TLS failure.
  setPhaseDeadline(planner_.backendConfig().timeouts.connect, FailureCause::UpstreamTlsError);
}

void UpstreamExchange::sendRequest() {
  // The first-token clock starts when the request leaves: it covers the model's
  // queueing and prefill, which is what the timeout is meant to bound.
  setPhaseDeadline(planner_.backendConfig().timeouts.first_token, FailureCause::UpstreamFirstTokenTimeout);
  // A stream gives its upstream head's text back once the request is sent:
  // any later send (a retry's, a stale pooled connection's) makes it again.
  if (text_->upstreamHead.empty()) makeUpstreamHead();
  const auto& body = *request_.context->body;
  // The transport copies what it keeps of the descriptors (a write that
  // waits): a stream does not carry the array between its events.
  std::array<asio::const_buffer, kMaxWriteParts> buffers;
  std::size_t count = 0;
  buffers[count++] = asio::buffer(text_->upstreamHead);
  std::size_t position = 0;
  for (const auto& splice : text_->edits.splices()) {
    buffers[count++] = asio::buffer(body.data() + position, splice.offset - position);
    buffers[count++] = asio::buffer(splice.text.data(), splice.text.size());
    position = splice.offset + splice.removed;
  }
  if (position < body.size()) buffers[count++] = asio::buffer(body.data() + position, body.size() - position);
  state_ = State::Sending;
  io_.send(*conn_, std::span<const asio::const_buffer>(buffers.data(), count), epoch_);
}

void UpstreamExchange::onRequestSent(unsigned epoch, error_code ec) {
  if (epoch != epoch_) return;
  if (failure_ != FailureCause::None) return fail(failure_);
  if (ec) {
    if (retryOnFreshConnection()) return;
    return fail(FailureCause::UpstreamReset);
  }
  record_->requestSent = Clock::now();
  if (request_.stream) giveBackRequest();
  parseUpstream();
}

void UpstreamExchange::newParser() {
  auto& parser = head_.emplace();
  parser.header_limit(kUpstreamHeaderLimit);
  // Beast checks a Content-Length against its body limit at the head: bodies
  // are relayed, not stored, so none applies.
  parser.body_limit(boost::none);
  parser.eager(false);  // the head only: the body is the decoder's
  if (request_.isHead) parser.skip(true);
  status_ = 0;
}

// ---- response ------------------------------------------------------------------

void UpstreamExchange::readUpstream(bool idle) {
  state_ = State::Receiving;
  using Wait = ExchangeTransport::ReadWait;
  io_.read(*conn_, !RequestRecord::set(record_->firstByte) ? Wait::First : idle ? Wait::Idle : Wait::More, epoch_);
}

void UpstreamExchange::onUpstreamRead(unsigned epoch, error_code ec, std::size_t bytes) {
  if (epoch != epoch_) return;
  if (failure_ != FailureCause::None) return fail(failure_);
  conn_->buffer.commit(bytes);
  readAt_ = Clock::now();
  if (bytes > 0 && !RequestRecord::set(record_->firstByte)) record_->firstByte = readAt_;
  if (ec) {
    // A close-delimited body ends here; any other message is cut short.
    if (ec == asio::error::eof && answer_ != Answer::Awaiting && body_.endAtClose()) return parseUpstream();
    // A TLS alert (with TLS 1.3 a refused client certificate is only told
    // after the client's handshake ended) is the TLS layer's failure.
    if (conn_->tlsStream && ec.category() == asio::error::get_ssl_category()) {
      logTlsFailure(ec);
      return fail(FailureCause::UpstreamTlsError);
    }
    if (!RequestRecord::set(record_->firstByte) && retryOnFreshConnection()) return;
    return fail(FailureCause::UpstreamReset);
  }
  if (answer_ == Answer::Started)
    setPhaseDeadline(planner_.backendConfig().timeouts.idle, FailureCause::UpstreamIdleTimeout);
  parseUpstream();
}

void UpstreamExchange::parseUpstream() {
  if (answer_ == Answer::Awaiting && !parseHead()) return;
  // Taken when the body's bytes are here, not when the request is sent: a
  // request waiting on its upstream (for seconds, with a model) holds no relay
  // buffer. Sized to what was read (decoding never makes more bytes than it
  // takes), so a stream's event of a few hundred bytes holds a block of that
  // class until its write completes, not 32 KiB: with sends batched, every
  // event of a reactor round holds its block until the round's flush.
  if (conn_->buffer.size() > 0 && !body_.done()) {
    const auto wanted = std::min(conn_->buffer.size(), kBufferSize);
    if (relayUsed_ == 0 && relayBuffer_.capacity() < wanted) relayBuffer_.take(wanted);
    if (relayUsed_ < relayBuffer_.capacity()) {
      const auto in = conn_->buffer.data();
      const auto step = body_.decode(std::string_view(static_cast<const char*>(in.data()), in.size()),
                                     relayBuffer_.get() + relayUsed_, relayBuffer_.capacity() - relayUsed_);
      conn_->buffer.consume(step.consumed);
      if (step.produced > 0) {
        relayPiece(relayUsed_, relayUsed_ + step.produced);
        relayUsed_ += step.produced;
      }
      if (step.error) return fail(FailureCause::UpstreamProtocolError);
    }
  }
  const bool whole = body_.done();
  if (whole && !RequestRecord::set(record_->lastByte)) record_->lastByte = readAt_;
  if (relayUsed_ > 0 || whole) return writeDownstream(whole);
  // Nothing to relay until more bytes come, which in a stream may be seconds
  // away: the relay buffer goes back to the thread's cache meanwhile (it is
  // taken again when they arrive), and the decoder took every byte read, so
  // the read buffer goes too: memory follows the bytes in flight, not the
  // open streams.
  relayBuffer_.reset();
  readUpstream(/*idle=*/true);
}

// The answer's head, from what was read: a 1xx is skipped, the final head is
// judged for a retry, then the filters see it. True when its body follows;
// false when the head is not all here (a read was started) or the exchange
// went elsewhere (a failure, a retry).
bool UpstreamExchange::parseHead() {
  while (conn_->buffer.size() > 0) {
    // Made when the head's first bytes are here, not when the request is
    // sent: a stream waiting for a model's queue and prefill holds no parser.
    if (!head_) newParser();
    error_code ec;
    conn_->buffer.consume(head_->put(conn_->buffer.data(), ec));
    if (ec == http::error::need_more) break;
    if (ec) {
      fail(FailureCause::UpstreamProtocolError);
      return false;
    }
    if (!head_->is_header_done()) break;
    if (head_->get().result_int() / 100 == 1) {
      newParser();  // 103 Early Hints, a stray 100: not relayed; the final head follows
      continue;
    }
    status_ = static_cast<std::uint16_t>(head_->get().result_int());
    upstreamKeepAlive_ = head_->keep_alive();
    if (retryOnStatus()) return false;
    onResponseHead();
    return true;
  }
  readUpstream();
  return false;
}

// The final head: the filters see it (and may add header lines); the client's
// head is written with the framing the answer needs.
void UpstreamExchange::onResponseHead() {
  const auto& response = head_->get();
  const unsigned status = response.result_int();
  auto& ctx = *request_.context;
  const auto contentType = headers::valueOf(response, http::field::content_type);
  ctx.response.status = status;
  ctx.response.eventStream = contentType.starts_with("text/event-stream");
  ctx.response.json = contentType.starts_with("application/json");
  ctx.response.hasBody = !(request_.isHead || status == 204 || status == 304);
  record_->stream = ctx.response.eventStream;

  writer::DownstreamResponseHead head;
  head.requestId = ctx.requestId;
  if (!ctx.response.hasBody) {
    framing_ = writer::BodyFraming::None;
    if (auto length = head_->content_length()) head.contentLength = *length;
  } else if (!head_->chunked() && head_->content_length()) {
    framing_ = writer::BodyFraming::ContentLength;
    head.contentLength = *head_->content_length();
  } else {
    // Chunked or close-delimited upstream: re-chunk for HTTP/1.1 clients.
    framing_ = request_.clientHttp10 ? writer::BodyFraming::CloseDelimited : writer::BodyFraming::Chunked;
  }
  head.framing = framing_;
  head.close = !request_.keepAlive || framing_ == writer::BodyFraming::CloseDelimited;
  ctx.responseHeaders.clear();
  request_.chain->onResponseHeaders(ctx);
  head.filterHeaders = ctx.responseHeaders;
  writer::responseHead(text_->downstreamHead, response.base(), head);
  startBody();
  // The head is read: its parser goes (the fields with it), and a stream
  // gives back the block too, and its request's parser and facts (a request
  // that did not ask for a stream and got one is known only now). A failure
  // before the first write to the client is still retried, from the kept text.
  if (ctx.response.eventStream) {
    head_.release();
    giveBackRequest();
  } else {
    head_.reset();
  }
  answer_ = Answer::HeadRead;
}

// The body's framing, as Beast read it from the head: none (HEAD, 204, 304,
// a zero length), chunked, a length, or until the server closes.
void UpstreamExchange::startBody() {
  using Framing = ResponseBodyDecoder::Framing;
  if (head_->is_done()) body_.start(Framing::None);
  else if (head_->chunked()) body_.start(Framing::Chunked);
  else if (const auto length = head_->content_length()) body_.start(Framing::Length, *length);
  else body_.start(Framing::UntilClose);
}

// The filters that asked see each piece of the body as it passes.
void UpstreamExchange::relayPiece(std::size_t from, std::size_t to) {
  auto& ctx = *request_.context;
  if (ctx.wantsData == 0) return;
  ctx.pieceArrived = readAt_;
  request_.chain->onResponseData(ctx, std::string_view(relayBuffer_.get() + from, to - from));
}

void UpstreamExchange::writeDownstream(bool last) {
  static constexpr std::string_view kCrlf = "\r\n";
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  // The transport copies what it keeps of the descriptors (a write that
  // waits): a stream does not carry the array between its events.
  std::array<asio::const_buffer, kMaxWriteParts> buffers;
  std::size_t count = 0;
  if (answer_ != Answer::Started) buffers[count++] = asio::buffer(text_->downstreamHead);
  if (relayUsed_ > 0) {
    if (framing_ == writer::BodyFraming::Chunked) {
      buffers[count++] = asio::buffer(chunkPrefix_, writer::chunkPrefix(chunkPrefix_, relayUsed_));
      buffers[count++] = asio::buffer(relayBuffer_.get(), relayUsed_);
      buffers[count++] = asio::buffer(kCrlf);
    } else {
      buffers[count++] = asio::buffer(relayBuffer_.get(), relayUsed_);
    }
  }
  if (last && framing_ == writer::BodyFraming::Chunked) buffers[count++] = asio::buffer(kLastChunk);
  // The upstream's answer is complete, so its verdict is final: the breaker
  // learns it before the client has the last byte. A client that reads this
  // response and then looks at /admin sees the state the response caused.
  if (last) {
    planner_.endAttempt(planner_.verdictFor(FailureCause::None, upstreamStatus(), *record_));
    releaseInFlight();  // likewise: the answer is whole, the request no longer in flight
    planner_.releaseSlot();  // and the backend's slot is free for the next (or a waiter)
    // And the filters learn the answer is whole (usage final): a rate limit
    // settles its token estimate and frees its concurrency before the client
    // can send its next request.
    auto& ctx = *request_.context;
    ctx.response.complete = true;
    request_.chain->onResponseEnd(ctx);
    responseEnded_ = true;
  }
  // Once the answer starts there is no further attempt: the earlier attempts'
  // held failures are judged now, not when a long stream ends (a half-open
  // breaker waits for its probe's verdict).
  if (answer_ != Answer::Started) planner_.settleHeldVerdicts();
  answer_ = Answer::Started;
  pendingWriteBytes_ = asio::buffer_size(std::span<const asio::const_buffer>(buffers.data(), count));
  // Time spent waiting on a slow client is not upstream idleness: only the total
  // deadline runs while writing.
  onlyTotalDeadline();
  state_ = State::Writing;
  io_.writeClient(std::span<const asio::const_buffer>(buffers.data(), count), last, epoch_);
}

void UpstreamExchange::onDownstreamWritten(unsigned epoch, bool last, error_code ec) {
  if (epoch != epoch_) return;
  relayUsed_ = 0;
  if (!ec) bytesWritten_ += pendingWriteBytes_;
  if (failure_ == FailureCause::ClientDisconnect || (ec && failure_ == FailureCause::None))
    return finish(FailureCause::ClientDisconnect, true);
  if (ec) return finish(failure_, true);  // aborted by a deadline while the client was not reading
  if (failure_ != FailureCause::None) return fail(failure_);
  if (last) return finish(FailureCause::None, false);
  // The answer goes on past its head (a stream, a large body): both heads are
  // sent and no further attempt can follow, so their memory goes back now
  // instead of staying with the stream for its whole life; so do the body's
  // edits and the filters' header lines for the client's head.
  if (text_) {
    text_.reset();
    std::string().swap(request_.context->responseHeaders);
  }
  setPhaseDeadline(planner_.backendConfig().timeouts.idle, FailureCause::UpstreamIdleTimeout);
  parseUpstream();
}

}  // namespace infergate
