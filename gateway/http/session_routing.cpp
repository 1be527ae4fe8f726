// The session's side of a request's journey once its body is read: the
// method check, the one parse of the body, the chain before routing, the
// route and its chain, the hand-over to the upstream exchange and what comes
// back, and the watch for a client leaving meanwhile.
#include <boost/beast/http/verb.hpp>

#include "gateway/http/downstream_session.hpp"
#include "gateway/http/header_rules.hpp"
#include "gateway/net/socket_read.hpp"
#include "gateway/server/worker.hpp"
#include "metrics/label_space.hpp"

namespace infergate {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {
// The methods an OpenAI path takes. Others get 405 with this as Allow.
enum class PathMethods : std::uint8_t { Any, PostOnly, GetOrHead };

PathMethods methodsOf(std::string_view path, bool jsonApi) {
  if (jsonApi) return PathMethods::PostOnly;
  if (path == "/v1/models") return PathMethods::GetOrHead;  // not /v1/models/{id}: hosted APIs DELETE those
  return PathMethods::Any;
}

// The Allow header when `method` is not one `methods` takes, else empty.
std::string_view refusedMethodAllow(PathMethods methods, http::verb method) {
  switch (methods) {
    case PathMethods::PostOnly: return method == http::verb::post ? "" : "POST";
    case PathMethods::GetOrHead: return method == http::verb::get || method == http::verb::head ? "" : "GET, HEAD";
    case PathMethods::Any: break;
  }
  return {};
}

}  // namespace

// ---- routing and proxying ----------------------------------------------------

void DownstreamSession::dispatch() {
  auto& request = parser_->get();
  // The head and body are parsed out of the read buffer: what is left is a
  // pipelined request, if anything. The block goes back now, not when the
  // client is next watched: under a burst of new streams, requests waiting for
  // an upstream connection each held 16 KiB (heaptrack, 8,000 streams).
  releaseIdle(buffer_);
  record_.bodyRead = RequestRecord::Clock::now();
  record_.bytesIn += request.body().size();
  keepAlive_ = request.keep_alive() && !worker_.draining();
  const auto target = request.target();
  const auto path = target.substr(0, target.find('?'));
  const bool jsonApi = isJsonApiPath(path);
  if (auto allow = refusedMethodAllow(methodsOf(path, jsonApi), request.method()); !allow.empty()) {
    auto reply = errorFor(FailureCause::ClientInvalidRequest,
                          "Method " + std::string(request.method_string()) + " is not allowed on this path.");
    reply.status = 405;
    reply.code = "method_not_allowed";
    reply.allow = allow;
    replyError(std::move(reply), !keepAlive_);
    return;
  }
  adoptGeneration();
  beginContext(path, jsonApi);
  const auto& beforeRouting = generation_->filters->beforeRouting();
  beforeRouting.begin(ctx_);
  pausedChain_ = &beforeRouting;
  afterBeforeRouting(beforeRouting.onRequest(ctx_));
}

void DownstreamSession::afterBeforeRouting(FilterStatus status) {
  if (status == FilterStatus::Pause) {
    state_ = State::Filtering;
    return;
  }
  if (status == FilterStatus::LocalReply) return sendLocalReply(*ctx_.reply, !keepAlive_);
  matchedRoute_ = route(ctx_.path, ctx_.jsonApi);
  pausedChain_ = chain_;
  afterRouteChain(chain_->onRequest(ctx_));
}

void DownstreamSession::afterRouteChain(FilterStatus status) {
  if (status == FilterStatus::Pause) {
    state_ = State::Filtering;
    return;
  }
  pausedChain_ = nullptr;
  if (status == FilterStatus::LocalReply) return sendLocalReply(*ctx_.reply, !keepAlive_);
  if (matchedRoute_ == nullptr) {
    auto reply = errorFor(FailureCause::NoRoute);
    if (facts_->hasModel) reply.param = "model";
    replyError(std::move(reply), !keepAlive_);
    return;
  }
  forward(*matchedRoute_);
}

// ---- a chain a filter paused -------------------------------------------------

RequestContext* DownstreamSession::pausedContext(std::uint64_t serial) {
  return state_ == State::Filtering && serial == ctx_.serial ? &ctx_ : nullptr;
}

void DownstreamSession::resumeRequest(std::uint64_t serial, FilterStatus status) {
  if (pausedContext(serial) == nullptr) return;
  const bool beforeRouting = pausedChain_ == &generation_->filters->beforeRouting();
  status = pausedChain_->resumeRequest(ctx_, status);
  if (beforeRouting) afterBeforeRouting(status);
  else afterRouteChain(status);
}

std::shared_ptr<RequestPauser> DownstreamSession::holdPaused() {
  return std::shared_ptr<RequestPauser>(shared_from_this(), static_cast<RequestPauser*>(this));
}

// A reload published a new config since this connection's last request: this
// request runs on it (the last one has ended, and its filter states with it).
void DownstreamSession::adoptGeneration() {
  const auto& current = worker_.generation();
  if (current == generation_) return;
  // The old block is destroyed by its own filter set's layout: before that set may go.
  current->filters->buildStates(filterStates_);
  ctx_.states = filterStates_.data();
  generation_ = current;
}

// The filters' view of this request; the body is parsed once, here, for every
// filter and the router (RequestFacts).
void DownstreamSession::beginContext(std::string_view path, bool jsonApi) {
  auto& request = parser_->get();
  facts_->reset();
  ctx_.message = &request;
  ctx_.body = &request.body();
  ctx_.pauser = this;
  ++ctx_.serial;
  ctx_.path = path;
  ctx_.requestId = record_.requestId;
  // Only a trusted proxy's headers say who the client is (kept for this request's log line).
  if (peerTrusted_) {
    if (!requestClient_) requestClient_ = std::make_unique<std::string>();
    *requestClient_ = headers::forwardedClient(request, worker_.runtime().config.server.trusted_proxies, clientAddress_);
  }
  ctx_.clientAddress = peerTrusted_ ? std::string_view(*requestClient_) : std::string_view(clientAddress_);
  ctx_.jsonApi = jsonApi;
  ctx_.api = jsonApi ? apiKindOf(path) : ApiKind::Chat;
  ctx_.tokenLimits = {};
  ctx_.dropClientCredentials = false;
  ctx_.response = {};
  if (!jsonApi) return;
  extractRequestFacts(worker_.jsonParser(), request.body().padded(), *facts_, ctx_.api);
  if (facts_->isJson && facts_->hasModel) record_.model = worker_.labels().modelIndex(facts_->model);
}

// Chooses the route (by path and model) and with it the chain the request
// runs. A JSON body that cannot be read has no route: it is refused by the
// chain of unrouted requests.
const config::RouteConfig* DownstreamSession::route(std::string_view path, bool jsonApi) {
  const auto& filters = *generation_->filters;
  const auto& runtime = *generation_->runtime;
  const config::RouteConfig* matched = nullptr;
  if (!jsonApi || facts_->isJson) matched = runtime.router->match(path, facts_->hasModel ? &facts_->model : nullptr);
  if (matched == nullptr) {
    chain_ = &filters.unrouted();
  } else {
    const auto index = static_cast<std::size_t>(matched - runtime.config.routes.data());
    record_.route = metrics::LabelSpace::routeIndex(index);
    chain_ = &filters.route(index);
  }
  chain_->begin(ctx_);
  return matched;
}

void DownstreamSession::forward(const config::RouteConfig& route) {
  auto& request = parser_->get();
  state_ = State::Proxying;
  record_.backend = metrics::LabelSpace::backendIndex(route.backend_index);
  record_.routed = true;
  ProxyRequest proxy;
  proxy.runtime = generation_->runtime.get();
  proxy.message = &request;
  proxy.route = &route;
  proxy.context = &ctx_;
  proxy.chain = chain_;
  proxy.clientAddress = clientAddress_;
  proxy.forwardedTrusted = peerTrusted_;
  proxy.isHead = request.method() == http::verb::head;
  proxy.stream = facts_->stream;
  proxy.clientHttp10 = request.version() == 10;
  proxy.keepAlive = keepAlive_;
  // The header clock's wait (cleared, not cancelled, when the head was read)
  // would stay pending for the header timeout: a stream lasts longer than a
  // reply, and its timer and the op's memory are dropped now.
  if (facts_->stream) deadline_.cancel();
  exchange_.start(proxy);
}

void DownstreamSession::onExchangeFinished(const ExchangeOutcome& outcome) {
  if (outcome.responseStarted) record_.status = outcome.status;
  if (outcome.cause == FailureCause::ClientDisconnect) {
    record_.cause = outcome.cause;
    closeNow();
    return;
  }
  if (!outcome.responseStarted && outcome.cause != FailureCause::None) {
    replyError(errorFor(outcome.cause), !keepAlive_, outcome.retryAfterSeconds);
    return;
  }
  record_.cause = outcome.cause;
  if (outcome.cause != FailureCause::None) logFailure(errorFor(outcome.cause));
  // A 5xx from the model server is relayed as is, and counted as its failure.
  else if (outcome.status >= 500) record_.cause = FailureCause::Upstream5xx;
  finishRecord();
  endRequest(outcome.closeDownstream || !keepAlive_);
}

// The head was read by the filters and the router, and a stream's exchange
// keeps what a retry needs of it as text: a stream gives the parser back (its
// header lines, target and 280 bytes; about 1 KiB a stream with five header
// lines) once its request is sent, and the facts read from its body with it
// (releaseFacts; the sampling filter copied what samples report of them).
// The body stays for retries and samples, in spareBody_, where endRequest
// finds it.
void DownstreamSession::releaseRequest() {
  if (!parser_) return;
  spareBody_.swap(parser_->get().body());
  spareBody_.dropPadding();  // read only as text from now on, kept for the stream's life
  ctx_.body = &spareBody_;
  ctx_.message = nullptr;
  ctx_.path = {};  // it pointed into the target
  parser_.release();
}

void DownstreamSession::releaseFacts() {
  ctx_.facts = nullptr;
  facts_.reset();
}

// The client side watched while a request is in flight: EOF or an error
// means the client is gone; bytes are pipelined requests, kept for later.
void DownstreamSession::watchClient() {
  if (monitorActive_ || buffer_.size() >= kMaxPipelinedBytes) return;
  monitorActive_ = true;
  if (watchWithoutRead()) return;
  // The client usually sends nothing until its answer is over (a stream lasts
  // seconds): its read buffer is given back meanwhile and taken only when
  // bytes, an end-of-file or a reset are there.
  readInto(buffer_, kWatchReadChunk, false,
               [self = shared_from_this()](error_code ec, std::size_t n) { self->onMonitorRead(ec, n); });
}

bool DownstreamSession::watchWithoutRead() {
  if (tls_) return false;
  // What came before the watch raises no event (the reactor's registration is
  // edge-triggered): look once first.
  if (takeWaiting(socket_, buffer_, kWatchReadChunk,
                  [self = shared_from_this()](error_code ec, std::size_t n) { self->onMonitorRead(ec, n); }))
    return true;
  return worker_.readiness().watch(socket_.native_handle(), *this);
}

bool DownstreamSession::unwatchClient() { return monitorActive_ && !tls_ && worker_.readiness().unwatch(socket_.native_handle(), *this); }

void DownstreamSession::onSocketReady() {
  if (state_ == State::Closed) {
    // Closed since the event: the descriptor may be another connection's now.
    monitorActive_ = false;
    return;
  }
  error_code ec;
  std::size_t bytes = 0;
  // Nothing after all (rare) reads as an empty read: the watch goes on.
  if (tryRecv(socket_.native_handle(), landingFor(kWatchReadChunk), ec, bytes)) landReceived(buffer_, bytes);
  onMonitorRead(ec, bytes);
}

void DownstreamSession::onMonitorRead(error_code ec, std::size_t bytes) {
  monitorActive_ = false;
  buffer_.commit(bytes);
  if (state_ == State::Closed) return;
  if (state_ == State::Closing) {
    if (ec) closeNow();
    else lingerRead();
    return;
  }
  if (state_ == State::AwaitingMonitor) {
    // The request finished and the read was cancelled to hand the socket back.
    if (ec && ec != asio::error::operation_aborted) closeNow();
    else readHead();
    return;
  }
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    if (exchange_.active()) exchange_.abortClientGone();
    else closeNow();  // a local reply was being written
    return;
  }
  watchClient();
}

}  // namespace infergate
