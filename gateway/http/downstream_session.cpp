#include "gateway/http/downstream_session.hpp"

#include "filters/core/log_line.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <cstdio>

#include "gateway/net/coarse_clock.hpp"
#include "gateway/http/field_scan.hpp"
#include "gateway/http/header_rules.hpp"
#include "gateway/http/http_framing.hpp"
#include "gateway/http/message_writer.hpp"
#include "gateway/net/send_batch.hpp"
#include "gateway/net/socket_read.hpp"
#include "gateway/server/worker.hpp"
#include "metrics/label_space.hpp"

namespace infergate {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {
ErrorReply bodyBudgetExceeded() {
  return errorFor(FailureCause::Overloaded, "The gateway holds too many request bodies right now; retry shortly.");
}
}  // namespace

DownstreamSession::DownstreamSession(Worker& worker, WorkerSocket socket, boost::asio::ip::address client,
                                     boost::asio::ssl::context* tls)
    : worker_(worker),
      socket_(std::move(socket)),
      tls_(tls ? std::make_unique<ClientTlsStream>(socket_, *tls) : nullptr),
      deadline_(
          socket_.get_executor(), this,
          [](void* self) { return std::shared_ptr<void>(static_cast<DownstreamSession*>(self)->shared_from_this()); },
          [](void* self) { static_cast<DownstreamSession*>(self)->onDeadline(); }),
      clientIp_(client),
      generation_(worker.generation()),
      exchange_(*this, worker.upstream()) {
  generation_->filters->buildStates(filterStates_);
  ctx_.record = &record_;
  ctx_.worker = worker.index();
  ctx_.json = &worker.jsonParser();
  ctx_.states = filterStates_.data();
}

DownstreamSession::~DownstreamSession() {
  unwatchClient();  // a watch holds no reference: it must not outlive the session
  releaseBody();
  worker_.connectionLimits().release(clientIp_);
  if (is_linked()) worker_.unregisterSession(*this);
}

bool DownstreamSession::chargeBody(std::size_t total) {
  if (total <= bodyCharged_) return true;
  if (!worker_.connectionLimits().chargeBody(total - bodyCharged_)) return false;
  bodyCharged_ = total;
  return true;
}

void DownstreamSession::releaseBody() {
  if (bodyCharged_ == 0) return;
  worker_.connectionLimits().releaseBody(bodyCharged_);
  bodyCharged_ = 0;
}

void DownstreamSession::start() {
  worker_.registerSession(*this);
  error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  clientAddress_ = clientIp_.is_unspecified() ? "unknown" : clientIp_.to_string();
  for (const auto& proxy : worker_.runtime().config.server.trusted_proxies)
    peerTrusted_ = peerTrusted_ || proxy.contains(clientAddress_);
  if (tls_) return handshake();
  readHead();
}

// A client that stalls the handshake is closed when its timeout passes, and
// counted; so is one whose hello is not TLS (a plain request to this port).
void DownstreamSession::handshake() {
  state_ = State::ReadingHead;
  armTimer(TimerKind::Handshake, worker_.runtime().config.server.tls.handshake_timeout);
  tls_->async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
    if (self->state_ == State::Closed) return;
    self->deadline_.clear();
    if (ec) {
      self->worker_.countTlsHandshakeFailure(false);
      return self->closeNow();
    }
    self->readHead();
  });
}


void DownstreamSession::onDrain() {
  // An idle keep-alive connection is closed now; one with a request under way
  // finishes it and closes afterwards (endRequest checks draining()).
  if ((state_ == State::ReadingHead || state_ == State::AwaitingMonitor) && buffer_.size() == 0) closeNow();
}

void DownstreamSession::cutForDrain() {
  if (state_ == State::Proxying) return exchange_.cutForDrain();
  // A reply being written is already the end; the rest has nothing to tell.
  if (state_ != State::WritingReply && state_ != State::Closing && state_ != State::Closed) closeNow();
}

std::string_view DownstreamSession::bufferView() const {
  auto data = buffer_.data();
  return {static_cast<const char*>(data.data()), data.size()};
}

// ---- request head -----------------------------------------------------------

void DownstreamSession::readHead() {
  state_ = State::ReadingHead;
  // RFC 9112 §2.2: ignore empty lines before a request line. They are part of
  // the head for its clock: sending them cannot hold a connection open.
  bool skippedEmptyLines = false;
  while (buffer_.size() >= 2 && bufferView().substr(0, 2) == "\r\n") {
    buffer_.consume(2);
    skippedEmptyLines = true;
  }
  auto data = bufferView();
  if (!data.empty() && !recordOpen_) beginRecord();
  if (auto end = framing::findHeadEnd(data, scanned_)) {
    scanned_ = 0;
    parseHead(end);
    return;
  }
  if (auto why = framing::incompleteHeadProblem(data, scanned_); !why.empty()) {
    // Bytes that cannot become an HTTP/1.1 head (a TLS hello, garbage, bare LF
    // line ends) are answered now, not after the header timeout.
    replyError(errorFor(FailureCause::ClientInvalidRequest, std::string(why)), true);
    return;
  }
  scanned_ = static_cast<std::uint32_t>(data.size());  // a head so far: under the header limit and one read
  const auto& limits = worker_.runtime().config.server.limits;
  if (data.size() > limits.max_header_bytes) {
    replyError(errorFor(FailureCause::HeaderTooLarge), true);
    return;
  }
  const auto& timeouts = worker_.runtime().config.server.timeouts;
  if (data.empty() && !headStarted_ && !skippedEmptyLines) {
    if (worker_.draining()) {
      closeNow();
      return;
    }
    headStarted_ = false;
    // A connection going idle keeps a small body's memory for its next
    // request, not a large prompt's: that goes back to the heap, where the
    // next large body on any connection takes it.
    if (spareBody_.capacity() > kIdleBodyCapacity) BodyBytes().swap(spareBody_);
    armTimer(TimerKind::KeepAliveIdle, timeouts.keepalive_idle);
  } else if (!headStarted_) {
    // The header clock starts at the request's first byte and is not extended by
    // later bytes, so a client trickling a header cannot hold the connection.
    headStarted_ = true;
    armTimer(TimerKind::Header, timeouts.header_read);
  }
  auto onRead = [self = shared_from_this()](error_code ec, std::size_t n) { self->onHeadRead(ec, n); };
  // Between requests the socket is usually drained: wait without a recv(),
  // and without a read buffer: an idle keep-alive connection holds none (16
  // KiB each otherwise), it is taken when the next request's bytes arrive.
  readInto(buffer_, kReadChunk, data.empty(), std::move(onRead));
}

void DownstreamSession::onHeadRead(error_code ec, std::size_t bytes) {
  if (state_ != State::ReadingHead) return;  // timed out or closed meanwhile
  buffer_.commit(bytes);
  if (ec) {
    closeNow();
    return;
  }
  readHead();
}

void DownstreamSession::parseHead(std::size_t headLength) {
  headStarted_ = false;
  deadline_.clear();
  record_.requestId.clear();
  auto head = bufferView().substr(0, headLength);
  const auto& limits = worker_.runtime().config.server.limits;
  if (headLength > limits.max_header_bytes) {
    replyError(errorFor(FailureCause::HeaderTooLarge), true);
    return;
  }
  if (framing::hasObsFold(head)) {
    replyError(errorFor(FailureCause::ClientInvalidRequest, "Folded header lines are not allowed."), true);
    return;
  }
  parser_.emplace();
  parser_->get().body().swap(spareBody_);
  parser_->header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser_->body_limit(limits.max_body_bytes);
  parser_->eager(false);
  error_code ec;
  auto used = parser_->put(asio::buffer(head.data(), head.size()), ec);
  if (ec || !parser_->is_header_done()) {
    if (ec == http::error::header_limit) replyError(errorFor(FailureCause::HeaderTooLarge), true);
    else if (ec == http::error::body_limit) replyError(errorFor(FailureCause::RequestTooLarge), true);
    else replyError(errorFor(FailureCause::ClientInvalidRequest, "Malformed HTTP request."), true);
    return;
  }
  buffer_.consume(used);
  record_.bytesIn = headLength;
  auto& request = parser_->get();
  if (auto why = framing::checkRequestHeader(request.base()); !why.empty()) {
    replyError(errorFor(FailureCause::ClientInvalidRequest, std::move(why)), true);
    return;
  }
  if (auto id = headers::valueOfUnknown(request, "x-request-id"); headers::acceptableRequestId(id)) record_.requestId.assign(id);
  else worker_.requestIds().next(record_.requestId.room(headers::RequestIdGenerator::kLength));

  if (auto length = parser_->content_length()) {
    if (*length > limits.max_body_bytes) {
      replyError(errorFor(FailureCause::RequestTooLarge), true);
      return;
    }
    // The declared length is what the body will hold: counted before a byte of
    // it is read, so slow uploads cannot pile up past the budget.
    if (!chargeBody(static_cast<std::size_t>(*length))) {
      replyError(bodyBudgetExceeded(), true, 1);
      return;
    }
    // The whole body's room now (simdjson's padding comes with it): it is read
    // into place and parsed there, never copied.
    request.body().reserve(static_cast<std::size_t>(*length));
  }
  if (boost::beast::iequals(headers::valueOf(request, http::field::expect), "100-continue") && !parser_->is_done()) {
    state_ = State::WritingReply;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    writeAll(asio::buffer(kContinue), [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) self->closeNow();
      else self->readBody();
    });
    return;
  }
  readBody();
}

// ---- request body -----------------------------------------------------------

void DownstreamSession::readBody() {
  state_ = State::ReadingBody;
  parser_->eager(true);
  while (!parser_->is_done()) {
    if (buffer_.size() > 0) {
      error_code ec;
      auto used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      // A chunked body is counted as it grows (a declared length was counted whole).
      if (!chargeBody(parser_->get().body().size())) {
        replyError(bodyBudgetExceeded(), true, 1);
        return;
      }
      if (!ec) continue;
      if (ec == http::error::body_limit) {
        replyError(errorFor(FailureCause::RequestTooLarge), true);
        return;
      }
      if (ec != http::error::need_more) {
        replyError(errorFor(FailureCause::ClientInvalidRequest, "Malformed request body framing."), true);
        return;
      }
    }
    if (!deadline_.enabled()) armTimer(TimerKind::Body, worker_.runtime().config.server.timeouts.body_read);
    // A declared length: the rest of the body is read straight into its place
    // (request_body.hpp), never past it (pipelined bytes stay in the socket).
    if (const auto length = parser_->content_length(); length && !parser_->chunked()) {
      auto& body = parser_->get().body();
      const auto rest = static_cast<std::size_t>(*length) - body.size();
      if (rest > 0 && rest <= body.room()) {
        readInto(asio::buffer(body.spare(), rest),
                 [self = shared_from_this()](error_code ec, std::size_t n) { self->onBodyReadInPlace(ec, n); });
        return;
      }
    }
    readInto(buffer_.prepare(kReadChunk),
             [self = shared_from_this()](error_code ec, std::size_t n) { self->onBodyRead(ec, n); });
    return;
  }
  deadline_.clear();
  dispatch();
}

void DownstreamSession::onBodyRead(error_code ec, std::size_t bytes) {
  if (state_ != State::ReadingBody) return;
  buffer_.commit(bytes);
  if (ec) {
    closeNow();
    return;
  }
  readBody();
}

// The bytes are in place after the body's last: the parser is handed those
// same bytes (it keeps the framing's count; the body's reader only counts them).
void DownstreamSession::onBodyReadInPlace(error_code ec, std::size_t bytes) {
  if (state_ != State::ReadingBody) return;
  if (ec) {
    closeNow();
    return;
  }
  error_code parseError;
  parser_->put(asio::const_buffer(parser_->get().body().spare(), bytes), parseError);
  if (parseError && parseError != http::error::need_more) {
    replyError(errorFor(FailureCause::ClientInvalidRequest, "Malformed request body framing."), true);
    return;
  }
  readBody();
}

void DownstreamSession::armTimer(TimerKind kind, std::chrono::milliseconds after) {
  timerKind_ = kind;
  deadline_.setAfter(after);
}

void DownstreamSession::onDeadline() {
  switch (timerKind_) {
    case TimerKind::KeepAliveIdle:
    case TimerKind::Linger:
      closeNow();
      return;
    case TimerKind::Handshake:
      worker_.countTlsHandshakeFailure(true);
      closeNow();  // the pending handshake completes with an error and finds the session closed
      return;
    case TimerKind::Header:
      if (state_ == State::ReadingHead) {
        socket_.cancel();
        replyError(errorFor(FailureCause::HeaderTimeout), true);
      }
      return;
    case TimerKind::Body:
      if (state_ == State::ReadingBody) {
        socket_.cancel();
        replyError(errorFor(FailureCause::BodyTimeout), true);
      } else {
        closeNow();  // a reply the client would not read
      }
      return;
  }
}

// Half-close and drain what the client still sends, so that closing does not
// reset the connection and destroy the reply in flight (lingering close).
void DownstreamSession::closeGracefully() {
  if (state_ == State::Closed || state_ == State::Closing) return;
  state_ = State::Closing;
  error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  armTimer(TimerKind::Linger, kLingerTime);
  if (unwatchClient()) monitorActive_ = false;
  if (!monitorActive_) lingerRead();  // else the monitor read turns into the linger read
}

void DownstreamSession::lingerRead() {
  buffer_.clear();
  readInto(buffer_.prepare(4096), [self = shared_from_this()](error_code ec, std::size_t) {
    if (ec || self->state_ != State::Closing) {
      self->closeNow();
      return;
    }
    self->lingerRead();
  });
}

void DownstreamSession::closeNow() {
  if (state_ == State::Closed) return;
  if (recordOpen_) {
    // The connection ends with a request under way: the client left, or its
    // reply could not be written.
    if (record_.cause == FailureCause::None) record_.cause = FailureCause::ClientDisconnect;
    finishRecord();
  }
  state_ = State::Closed;
  deadline_.cancel();
  exchange_.cancelTimer();
  if (unwatchClient()) monitorActive_ = false;  // before the descriptor's number can be another's
  error_code ignored;
  forgetQueuedSend(socket_.native_handle());  // the number may be a new client's next
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace infergate
