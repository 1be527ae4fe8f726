// The session's local replies (errors and the filters' own answers), the
// request's record from its first byte to its completion observers, and the
// end of a request: keep-alive for the next one or a graceful close.
#include <algorithm>
#include <boost/asio/write.hpp>

#include "filters/core/log_line.hpp"
#include "gateway/http/downstream_session.hpp"
#include "gateway/http/message_writer.hpp"
#include "gateway/net/coarse_clock.hpp"
#include "gateway/server/worker.hpp"

namespace infergate {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

// ---- local replies and connection end ----------------------------------------

void DownstreamSession::logFailure(const ErrorReply& reply) {
  // One line per failed request; never headers or bodies (they may carry secrets).
  if (!log::enabled(log::Level::Warn)) return;
  auto fields = log::Fields::request(record_.requestId);
  fields.add("client", requestClient_ && !requestClient_->empty() ? *requestClient_ : clientAddress_).add("status", reply.status).add("cause", causeName(reply.cause));
  log::write(log::Level::Warn, fields, reply.message);
}

// Every reply the gateway gives itself goes out here: an OpenAI-style error
// (logged with the request id; `reply.body` empty) or a filter's own answer.
void DownstreamSession::sendLocalReply(const LocalReply& reply, bool close, unsigned retryAfterSeconds) {
  const auto& error = reply.error;
  const bool isError = reply.body.empty();
  // The record first (it starts without an id), then the id a request
  // refused before its head was read still lacks, then the log line with it.
  if (!recordOpen_) beginRecord();
  if (record_.requestId.empty()) worker_.requestIds().next(record_.requestId.room(headers::RequestIdGenerator::kLength));
  if (isError) logFailure(error);
  if (!reply_) reply_ = std::make_unique<std::string>();
  writer::localReply(*reply_, error.status, record_.requestId, "application/json",
                     isError ? openaiErrorBody(error) : reply.body, close,
                     std::max(retryAfterSeconds, reply.retryAfterSeconds), error.allow, reply.headers);
  record_.status = error.status;
  if (isError) record_.cause = error.cause;
  writeReply(close);
}

void DownstreamSession::writeReply(bool close) {
  record_.bytesOut += reply_->size();
  if (state_ != State::Proxying) deadline_.clear();
  state_ = State::WritingReply;
  // A reply must not wait forever on a client that does not read.
  armTimer(TimerKind::Body, worker_.runtime().config.server.timeouts.body_read);
  writeAll(asio::buffer(*reply_), [self = shared_from_this(), close](error_code ec, std::size_t) {
    self->onReplyWritten(ec, close);
  });
}

void DownstreamSession::onReplyWritten(error_code ec, bool close) {
  if (state_ != State::WritingReply) return;
  deadline_.clear();
  if (ec) {
    closeNow();
    return;
  }
  finishRecord();
  endRequest(close);
}

void DownstreamSession::beginRecord() {
  record_.reset();
  // No id until this request's head is read (or its refusal makes one): a
  // request refused before then is not the one before it on the connection.
  record_.requestId.clear();
  if (requestClient_) requestClient_->clear();  // until this request's headers say who it is for
  record_.accepted = RequestRecord::Clock::now();
  record_.wallStartMs = coarseWallMilliseconds();  // a log timestamp: one tick is enough
  recordOpen_ = true;
  // Until it is routed, a request belongs to the chain of unrouted requests
  // (whose completion observers count framing errors too).
  ctx_.message = nullptr;
  ctx_.jsonApi = false;  // the facts are read (and reset) only for a JSON API request
  if (!facts_) facts_ = std::make_unique<RequestFacts>();  // given back by a stream before
  ctx_.facts = facts_.get();
  chain_ = &generation_->filters->unrouted();
  chain_->begin(ctx_);
}

void DownstreamSession::finishRecord() {
  if (!recordOpen_) return;
  recordOpen_ = false;
  record_.done = RequestRecord::Clock::now();
  ctx_.requestId = record_.requestId;
  chain_->onComplete(ctx_);
}

void DownstreamSession::endRequest(bool close) {
  releaseBody();
  if (parser_) {
    auto& body = parser_->get().body();
    if (body.capacity() <= kKeptBodyCapacity) {
      body.clear();
      spareBody_.swap(body);
    }
    parser_.reset();
  } else if (spareBody_.capacity() > kKeptBodyCapacity) {
    BodyBytes().swap(spareBody_);  // a stream's large body, kept until now for samples
  } else {
    spareBody_.clear();  // a stream's body (releaseRequest)
  }
  exchange_.releaseBuffers();
  if (close || worker_.draining()) {
    closeGracefully();
    return;
  }
  // A watch without a read simply ends; one with a read (or a notice under
  // way) is waited for.
  if (unwatchClient()) monitorActive_ = false;
  if (monitorActive_) {
    state_ = State::AwaitingMonitor;
    if (buffer_.size() > 0) {
      // A pipelined request is already here: take the read back and parse it.
      error_code ignored;
      socket_.cancel(ignored);
    } else {
      // The pending monitor read doubles as the wait for the next request.
      armTimer(TimerKind::KeepAliveIdle, worker_.runtime().config.server.timeouts.keepalive_idle);
    }
    return;
  }
  readHead();
}

}  // namespace infergate
