#include "gateway/upstream/exchange.hpp"

#include <boost/asio/write.hpp>
#include <algorithm>
#include <charconv>

#include "gateway/http/field_scan.hpp"
#include "metrics/label_space.hpp"

namespace infergate {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using Verdict = AttemptPlanner::Verdict;

namespace {
// The client-side read that notices a client leaving costs a syscall that
// nearly always finds nothing; requests that finish sooner than this never
// start it. Disconnects are still seen within 100 ms of happening.
constexpr std::chrono::milliseconds kMonitorDelay{50};
}  // namespace

UpstreamExchange::UpstreamExchange(DownstreamPort& port, WorkerUpstream& upstream, ExchangeTransport* transport)
    : port_(port),
      up_(upstream),
      asioTransport_(*this, port),
      io_(transport != nullptr ? *transport : asioTransport_),
      planner_(upstream),
      deadline_(
          port.clientSocket().get_executor(), this,
          [](void* self) { return static_cast<UpstreamExchange*>(self)->port_.keepAlive(); },
          [](void* self) { static_cast<UpstreamExchange*>(self)->onDeadline(); }) {}

void UpstreamExchange::start(const ProxyRequest& request) {
  request_ = request;
  record_ = request.context->record;
  ++epoch_;
  state_ = State::Backoff;  // until the first attempt's operation starts
  answer_ = Answer::Awaiting;
  responseEnded_ = false;
  failure_ = FailureCause::None;
  slotTicket_ = 0;
  queueDeadline_ = {};
  relayUsed_ = 0;
  bytesWritten_ = 0;
  framing_ = writer::BodyFraming::ContentLength;
  head_.reset();
  status_ = 0;
  planner_.begin(*request.runtime, *request.route, request.context->facts ? request.context->facts->prefixHash : 0);

  const auto& primary = planner_.primaryConfig();
  const auto now = Clock::now();
  totalDeadline_ = now + primary.timeouts.total;
  phaseDeadline_ = Clock::time_point::max();
  monitorAt_ = now + kMonitorDelay;
  record_->upstreamStart = now;

  const auto& message = *request_.message;
  const auto& body = message.body();
  if (!text_) text_ = std::make_unique<AttemptText>();
  auto& edits = text_->edits;
  edits.plan(*request_.context->facts, primary.inject_stream_usage, request_.route->rename_model,
               request_.context->tokenLimits);
  text_->contentLength.reset();
  if (!edits.empty() || !body.empty() || message.method() == http::verb::post ||
      message.method() == http::verb::put || message.method() == http::verb::patch)
    text_->contentLength = edits.editedSize(body.size());
  nextAttempt();
}

// ---- attempts ------------------------------------------------------------------

void UpstreamExchange::nextAttempt() {
  switch (planner_.next()) {
    case AttemptPlanner::Next::Picked:
      return startAttempt();
    case AttemptPlanner::Next::Exhausted:
      return finish(planner_.lastCause(), false);
    case AttemptPlanner::Next::CircuitOpen:
      return finish(FailureCause::CircuitOpen, false);
    case AttemptPlanner::Next::Shed:  // no wait: the servers' queues are the problem
      return finish(FailureCause::Overloaded, false);
    case AttemptPlanner::Next::Overloaded:
      // Once per request: a request that waited and still finds no room is refused.
      if (planner_.primaryConfig().limits.max_pending > 0 && queueDeadline_ == Clock::time_point{})
        return waitForSlot();
      planner_.countOverflow();
      return finish(FailureCause::Overloaded, false);
  }
}

void UpstreamExchange::startAttempt() {
  const auto label = metrics::LabelSpace::backendIndex(planner_.backend());
  const auto& endpoint = planner_.endpoint();
  relayUsed_ = 0;
  head_.reset();
  status_ = 0;
  // An attempt after a failure that followed a head (a stream's, before its
  // first event reached the client) reads its own head.
  answer_ = Answer::Awaiting;
  // The in-flight gauge follows the backend the request is on.
  if (inFlightBackend_ != label) {
    releaseInFlight();
    up_.stats.inFlight.add(up_.worker, {label}, 1);
    inFlightBackend_ = label;
  }
  record_->backend = label;
  record_->endpoint = static_cast<std::uint32_t>(endpoint.id + 1);
  record_->firstByte = {};
  makeUpstreamHead();
  acquireConnection();
}

// The upstream head for the attempt on the picked endpoint, from the parsed
// request or, once a stream's request went out, from the text it kept.
void UpstreamExchange::makeUpstreamHead() {
  if (request_.message != nullptr) writer::requestHead(text_->upstreamHead, request_.message->base(), attemptHead());
  else writer::requestHead(text_->upstreamHead, text_->keptHead, attemptHead());
}

// What the upstream head of the attempt on the picked endpoint adds to the client's.
writer::UpstreamRequestHead UpstreamExchange::attemptHead() const {
  writer::UpstreamRequestHead extra;
  extra.authority = planner_.endpoint().authority;
  extra.requestId = request_.context->requestId;
  extra.clientAddress = request_.clientAddress;
  extra.forwardedTrusted = request_.forwardedTrusted;
  extra.injected = &planner_.backendConfig().headers;
  extra.dropClientCredentials = request_.context->dropClientCredentials;
  extra.contentLength = text_->contentLength;
  return extra;
}

// A stream's request is sent, and its first token may be seconds away (a
// model's queue and prefill): what a later attempt needs of its head is kept
// as text, and the session's parser (the header lines, the target and its
// own 280 bytes: about 1 KiB with five lines) goes back now, not when the
// answer starts, with the facts read from its body (344 bytes). The body
// stays, read through the context. The upstream head's text goes too: only a
// retry makes it again.
void UpstreamExchange::giveBackRequest() {
  if (request_.message == nullptr) return;
  writer::keepRequestHead(text_->keptHead, request_.message->base(), attemptHead());
  port_.releaseRequest();
  port_.releaseFacts();
  request_.message = nullptr;
  std::string().swap(text_->upstreamHead);
}

// max_pending: wait in the primary backend's FIFO list until a slot is handed
// over, up to queue_timeout.
void UpstreamExchange::waitForSlot() {
  const auto& limits = planner_.primaryConfig().limits;
  slotTicket_ = up_.waits.enter([this, self = port_.keepAlive(), epoch = epoch_] {
    if (epoch == epoch_) onSlotGranted();
  });
  if (!planner_.primarySlots().wait(up_.waits, slotTicket_)) {
    up_.waits.forget(slotTicket_);
    slotTicket_ = 0;
    planner_.countOverflow();
    return finish(FailureCause::Overloaded, false);
  }
  state_ = State::WaitingSlot;
  queueDeadline_ = Clock::now() + limits.queue_timeout;
  setPhaseDeadline(limits.queue_timeout, FailureCause::Overloaded);
}

void UpstreamExchange::onSlotGranted() {
  slotTicket_ = 0;
  planner_.adoptPrimarySlot();
  onlyTotalDeadline();
  nextAttempt();
}

// Leaves the wait list; a slot handed over meanwhile is passed on.
void UpstreamExchange::giveUpSlot() {
  if (slotTicket_ == 0) return;
  up_.waits.forget(slotTicket_);
  if (!planner_.primarySlots().cancel(slotTicket_)) planner_.primarySlots().release();
  slotTicket_ = 0;
}

void UpstreamExchange::retryLater(FailureCause reason, std::chrono::milliseconds retryAfter) {
  closeUpstream();
  dropConnection();
  up_.countRetry(record_->route, record_->backend, reason);
  const auto delay = planner_.retryDelay(reason, retryAfter);
  // While waiting only the request's total deadline runs: the phase deadline
  // of the failed attempt must not fire into the backoff.
  onlyTotalDeadline();
  state_ = State::Backoff;
  if (!backoffTimer_) backoffTimer_ = std::make_unique<WorkerTimer>(port_.clientSocket().get_executor());
  backoffTimer_->expires_after(delay);
  backoffTimer_->async_wait(
      [this, self = port_.keepAlive(), epoch = epoch_](error_code ec) { onBackoffDone(epoch, ec); });
}

void UpstreamExchange::onBackoffDone(unsigned epoch, error_code ec) {
  if (epoch != epoch_) return;
  if (failure_ == FailureCause::ClientDisconnect) return finish(failure_, true);
  if (ec) return;
  nextAttempt();
}

// A configured status (429, 502, 503, 504 by default) before anything reached
// the client is retried elsewhere, honouring Retry-After; the response is dropped
// with its connection. Without a retry left, the response is relayed as is.
bool UpstreamExchange::retryOnStatus() {
  const auto& response = head_->get();
  const unsigned status = status_;
  const auto& retry = planner_.primaryConfig().retry;
  if (std::find(retry.statuses.begin(), retry.statuses.end(), status) == retry.statuses.end()) return false;
  if (!planner_.canRetry()) return false;
  std::chrono::milliseconds retryAfter{0};
  if (auto value = headers::valueOf(response, http::field::retry_after); !value.empty()) {
    unsigned seconds = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{}) return false;  // an HTTP date: not worth parsing for a retry
    retryAfter = std::chrono::seconds(seconds);
    if (retryAfter > retry.max_retry_after) return false;
  }
  // The verdict may open this endpoint's breaker: look for somewhere to retry
  // only after it. With nowhere left, the answer in hand is relayed as is.
  planner_.endAttempt(planner_.verdictFor(FailureCause::None, status, *record_));
  if (!planner_.hasAlternative()) return false;
  retryLater(FailureCause::Upstream5xx, retryAfter);
  return true;
}

// A pooled connection the server closed while we picked it: the request never
// reached the model, so one retry on a new connection is safe.
bool UpstreamExchange::retryOnFreshConnection() {
  if (connection_ != Connection::Pooled || RequestRecord::set(record_->firstByte) || failure_ != FailureCause::None)
    return false;
  closeUpstream();
  head_.reset();
  status_ = 0;
  connect();
  connection_ = Connection::PooledRetried;
  return true;
}

// ---- deadlines and failures ------------------------------------------------------

void UpstreamExchange::setPhaseDeadline(std::chrono::milliseconds d, FailureCause cause) {
  phaseDeadline_ = deadlineNow() + d;
  phaseCause_ = cause;
  deadline_.set(nextDeadline());
}

void UpstreamExchange::onlyTotalDeadline() {
  phaseDeadline_ = Clock::time_point::max();
  deadline_.set(nextDeadline());
}

UpstreamExchange::Clock::time_point UpstreamExchange::nextDeadline() const {
  return std::min({phaseDeadline_, totalDeadline_, monitorAt_});
}

void UpstreamExchange::onDeadline() {
  if (!active() || failure_ != FailureCause::None) return;
  const auto now = Clock::now();
  if (now >= monitorAt_) {
    monitorAt_ = Clock::time_point::max();
    port_.watchClient();
  }
  const auto expired = expiredDeadline(now, totalDeadline_, phaseDeadline_, phaseCause_);
  if (!expired) {
    deadline_.set(nextDeadline());
    return;
  }
  interrupt(*expired);
}

// Ends what the exchange is waiting on with `cause`: a deadline that passed,
// or the end of a drain.
void UpstreamExchange::interrupt(FailureCause cause) {
  switch (interruptFor(state_)) {
    case Interrupt::Nothing:
      return;
    case Interrupt::LeaveWaitList:
      giveUpSlot();
      if (cause == FailureCause::Overloaded) planner_.countOverflow();
      return finish(cause, false);
    case Interrupt::CancelBackoff:
      if (backoffTimer_) backoffTimer_->cancel();
      ++epoch_;  // the cancelled wait must not resume
      return finish(cause, false);
    case Interrupt::CancelClientWrite:
      failure_ = cause;
      closeUpstream();
      io_.cancelClient();  // a client that stopped reading past the total deadline
      return;
    case Interrupt::CloseUpstream:
      failure_ = cause;
      closeUpstream();  // the pending upstream operation completes and routes to fail()
      return;
  }
}

void UpstreamExchange::cutForDrain() {
  if (!active() || failure_ != FailureCause::None) return;
  interrupt(FailureCause::Draining);
}

void UpstreamExchange::abortClientGone() {
  if (!active()) return;
  failure_ = FailureCause::ClientDisconnect;
  closeUpstream();
  switch (interruptFor(state_)) {
    case Interrupt::Nothing:
      return;
    case Interrupt::LeaveWaitList:
      giveUpSlot();
      return finish(FailureCause::ClientDisconnect, true);
    case Interrupt::CancelBackoff:
      if (backoffTimer_) backoffTimer_->cancel();  // its handler sees the disconnect and finishes
      return;
    case Interrupt::CancelClientWrite:
      io_.cancelClient();
      return;
    case Interrupt::CloseUpstream:
      return;  // the pending upstream operation completes and routes to fail()
  }
}

void UpstreamExchange::fail(FailureCause cause) {
  closeUpstream();
  if (cause == FailureCause::ClientDisconnect) return finish(cause, true);
  FailureFacts facts;
  facts.cause = cause;
  facts.answer = answer_;
  if (answer_ != Answer::Started) {
    facts.retryable = planner_.retryable(cause);
    facts.sameFailureElsewhere = planner_.sameFailureElsewhere(cause);
    facts.canRetry = planner_.canRetry();
    facts.totalDeadlinePassed = failure_ == FailureCause::UpstreamTotalTimeout;
  }
  facts.chunkedEventStream =
      request_.context->response.eventStream && framing_ == writer::BodyFraming::Chunked;
  switch (afterFailure(facts)) {
    case AfterFailure::Retry:
      planner_.endAttempt(Verdict::Failure, cause);
      failure_ = FailureCause::None;  // a timeout that fired belongs to the attempt, not the request
      return retryLater(cause, std::chrono::milliseconds(0));
    case AfterFailure::LocalReply:
      return finish(cause, false);  // the session answers with a 502/503/504
    case AfterFailure::StreamError:
      return writeStreamError(cause);
    case AfterFailure::Close:
      return finish(cause, true);  // a cut body cannot be repaired: closing tells the client
  }
}

// After streaming started, a failure is reported in-band: an SSE error event
// with an OpenAI-style payload, then the end of the chunked body.
void UpstreamExchange::writeStreamError(FailureCause cause) {
  const auto reply = errorFor(cause);
  if (!streamError_) streamError_ = std::make_unique<std::string>();
  streamError_->assign("event: error\ndata: ").append(openaiErrorBody(reply)).append("\n\n");
  static constexpr std::string_view kTail = "\r\n0\r\n\r\n";
  std::array<asio::const_buffer, 3> buffers{
      asio::buffer(chunkPrefix_, writer::chunkPrefix(chunkPrefix_, streamError_->size())), asio::buffer(*streamError_),
      asio::buffer(kTail)};
  monitorAt_ = Clock::time_point::max();
  totalDeadline_ += std::chrono::seconds(5);  // room to deliver the error event
  deadline_.set(totalDeadline_);
  state_ = State::WritingError;
  io_.writeClientError(std::span<const asio::const_buffer>(buffers.data(), buffers.size()), cause, epoch_);
}

void UpstreamExchange::onStreamErrorWritten(unsigned epoch, FailureCause cause, error_code ec) {
  if (epoch != epoch_) return;
  if (!ec) bytesWritten_ += streamError_->size() + 16;
  finish(ec ? FailureCause::ClientDisconnect : cause, static_cast<bool>(ec));
}

unsigned UpstreamExchange::upstreamStatus() const {
  return status_;
}

void UpstreamExchange::finish(FailureCause cause, bool closeDownstream) {
  // clear(), not cancel(): the pending wait is reused by the next request for
  // free; the session cancels it when the connection closes.
  deadline_.clear();
  giveUpSlot();
  planner_.finish(cause, upstreamStatus(), *record_);
  returnConnection(cause);
  auto& r = *record_;
  releaseInFlight();
  r.bytesOut += bytesWritten_;
  if (answer_ != Answer::Awaiting && !responseEnded_) {
    auto& ctx = *request_.context;
    ctx.response.complete = cause == FailureCause::None && responseWhole();
    request_.chain->onResponseEnd(ctx);
    responseEnded_ = true;
  }
  ExchangeOutcome outcome;
  outcome.cause = cause;
  outcome.responseStarted = answer_ == Answer::Started;
  outcome.closeDownstream =
      closeDownstream || (outcome.responseStarted && framing_ == writer::BodyFraming::CloseDelimited);
  outcome.status = upstreamStatus();
  if (cause == FailureCause::CircuitOpen) outcome.retryAfterSeconds = planner_.circuitRetryAfterSeconds();
  else if (cause == FailureCause::Overloaded || cause == FailureCause::GatewayResources) outcome.retryAfterSeconds = 1;
  state_ = State::Idle;
  port_.onExchangeFinished(outcome);
}

// A connection whose answer was read whole goes back to the pool; any other
// is closed, which tells the model server to stop.
void UpstreamExchange::returnConnection(FailureCause cause) {
  if (!conn_) return;
  const bool reusable = cause == FailureCause::None && responseWhole() && upstreamKeepAlive_ &&
                        conn_->buffer.size() == 0 && conn_->socket.is_open();
  if (reusable) {
    ++conn_->requestsServed;
    if (conn_->tlsStream) up_.pool.keepSession(conn_->endpointId, SSL_get_session(conn_->tlsStream->native_handle()));
    up_.stats.connections.add(up_.worker, {connectionLabel(*conn_), UpstreamStats::kActive}, -1);
    io_.forget(*conn_);
    up_.pool.release(std::move(conn_), planner_.backendConfig().pool);
  }
  dropConnection();
}

// Counted from the first attempt to the answer's last byte (or the end).
void UpstreamExchange::releaseInFlight() {
  if (inFlightBackend_ == 0) return;
  up_.stats.inFlight.add(up_.worker, {inFlightBackend_}, -1);
  inFlightBackend_ = 0;
}

void UpstreamExchange::releaseBuffers() {
  if (active() || !relayBuffer_) return;  // still in use
  relayUsed_ = 0;
  relayBuffer_.reset();  // back to this thread's BlockCache
}

void UpstreamExchange::cancelTimer() { deadline_.cancel(); }

}  // namespace infergate
