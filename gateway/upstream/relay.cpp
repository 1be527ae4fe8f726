#include "gateway/upstream/relay.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <algorithm>
#include <charconv>
#include <limits>

#include "gateway/http/downstream_session.hpp"
#include "filters/core/response_usage.hpp"
#include "gateway/net/socket_read.hpp"
#include "metrics/label_space.hpp"
#include "gateway/server/worker.hpp"

namespace infergate {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using Clock = LazyDeadline::Clock;

namespace {
constexpr std::size_t kUpstreamReadSize = 32 * 1024;
constexpr std::uint32_t kUpstreamHeaderLimit = 64 * 1024;
// The client-side read that notices a client leaving costs a syscall that
// nearly always finds nothing; requests that finish sooner than this never
// start it. Disconnects are still seen within 100 ms of happening.
constexpr std::chrono::milliseconds kMonitorDelay{50};
// Non-streaming JSON bodies up to this size are kept to read their usage.
constexpr std::size_t kUsageCaptureLimit = 4 * 1024 * 1024;

std::string_view pieceOf(const char* base, std::size_t from, std::size_t to) { return {base + from, to - from}; }
}  // namespace

Relay::Relay(DownstreamSession& session)
    : session_(session),
      deadline_(
          session.socket().get_executor(), [&session] { return std::shared_ptr<void>(session.shared_from_this()); },
          [this] { onDeadline(); }),
      backoffTimer_(session.socket().get_executor()) {}

void Relay::start(const ProxyRequest& request) {
  request_ = request;
  ++epoch_;
  active_ = true;
  failure_ = FailureCause::None;
  pending_ = Pending::None;
  headerSent_ = headerReady_ = eventStream_ = lastWrite_ = responseBytesSeen_ = retriedStale_ = false;
  relayUsed_ = 0;
  framing_ = writer::BodyFraming::ContentLength;
  parser_.reset();

  const auto& primary = *request_.backend;
  const auto now = Clock::now();
  totalDeadline_ = now + primary.config->timeouts.total;
  monitorAt_ = now + kMonitorDelay;

  record_ = &session_.record();
  record_->upstreamStart = now;
  sseTap_.reset();
  jsonBody_.clear();
  captureJson_ = jsonCut_ = false;
  captureStream_ = slowSampled_ = observeBody_ = false;
  // Bodies are read (SSE timing, usage) only when something will use what is found.
  const auto& cfg = session_.worker().runtime().config;
  observe_ = cfg.metrics.enabled || cfg.access_log.enabled;
  bytesWritten_ = 0;

  const auto& message = *request_.message;
  const auto& body = message.body();
  const auto& facts = *request_.facts;
  edits_.plan(facts, primary.config->inject_stream_usage, request_.route->rename_model, request_.tokenLimits);
  contentLength_.reset();
  if (!edits_.empty() || !body.empty() || message.method() == http::verb::post ||
      message.method() == http::verb::put || message.method() == http::verb::patch)
    contentLength_ = edits_.editedSize(body.size());

  attempt_ = 0;
  heldCount_ = 0;
  backendCursor_ = 0;
  backendSlot_ = -1;
  lastCause_ = FailureCause::None;
  tried_.assign(session_.worker().runtime().endpointCount, 0);
  nextAttempt();
}

const config::BackendConfig& Relay::backendConfig() const {
  return *session_.worker().runtime().backends[backendIndex_].config;
}

std::size_t Relay::backendAt(std::size_t cursor) const {
  return cursor == 0 ? request_.route->backend_index : request_.route->fallback_indexes[cursor - 1];
}

// max_in_flight: a slot on a backend is held for as long as the request uses it.
bool Relay::holdBackendSlot(std::size_t backend) {
  if (backendSlot_ == static_cast<std::int64_t>(backend)) return true;
  releaseBackendSlot();
  auto& state = session_.worker().cluster().backend(backend);
  const auto max = session_.worker().runtime().backends[backend].config->limits.max_in_flight;
  auto current = state.inFlight.load(std::memory_order_relaxed);
  do {
    if (max != 0 && current >= static_cast<std::int64_t>(max)) return false;
  } while (!state.inFlight.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
  backendSlot_ = static_cast<std::int64_t>(backend);
  return true;
}

void Relay::releaseBackendSlot() {
  if (backendSlot_ < 0) return;
  session_.worker().cluster().backend(static_cast<std::size_t>(backendSlot_)).inFlight.fetch_sub(1, std::memory_order_relaxed);
  backendSlot_ = -1;
}

// Picks where the next attempt goes: an endpoint not tried yet whose breaker
// admits it, on the route's backend and then its fallbacks in order.
void Relay::nextAttempt() {
  auto& picker = session_.worker().picker();
  const std::size_t backends = 1 + request_.route->fallback_indexes.size();
  bool overloaded = false;
  for (; backendCursor_ < backends; ++backendCursor_) {
    const auto b = backendAt(backendCursor_);
    if (!holdBackendSlot(b)) {
      overloaded = true;
      continue;
    }
    auto pick = picker.pick(b, tried_);
    if (pick.endpoint == nullptr && attempt_ > 0 && backendCursor_ + 1 == backends) {
      // Nothing new anywhere: a retry may go back to an endpoint already tried.
      std::fill(tried_.begin(), tried_.end(), 0);
      pick = picker.pick(b, tried_);
    }
    if (pick.endpoint != nullptr) return startAttempt(b, pick);
  }
  releaseBackendSlot();
  if (attempt_ > 0) return finish(lastCause_, false);
  if (overloaded && request_.backend->config->limits.max_pending > 0 && waitForSlot()) return;
  if (overloaded) {
    session_.worker().cluster().backend(request_.route->backend_index).overflow.fetch_add(1, std::memory_order_relaxed);
    return finish(FailureCause::Overloaded, false);
  }
  finish(FailureCause::CircuitOpen, false);
}

// max_pending: wait (polling every few ms) for a slot, up to queue_timeout.
bool Relay::waitForSlot() {
  auto& state = session_.worker().cluster().backend(request_.route->backend_index);
  const auto& limits = request_.backend->config->limits;
  if (!queued_) {
    if (state.pending.fetch_add(1, std::memory_order_relaxed) >= static_cast<std::int64_t>(limits.max_pending)) {
      state.pending.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    queued_ = true;
    queueDeadline_ = Clock::now() + limits.queue_timeout;
  }
  if (Clock::now() >= queueDeadline_) {
    state.pending.fetch_sub(1, std::memory_order_relaxed);
    queued_ = false;
    return false;
  }
  waitThen(std::chrono::milliseconds(5), [this] {
    backendCursor_ = 0;
    if (queued_ && Clock::now() < queueDeadline_ && !holdBackendSlot(request_.route->backend_index)) {
      if (!waitForSlot()) {
        session_.worker().cluster().backend(request_.route->backend_index).overflow.fetch_add(1, std::memory_order_relaxed);
        finish(FailureCause::Overloaded, false);
      }
      return;
    }
    leaveQueue();
    nextAttempt();
  });
  return true;
}

void Relay::leaveQueue() {
  if (!queued_) return;
  session_.worker().cluster().backend(request_.route->backend_index).pending.fetch_sub(1, std::memory_order_relaxed);
  queued_ = false;
}

void Relay::waitThen(std::chrono::milliseconds delay, std::function<void()> next) {
  // While waiting, only the request's total deadline runs: the phase deadline
  // of a failed attempt must not fire into the backoff.
  phaseDeadline_ = Clock::time_point::max();
  deadline_.set(nextDeadline());
  pending_ = Pending::Timer;
  waitNext_ = std::move(next);
  backoffTimer_.expires_after(delay);
  backoffTimer_.async_wait([this, self = session_.shared_from_this(), epoch = epoch_](error_code ec) {
    if (epoch != epoch_) return;
    pending_ = Pending::None;
    if (failure_ == FailureCause::ClientDisconnect) return finish(failure_, true);
    if (ec) return;
    auto next = std::move(waitNext_);
    next();
  });
}

void Relay::startAttempt(std::size_t backend, const Pick& pick) {
  backendIndex_ = backend;
  endpoint_ = pick.endpoint;
  admission_ = pick.admission;
  admissionOpen_ = true;
  tried_[endpoint_->id] = 1;
  headerReady_ = responseBytesSeen_ = retriedStale_ = eventStream_ = false;
  relayUsed_ = 0;
  parser_.reset();
  session_.worker().cluster().endpoint(endpoint_->id).inFlight.fetch_add(1, std::memory_order_relaxed);
  if (attempt_ > 0) session_.worker().cluster().backend(backend).retriesInFlight.fetch_add(1, std::memory_order_relaxed);
  auto& shard = session_.worker().shard();
  if (record_->backend != metrics::LabelSpace::backendIndex(backend) || attempt_ == 0) {
    if (attempt_ > 0) shard.inFlight.add(record_->backend, -1);
    record_->backend = metrics::LabelSpace::backendIndex(backend);
    shard.inFlight.add(record_->backend, 1);
  }
  record_->endpoint = static_cast<std::uint32_t>(endpoint_->id + 1);
  record_->firstByte = {};

  writer::UpstreamRequestHead extra;
  extra.authority = endpoint_->authority;
  extra.requestId = request_.requestId;
  extra.clientAddress = request_.clientAddress;
  extra.injected = &backendConfig().headers;
  extra.contentLength = contentLength_;
  writer::requestHead(upstreamHead_, request_.message->base(), extra);
  acquireConnection();
}

namespace {
// Failures an endpoint shows in answer to a request, which a request can cause
// (an oversized head reset by the server, a prompt it cannot serve in time).
// Connect errors and timeouts happen before the request is seen: local-origin,
// always the endpoint's. Statuses (5xx) are the server's own verdict and count
// at once, as the retry on a status relies on.
bool mayBeTheRequests(FailureCause cause) {
  switch (cause) {
    case FailureCause::UpstreamReset:
    case FailureCause::UpstreamProtocolError:
    case FailureCause::UpstreamFirstTokenTimeout:
    case FailureCause::UpstreamIdleTimeout:
      return true;
    default:
      return false;
  }
}
}  // namespace

// Ends the attempt on its endpoint; reports its verdict to the breaker once,
// now or (a failure that may be the request's) when the request ends.
void Relay::endAttempt(Verdict verdict, FailureCause cause) {
  if (!admissionOpen_) return;
  admissionOpen_ = false;
  auto& endpoint = session_.worker().cluster().endpoint(endpoint_->id);
  endpoint.inFlight.fetch_sub(1, std::memory_order_relaxed);
  if (attempt_ > 0) session_.worker().cluster().backend(backendIndex_).retriesInFlight.fetch_sub(1, std::memory_order_relaxed);
  if (verdict == Verdict::Failure && mayBeTheRequests(cause) && heldCount_ < held_.size()) {
    held_[heldCount_++] = {endpoint_->id, backendIndex_, admission_, cause};
    return;
  }
  switch (verdict) {
    case Verdict::Success: endpoint.breaker.onSuccess(admission_); break;
    case Verdict::Failure: endpoint.breaker.onFailure(admission_); break;
    case Verdict::Neutral: endpoint.breaker.onNeutral(admission_); break;
  }
}

// Whether this request already failed with `cause` on another endpoint than
// the current one: then it is the request's doing, and not worth a retry.
bool Relay::sameFailureElsewhere(FailureCause cause) const {
  for (std::size_t i = 0; i < heldCount_; ++i)
    if (held_[i].cause == cause && held_[i].endpointId != endpoint_->id) return true;
  return false;
}

// The request is over: a held failure seen on another endpoint too is the
// request's (neutral for the breaker), any other is its endpoint's.
void Relay::settleHeldVerdicts() {
  auto& cluster = session_.worker().cluster();
  for (std::size_t i = 0; i < heldCount_; ++i) {
    bool elsewhere = false;
    for (std::size_t j = 0; j < heldCount_; ++j)
      elsewhere |= j != i && held_[j].cause == held_[i].cause && held_[j].endpointId != held_[i].endpointId;
    auto& breaker = cluster.endpoint(held_[i].endpointId).breaker;
    if (elsewhere) {
      breaker.onNeutral(held_[i].admission);
      cluster.backend(held_[i].backend).requestCausedFailures.fetch_add(1, std::memory_order_relaxed);
    } else {
      breaker.onFailure(held_[i].admission);
    }
  }
  heldCount_ = 0;
}

Relay::Verdict Relay::verdictFor(FailureCause cause) const {
  switch (cause) {
    case FailureCause::None: break;
    case FailureCause::ClientDisconnect:
    case FailureCause::UpstreamTotalTimeout:  // the client's budget, not the endpoint's health
      return Verdict::Neutral;
    default:
      return Verdict::Failure;
  }
  const unsigned status = parser_ && parser_->is_header_done() ? parser_->get().result_int() : 0;
  const auto& cb = backendConfig().circuit_breaker;
  for (auto s : cb.failure_statuses)
    if (s == status) return Verdict::Failure;
  // A first token slower than the SLO counts against the endpoint.
  if (cb.slow_first_token.count() > 0 && RequestRecord::set(record_->requestSent)) {
    const auto first = RequestRecord::set(record_->firstToken) ? record_->firstToken : record_->firstByte;
    if (RequestRecord::set(first) && first - record_->requestSent > cb.slow_first_token) return Verdict::Failure;
  }
  return Verdict::Success;
}

bool Relay::retryable(FailureCause cause) const {
  switch (cause) {
    case FailureCause::UpstreamConnectError:
    case FailureCause::UpstreamConnectTimeout:
    case FailureCause::UpstreamReset:
      return true;
    case FailureCause::UpstreamFirstTokenTimeout:
      return request_.backend->config->retry.on_first_token_timeout;
    default:
      return false;
  }
}

// Whether another attempt is allowed: attempts left, and the retry budget
// (retries in flight within a share of requests in flight) not spent.
bool Relay::canRetry() const {
  const auto& retry = request_.backend->config->retry;
  if (attempt_ + 1 >= retry.max_attempts) return false;
  const auto& state = session_.worker().cluster().backend(backendIndex_);
  const double allowed = std::max<double>(retry.min_retries_in_flight,
                                          retry.budget * static_cast<double>(state.inFlight.load(std::memory_order_relaxed)));
  return static_cast<double>(state.retriesInFlight.load(std::memory_order_relaxed)) < allowed;
}

void Relay::retryAfterFailure(FailureCause reason, std::chrono::milliseconds retryAfter) {
  lastCause_ = reason;
  closeUpstream();
  dropConnection();
  const auto& retry = request_.backend->config->retry;
  session_.worker().countRetry(record_->route, record_->backend, reason);
  ++attempt_;
  // Jittered exponential backoff: base x 2^(n-1) x [0.5, 1.5), capped; at least Retry-After.
  const auto exp = retry.backoff_base * (1LL << std::min<unsigned>(attempt_ - 1, 16));
  auto delay = std::min<std::chrono::milliseconds>(exp, retry.backoff_max);
  delay = std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(delay.count()) *
                                                              (0.5 + static_cast<double>(session_.worker().random() % 1000) / 1000.0)));
  delay = std::max(delay, retryAfter);
  waitThen(delay, [this] { nextAttempt(); });
}

void Relay::acquireConnection() {
  const auto& pool = backendConfig().pool;
  auto pooled = session_.worker().pool().acquire(*endpoint_, pool);
  if (pooled) {
    takeConnection(std::move(pooled));
    reusedConnection_ = true;
    record_->upstreamConnected = Clock::now();
    record_->newConnection = false;
    sendRequest();
  } else {
    connect();
  }
}

void Relay::setPhaseDeadline(std::chrono::milliseconds d, FailureCause cause) {
  phaseDeadline_ = deadlineNow() + d;
  phaseCause_ = cause;
  deadline_.set(nextDeadline());
}

Relay::Clock::time_point Relay::nextDeadline() const {
  return std::min({phaseDeadline_, totalDeadline_, monitorAt_});
}

// ---- connect and send --------------------------------------------------------

// The active-connection gauge follows ownership: +1 while the relay holds one.
void Relay::takeConnection(std::unique_ptr<UpstreamConnection> conn) {
  dropConnection();
  conn_ = std::move(conn);
  session_.worker().shard().activeConnections.add(endpoint_->id + 1, 1);
}

void Relay::dropConnection() {
  if (!conn_) return;
  session_.worker().shard().activeConnections.add(conn_->endpointId + 1, -1);
  conn_.reset();
}

void Relay::connect() {
  reusedConnection_ = false;
  takeConnection(std::make_unique<UpstreamConnection>(session_.socket().get_executor(), endpoint_->id));
  setPhaseDeadline(backendConfig().timeouts.connect, FailureCause::UpstreamConnectTimeout);
  pending_ = Pending::Upstream;
  conn_->socket.async_connect(endpoint_->address,
                              [this, self = session_.shared_from_this(), epoch = epoch_](error_code ec) {
                                onConnected(epoch, ec);
                              });
}

void Relay::onConnected(unsigned epoch, error_code ec) {
  if (epoch != epoch_) return;
  pending_ = Pending::None;
  if (failure_ != FailureCause::None) return fail(failure_);
  if (ec) return fail(FailureCause::UpstreamConnectError);
  record_->upstreamConnected = Clock::now();
  record_->newConnection = true;
  error_code ignored;
  conn_->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  sendRequest();
}

void Relay::sendRequest() {
  // The first-token clock starts when the request leaves: it covers the model's
  // queueing and prefill, which is what the timeout is meant to bound.
  setPhaseDeadline(backendConfig().timeouts.first_token, FailureCause::UpstreamFirstTokenTimeout);
  const auto& body = request_.message->body();
  auto& buffers = writeBuffers_;  // a member: async_write keeps only a view of the array
  std::size_t count = 0;
  buffers[count++] = asio::buffer(upstreamHead_);
  std::size_t position = 0;
  for (const auto& splice : edits_.splices()) {
    buffers[count++] = asio::buffer(body.data() + position, splice.offset - position);
    buffers[count++] = asio::buffer(splice.text.data(), splice.text.size());
    position = splice.offset + splice.removed;
  }
  if (position < body.size()) buffers[count++] = asio::buffer(body.data() + position, body.size() - position);
  pending_ = Pending::Upstream;
  gatheredWrite_.start(conn_->socket, std::span<const asio::const_buffer>(buffers.data(), count),
                       [this, self = session_.shared_from_this(), epoch = epoch_](error_code ec, std::size_t) {
                         onRequestSent(epoch, ec);
                       });
}

void Relay::onRequestSent(unsigned epoch, error_code ec) {
  if (epoch != epoch_) return;
  pending_ = Pending::None;
  if (failure_ != FailureCause::None) return fail(failure_);
  if (ec) {
    if (retryOnFreshConnection()) return;
    return fail(FailureCause::UpstreamReset);
  }
  record_->requestSent = Clock::now();
  parser_.emplace();
  parser_->header_limit(kUpstreamHeaderLimit);
  parser_->body_limit(boost::none);  // bodies are relayed, not stored: no size limit applies
  parser_->eager(true);
  if (request_.isHead) parser_->skip(true);
  parseUpstream();
}

// ---- response ------------------------------------------------------------------

void Relay::readUpstream() {
  pending_ = Pending::Upstream;
  auto onRead = [this, self = session_.shared_from_this(), epoch = epoch_](error_code ec, std::size_t n) {
    onUpstreamRead(epoch, ec, n);
  };
  // The answer's first bytes: the connection is usually drained, wait without a recv().
  if (!responseBytesSeen_) readNextMessage(conn_->socket, conn_->buffer.prepare(kUpstreamReadSize), std::move(onRead));
  else readMore(conn_->socket, conn_->buffer.prepare(kUpstreamReadSize), std::move(onRead));
}

void Relay::onUpstreamRead(unsigned epoch, error_code ec, std::size_t bytes) {
  if (epoch != epoch_) return;
  pending_ = Pending::None;
  if (failure_ != FailureCause::None) return fail(failure_);
  conn_->buffer.commit(bytes);
  readAt_ = Clock::now();
  if (bytes > 0) {
    responseBytesSeen_ = true;
    if (!RequestRecord::set(record_->firstByte)) record_->firstByte = readAt_;
  }
  if (ec) {
    if (ec == asio::error::eof && parser_->is_header_done()) {
      // A close-delimited body ends here; any other message is cut short.
      error_code eofError;
      parser_->put_eof(eofError);
      if (!eofError) {
        parseUpstream();
        return;
      }
    }
    if (!responseBytesSeen_ && retryOnFreshConnection()) return;
    return fail(FailureCause::UpstreamReset);
  }
  if (headerSent_) setPhaseDeadline(backendConfig().timeouts.idle, FailureCause::UpstreamIdleTimeout);
  parseUpstream();
}

void Relay::parseUpstream() {
  // Taken when the answer's first bytes are here, not when the request is
  // sent: a request waiting on its upstream (for seconds, with a model) holds
  // no relay buffer.
  if (!relayBuffer_ && conn_->buffer.size() > 0)
    relayBuffer_.reset(static_cast<char*>(BlockCache::local().take(kBufferSize)));
  while (conn_->buffer.size() > 0 && !parser_->is_done() && relayUsed_ < kBufferSize) {
    auto& body = parser_->get().body();
    body.data = relayBuffer_.get() + relayUsed_;
    body.size = kBufferSize - relayUsed_;
    error_code ec;
    const auto before = relayUsed_;
    const auto used = parser_->put(conn_->buffer.data(), ec);
    conn_->buffer.consume(used);
    relayUsed_ = static_cast<std::size_t>(static_cast<char*>(body.data) - relayBuffer_.get());
    if (parser_->is_header_done() && !headerReady_ && parser_->get().result_int() / 100 != 1) {
      if (retryOnStatus()) return;
      onResponseHeader();
    }
    if (relayUsed_ > before) observeBody(before, relayUsed_);
    if (parser_->is_done() && !RequestRecord::set(record_->lastByte)) record_->lastByte = readAt_;
    if (ec == http::error::need_buffer || ec == http::error::need_more) break;
    if (ec) return fail(FailureCause::UpstreamProtocolError);
    if (parser_->is_header_done() && parser_->get().result_int() / 100 == 1) {
      // An interim response (103 Early Hints, a stray 100): not relayed; the final one follows.
      parser_.emplace();
      parser_->header_limit(kUpstreamHeaderLimit);
      parser_->body_limit(boost::none);
      parser_->eager(true);
      if (request_.isHead) parser_->skip(true);
      continue;
    }
    if (used == 0) break;
  }
  if (!parser_->is_header_done()) return readUpstream();
  if (!headerReady_) {
    if (retryOnStatus()) return;
    onResponseHeader();
  }
  if (parser_->is_done() && !RequestRecord::set(record_->lastByte)) record_->lastByte = readAt_;
  if (relayUsed_ > 0 || parser_->is_done()) {
    lastWrite_ = parser_->is_done();
    return writeDownstream();
  }
  readUpstream();
}

// A configured status (429, 502, 503, 504 by default) before anything reached
// the client is retried elsewhere, honouring Retry-After; the response is dropped
// with its connection. Without a retry left, the response is relayed as is.
bool Relay::retryOnStatus() {
  const auto& response = parser_->get();
  const unsigned status = response.result_int();
  const auto& retry = request_.backend->config->retry;
  if (std::find(retry.statuses.begin(), retry.statuses.end(), status) == retry.statuses.end()) return false;
  if (!canRetry()) return false;
  std::chrono::milliseconds retryAfter{0};
  if (auto value = response[http::field::retry_after]; !value.empty()) {
    unsigned seconds = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{}) return false;  // an HTTP date: not worth parsing for a retry
    retryAfter = std::chrono::seconds(seconds);
    if (retryAfter > retry.max_retry_after) return false;
  }
  // The verdict may open this endpoint's breaker: look for somewhere to retry
  // only after it. With nowhere left, the answer in hand is relayed as is.
  endAttempt(verdictFor(FailureCause::None));
  if (!hasAlternative()) return false;
  retryAfterFailure(FailureCause::Upstream5xx, retryAfter);
  return true;
}

// Whether some endpoint could take another attempt (checks, takes nothing).
bool Relay::hasAlternative() const {
  const auto& runtime = session_.worker().runtime();
  auto& cluster = session_.worker().cluster();
  const std::size_t backends = 1 + request_.route->fallback_indexes.size();
  for (std::size_t c = backendCursor_; c < backends; ++c)
    for (const auto& e : runtime.backends[backendAt(c)].endpoints)
      if (cluster.endpoint(e.id).breaker.admissible()) return true;
  return false;
}

void Relay::onResponseHeader() {
  const auto& response = parser_->get();
  const unsigned status = response.result_int();
  eventStream_ = response[http::field::content_type].starts_with("text/event-stream");
  const bool hasBody = !(request_.isHead || status == 204 || status == 304);
  writer::DownstreamResponseHead head;
  head.requestId = request_.requestId;
  if (!hasBody) {
    framing_ = writer::BodyFraming::None;
    if (auto length = parser_->content_length()) head.contentLength = *length;
  } else if (!parser_->chunked() && parser_->content_length()) {
    framing_ = writer::BodyFraming::ContentLength;
    head.contentLength = *parser_->content_length();
  } else {
    // Chunked or close-delimited upstream: re-chunk for HTTP/1.1 clients.
    framing_ = request_.clientHttp10 ? writer::BodyFraming::CloseDelimited : writer::BodyFraming::Chunked;
  }
  head.framing = framing_;
  head.close = !request_.keepAlive || framing_ == writer::BodyFraming::CloseDelimited;
  if (session_.worker().runtime().config.metrics.server_timing) {
    buildServerTiming();
    head.serverTiming = serverTiming_;
  }
  writer::responseHead(downstreamHead_, response.base(), head);
  headerReady_ = true;
  record_->stream = eventStream_;
  captureStream_ = false;
  sseTap_.setCapture(nullptr);
  if (eventStream_ && (request_.sample || request_.slowFirstToken.count() > 0)) {
    capture_.clear();
    capture_.capBytes = request_.captureBytes;
    sseTap_.setCapture(&capture_);
    captureStream_ = true;
  }
  // Not streaming: the first token is the answer's first byte (as for the
  // breaker's slow_first_token), so whether it was slow is known now.
  if (!eventStream_ && !request_.sample && slowForSampling(record_->firstByte)) slowSampled_ = true;
  // Output sampling needs the body only of sampled answers and, for the
  // always-sample-errors rule, of error replies; metrics need every one.
  observeBody_ = observe_ || captureStream_ || request_.sample || slowSampled_ ||
                 (request_.sampleErrors && status >= 400);
  captureJson_ = observeBody_ && !eventStream_ && hasBody &&
                 response[http::field::content_type].starts_with("application/json");
}

// Server-Timing: time the upstream took to start answering (connect included),
// and the gateway's own time so far.
void Relay::buildServerTiming() {
  const auto& r = *record_;
  const auto now = Clock::now();
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  double upstream = ms(r.firstByte - r.requestSent);
  if (r.newConnection) upstream += ms(r.upstreamConnected - r.upstreamStart);
  const double gateway = ms(r.upstreamStart - r.bodyRead) + ms(r.requestSent - r.upstreamConnected) +
                         ms(now - r.firstByte);
  // std::to_chars, not snprintf: this runs on every response.
  char buf[96];
  char* p = buf;
  auto append = [&p](std::string_view text) { p = std::copy(text.begin(), text.end(), p); };
  append("upstream;dur=");
  p = std::to_chars(p, buf + 40, upstream, std::chars_format::fixed, 3).ptr;
  append(", gateway;dur=");
  p = std::to_chars(p, buf + sizeof buf, std::max(0.0, gateway), std::chars_format::fixed, 3).ptr;
  serverTiming_.assign(buf, static_cast<std::size_t>(p - buf));
}

// sampling.always.slow_first_token: a first token (first byte when not
// streaming) at `firstToken` came later than the threshold after the request.
bool Relay::slowForSampling(Clock::time_point firstToken) const {
  return request_.slowFirstToken.count() > 0 && firstToken - record_->bodyRead >= request_.slowFirstToken;
}

// Looks at body bytes as they pass: SSE events are timed and read for usage;
// a JSON body is kept (up to a cap) to read its usage at the end.
void Relay::observeBody(std::size_t from, std::size_t to) {
  if (!observeBody_) return;
  const auto piece = pieceOf(relayBuffer_.get(), from, to);
  if (eventStream_) {
    sseTap_.feed(piece, [this] {
      auto& r = *record_;
      if (!RequestRecord::set(r.firstToken)) {
        r.firstToken = readAt_;
        if (captureStream_ && !request_.sample) {
          // Captured only in case the first token was slow: now we know.
          if (slowForSampling(readAt_)) {
            slowSampled_ = true;
          } else {
            sseTap_.setCapture(nullptr);
            captureStream_ = false;
          }
        }
      }
      r.lastToken = readAt_;
      r.tokenTimes.push_back(readAt_);
    });
  } else if (captureJson_) {
    if (jsonBody_.size() + piece.size() <= kUsageCaptureLimit) {
      jsonBody_.append(piece);
    } else {
      captureJson_ = false;
      jsonCut_ = true;
    }
  }
}

void Relay::writeDownstream() {
  static constexpr std::string_view kCrlf = "\r\n";
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  auto& buffers = writeBuffers_;  // a member: async_write keeps only a view of the array
  std::size_t count = 0;
  if (!headerSent_) buffers[count++] = asio::buffer(downstreamHead_);
  if (relayUsed_ > 0) {
    if (framing_ == writer::BodyFraming::Chunked) {
      buffers[count++] = asio::buffer(chunkPrefix_, writer::chunkPrefix(chunkPrefix_, relayUsed_));
      buffers[count++] = asio::buffer(relayBuffer_.get(), relayUsed_);
      buffers[count++] = asio::buffer(kCrlf);
    } else {
      buffers[count++] = asio::buffer(relayBuffer_.get(), relayUsed_);
    }
  }
  if (lastWrite_ && framing_ == writer::BodyFraming::Chunked) buffers[count++] = asio::buffer(kLastChunk);
  // The upstream's answer is complete, so its verdict is final: the breaker
  // learns it before the client has the last byte. A client that reads this
  // response and then looks at /admin sees the state the response caused.
  if (lastWrite_) endAttempt(verdictFor(FailureCause::None));
  // Once the answer starts there is no further attempt: the earlier attempts'
  // held failures are judged now, not when a long stream ends (a half-open
  // breaker waits for its probe's verdict).
  if (!headerSent_) settleHeldVerdicts();
  headerSent_ = true;
  pendingWriteBytes_ = asio::buffer_size(std::span<const asio::const_buffer>(buffers.data(), count));
  // Time spent waiting on a slow client is not upstream idleness: only the total
  // deadline runs while writing.
  phaseDeadline_ = Clock::time_point::max();
  deadline_.set(nextDeadline());
  pending_ = Pending::Downstream;
  gatheredWrite_.start(session_.socket(), std::span<const asio::const_buffer>(buffers.data(), count),
                       [this, self = session_.shared_from_this(), epoch = epoch_](error_code ec, std::size_t) {
                         onDownstreamWritten(epoch, ec);
                       });
}

void Relay::onDownstreamWritten(unsigned epoch, error_code ec) {
  if (epoch != epoch_) return;
  pending_ = Pending::None;
  relayUsed_ = 0;
  if (!ec) bytesWritten_ += pendingWriteBytes_;
  if (failure_ == FailureCause::ClientDisconnect || (ec && failure_ == FailureCause::None))
    return finish(FailureCause::ClientDisconnect, true);
  if (ec) return finish(failure_, true);  // aborted by a deadline while the client was not reading
  if (failure_ != FailureCause::None) return fail(failure_);
  if (lastWrite_) return finish(FailureCause::None, false);
  setPhaseDeadline(backendConfig().timeouts.idle, FailureCause::UpstreamIdleTimeout);
  parseUpstream();
}

// ---- failures ------------------------------------------------------------------

void Relay::onDeadline() {
  if (!active_ || failure_ != FailureCause::None) return;
  const auto now = Clock::now();
  if (now >= monitorAt_) {
    monitorAt_ = Clock::time_point::max();
    session_.startMonitor();
  }
  FailureCause cause;
  if (now >= totalDeadline_) cause = FailureCause::UpstreamTotalTimeout;
  else if (now >= phaseDeadline_) cause = phaseCause_;
  else {
    deadline_.set(nextDeadline());
    return;
  }
  failure_ = cause;
  closeUpstream();  // the pending upstream operation completes and routes to fail()
  if (pending_ == Pending::Timer) {
    backoffTimer_.cancel();
    pending_ = Pending::None;
    ++epoch_;  // the cancelled wait must not resume
    return finish(cause, false);
  }
  if (pending_ == Pending::Downstream) {
    error_code ignored;
    session_.socket().cancel(ignored);  // a client that stopped reading past the total deadline
  } else if (pending_ == Pending::None) {
    fail(cause);
  }
}

void Relay::abortClientGone() {
  if (!active_) return;
  failure_ = FailureCause::ClientDisconnect;
  closeUpstream();
  if (pending_ == Pending::Timer) {
    backoffTimer_.cancel();  // its handler sees the disconnect and finishes
    return;
  }
  if (pending_ == Pending::Downstream) {
    error_code ignored;
    session_.socket().cancel(ignored);
  } else if (pending_ == Pending::None) {
    finish(FailureCause::ClientDisconnect, true);
  }
}

bool Relay::retryOnFreshConnection() {
  // A pooled connection the server closed while we picked it: the request never
  // reached the model, so one retry on a new connection is safe.
  if (!reusedConnection_ || retriedStale_ || responseBytesSeen_ || failure_ != FailureCause::None) return false;
  retriedStale_ = true;
  closeUpstream();
  parser_.reset();
  record_->firstByte = {};
  connect();
  return true;
}

void Relay::fail(FailureCause cause) {
  closeUpstream();
  if (cause == FailureCause::ClientDisconnect) return finish(cause, true);
  if (!headerSent_ && retryable(cause) && failure_ != FailureCause::UpstreamTotalTimeout && !sameFailureElsewhere(cause) &&
      canRetry()) {
    endAttempt(Verdict::Failure, cause);
    failure_ = FailureCause::None;  // a timeout that fired belongs to the attempt, not the request
    return retryAfterFailure(cause, std::chrono::milliseconds(0));
  }
  if (!headerSent_) return finish(cause, false);  // the session answers with a 502/504
  if (eventStream_ && framing_ == writer::BodyFraming::Chunked) return writeStreamError(cause);
  finish(cause, true);  // a cut body cannot be repaired: closing tells the client
}

// After streaming started, a failure is reported in-band: an SSE error event
// with an OpenAI-style payload, then the end of the chunked body.
void Relay::writeStreamError(FailureCause cause) {
  const auto reply = errorFor(cause);
  streamError_.assign("event: error\ndata: ").append(openaiErrorBody(reply)).append("\n\n");
  static constexpr std::string_view kTail = "\r\n0\r\n\r\n";
  std::array<asio::const_buffer, 3> buffers{
      asio::buffer(chunkPrefix_, writer::chunkPrefix(chunkPrefix_, streamError_.size())), asio::buffer(streamError_),
      asio::buffer(kTail)};
  monitorAt_ = Clock::time_point::max();
  totalDeadline_ += std::chrono::seconds(5);  // room to deliver the error event
  deadline_.set(totalDeadline_);
  pending_ = Pending::Downstream;
  asio::async_write(session_.socket(), buffers,
                    [this, self = session_.shared_from_this(), epoch = epoch_, cause](error_code ec, std::size_t) {
                      if (epoch != epoch_) return;
                      pending_ = Pending::None;
                      if (!ec) bytesWritten_ += streamError_.size() + 16;
                      finish(ec ? FailureCause::ClientDisconnect : cause, static_cast<bool>(ec));
                    });
}

void Relay::releaseBuffers() {
  if (active_ || pending_ != Pending::None || !relayBuffer_) return;  // still in use
  relayUsed_ = 0;
  relayBuffer_.reset();  // back to this thread's BlockCache
}

void Relay::cancelTimer() { deadline_.cancel(); }

// Seconds until the first endpoint of the route's backends leaves OPEN.
unsigned Relay::circuitRetryAfterSeconds() const {
  const auto& runtime = session_.worker().runtime();
  auto& cluster = session_.worker().cluster();
  const auto now = ClusterState::steadyNowNs();
  std::int64_t soonest = std::numeric_limits<std::int64_t>::max();
  for (std::size_t c = 0; c < 1 + request_.route->fallback_indexes.size(); ++c)
    for (const auto& e : runtime.backends[backendAt(c)].endpoints)
      soonest = std::min(soonest, cluster.endpoint(e.id).breaker.openUntilNs() - now);
  if (soonest == std::numeric_limits<std::int64_t>::max() || soonest <= 0) return 1;
  return static_cast<unsigned>((soonest + 999'999'999) / 1'000'000'000);
}

void Relay::closeUpstream() {
  if (!conn_) return;
  error_code ignored;
  conn_->socket.close(ignored);
}

void Relay::finish(FailureCause cause, bool closeDownstream) {
  // clear(), not cancel(): the pending wait is reused by the next request for
  // free; the session cancels it when the connection closes.
  deadline_.clear();
  active_ = false;
  if (admissionOpen_) endAttempt(verdictFor(cause), cause);
  settleHeldVerdicts();
  releaseBackendSlot();
  leaveQueue();
  if (conn_) {
    const bool reusable = cause == FailureCause::None && parser_ && parser_->is_done() && parser_->keep_alive() &&
                          conn_->buffer.size() == 0 && conn_->socket.is_open();
    if (reusable) {
      ++conn_->requestsServed;
      session_.worker().shard().activeConnections.add(conn_->endpointId + 1, -1);
      session_.worker().pool().release(std::move(conn_), backendConfig().pool);
    }
    dropConnection();  // not reusable: closing it tells the model server to stop
  }
  auto& r = *record_;
  session_.worker().shard().inFlight.add(r.backend, -1);
  r.bytesOut += bytesWritten_;
  if (eventStream_) {
    const auto& seen = sseTap_.observation();
    r.hasUsage = seen.hasUsage;
    r.promptTokens = seen.promptTokens;
    r.completionTokens = seen.completionTokens;
    r.contentEvents = seen.contentEvents;
  } else if (captureJson_ && parser_ && parser_->is_done() && !jsonBody_.empty()) {
    const auto usage = readResponseUsage(session_.worker().jsonParser(), jsonBody_);
    r.hasUsage = usage.found;
    r.promptTokens = usage.promptTokens;
    r.completionTokens = usage.completionTokens;
  }
  RelayOutcome outcome;
  outcome.cause = cause;
  outcome.responseStarted = headerSent_;
  outcome.closeDownstream = closeDownstream || (headerSent_ && framing_ == writer::BodyFraming::CloseDelimited);
  outcome.status = parser_ && parser_->is_header_done() ? parser_->get().result_int() : 0;
  if (cause == FailureCause::CircuitOpen) outcome.retryAfterSeconds = circuitRetryAfterSeconds();
  else if (cause == FailureCause::Overloaded) outcome.retryAfterSeconds = 1;
  session_.onRelayFinished(outcome);
}

}  // namespace infergate
