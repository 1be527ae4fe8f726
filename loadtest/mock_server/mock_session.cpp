#include "mock_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <random>

#include "gateway/net/socket_read.hpp"

namespace mock {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {
constexpr std::size_t kReadChunk = 16 * 1024;
std::atomic<std::uint64_t> nextId{1};

const char* reason(unsigned status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

bool randomFailure(double rate) {
  if (rate <= 0) return false;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(rng) < rate;
}
}  // namespace

Session::Session(asio::ip::tcp::socket socket, ServerContext& context)
    : socket_(std::move(socket)), context_(context), timer_(socket_.get_executor()) {}

void Session::start() {
  error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  readRequest();
}

void Session::readRequest() {
  busy_ = false;
  parser_.emplace();
  parser_->body_limit(64 * 1024 * 1024);
  parser_->eager(true);
  parseRequest();
}

// Feeds buffered bytes to the parser and reads more until the request is whole.
// The same reads as the gateway (gateway/net/socket_read.hpp): on the benchmark
// the mock shares a core with wrk, and an EAGAIN recv() per request there
// would be charged to every proxy compared.
void Session::parseRequest() {
  while (buffer_.size() > 0 && !parser_->is_done()) {
    error_code ec;
    const auto used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more || (!ec && used == 0)) break;
    if (ec) return close();
  }
  if (parser_->is_done()) {
    busy_ = true;
    return handle();
  }
  auto onRead = [self = shared_from_this()](error_code ec, std::size_t n) {
    self->buffer_.commit(n);
    if (ec) return self->close();
    self->parseRequest();
  };
  if (buffer_.size() == 0 && !parser_->got_some())
    infergate::readNextMessage(socket_, buffer_.prepare(kReadChunk), std::move(onRead));
  else
    infergate::readMore(socket_, buffer_.prepare(kReadChunk), std::move(onRead));
}

// Gone (closed by either side): no longer among the open model-traffic connections.
Session::~Session() {
  if (counted_) context_.stats.open.fetch_sub(1, std::memory_order_relaxed);
  endWork();
}

void Session::beginWork() {
  if (working_) return;
  working_ = true;
  context_.stats.active.fetch_add(1, std::memory_order_relaxed);
}

void Session::endWork() {
  if (!working_) return;
  working_ = false;
  context_.stats.active.fetch_sub(1, std::memory_order_relaxed);
  // A waiting request that ends (its client left) keeps its place in the
  // queue: admitted() hands the place on when its turn comes.
  if (gate_ == Gate::Running) context_.gate.leave();
  gate_ = Gate::Out;
}

// Its turn in the batch (from the thread that freed the place, or inline).
void Session::admitted() {
  if (closed_ || gate_ != Gate::Waiting) return context_.gate.leave();
  gate_ = Gate::Running;
  answer();
}

// vLLM's scheduler and KV-cache gauges, from the requests being answered now.
std::string Session::metricsBody() {
  const BatchGate::Load load = context_.gate.load();
  long running, waiting, kvPermille;
  {
    std::lock_guard lock(context_.mutex);
    running = context_.signalRunning;
    waiting = context_.signalWaiting;
    kvPermille = context_.signalKvPermille;
  }
  if (running < 0) running = load.running;
  if (waiting < 0) waiting = load.waiting;
  const double kv = kvPermille >= 0 ? static_cast<double>(kvPermille) / 1000
                    : load.batch > 0 ? static_cast<double>(running) / static_cast<double>(load.batch)
                                     : std::min(1.0, static_cast<double>(running) / 64);
  const std::string labels = "{model_name=\"mock-model\"}";
  std::string out;
  out += "# HELP vllm:num_requests_running Number of requests in model execution batches.\n";
  out += "# TYPE vllm:num_requests_running gauge\n";
  out += "vllm:num_requests_running" + labels + " " + std::to_string(running) + ".0\n";
  out += "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n";
  out += "# TYPE vllm:num_requests_waiting gauge\n";
  out += "vllm:num_requests_waiting" + labels + " " + std::to_string(waiting) + ".0\n";
  out += "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.\n";
  out += "# TYPE vllm:kv_cache_usage_perc gauge\n";
  out += "vllm:kv_cache_usage_perc" + labels + " " + std::to_string(kv) + "\n";
  return out;
}

void Session::handle() {
  auto& req = parser_->get();
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  keepAlive_ = req.keep_alive();
  // Model traffic only: the tests' /debug calls and health probes are not counted.
  if (path.rfind("/debug/", 0) != 0 && path != "/health" && path != "/metrics") {
    context_.stats.onRequest(path);
    if (!counted_) {  // connections that carried model traffic (not the tests' own /debug calls)
      counted_ = true;
      context_.stats.connections.fetch_add(1, std::memory_order_relaxed);
      context_.stats.open.fetch_add(1, std::memory_order_relaxed);
    }
    if (context_.record) {
      std::string head;
      for (const auto& f : req) head.append(f.name_string()).append(": ").append(f.value()).append("\n");
      context_.stats.recordLast(std::string(req.method_string()) + " " + target + "\n" + head, req.body());
    }
  }
  if (path == "/health") {
    unsigned status;
    {
      std::lock_guard lock(context_.mutex);
      status = context_.healthStatus;
    }
    return respond(status, "text/plain", status == 200 ? "ok\n" : "unhealthy\n");
  }
  if (path == "/metrics") {
    unsigned status;
    {
      std::lock_guard lock(context_.mutex);
      status = context_.metricsStatus;
    }
    return respond(status, "text/plain; version=0.0.4", status == 200 ? metricsBody() : "unavailable\n");
  }
  if (path == "/debug/set") return respond(200, "application/json", applySettings(target));
  if (path == "/debug/stats") return respond(200, "application/json", context_.stats.json());
  if (path == "/debug/reset") {
    context_.stats.reset();
    return respond(200, "application/json", "{}");
  }
  behaviour_ = behaviourFor(context_.currentDefaults(), req);
  if (behaviour_.hang) {
    watchForClose();  // the answer never comes; only the client's close ends this
    return;
  }
  if (path == "/v1/models" && req.method() == http::verb::get) return respond(200, "application/json", modelsBody());
  const bool chat = path == "/v1/chat/completions";
  const bool text = path == "/v1/completions";
  const bool embed = path == "/v1/embeddings";
  if (!(chat || text || embed) || req.method() != http::verb::post)
    return respond(404, "application/json", errorBody(404, "unknown path"));

  beginWork();
  // Its place in the batch: now, or after the requests ahead of it. The
  // watcher sees a client that leaves while it waits.
  gate_ = Gate::Waiting;
  const bool now = context_.gate.enter([self = shared_from_this()] {
    asio::post(self->socket_.get_executor(), [self] { self->admitted(); });
  });
  if (now) return admitted();
  watchForClose();
}

// A model request in the batch: answered as its behaviour says.
void Session::answer() {
  auto& req = parser_->get();
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  const bool chat = path == "/v1/chat/completions";
  const bool embed = path == "/v1/embeddings";
  id_ = context_.deterministic ? bodyHash(req.body()) : nextId.fetch_add(1, std::memory_order_relaxed);
  info_ = inspectRequest(req.body(), chat ? Api::Chat : Api::Completion);
  unsigned status = behaviour_.status;
  if (status == 0 && randomFailure(behaviour_.errorRate)) status = behaviour_.errorStatus;
  if (status != 0 && status != 200) {
    pendingStatus_ = status;
    pendingBody_ = errorBody(status, "injected failure");
    if (behaviour_.latencyMs == 0) return sendWhole();
    return delayed(behaviour_.latencyMs, &Session::sendWhole);
  }
  pendingStatus_ = 200;
  if (embed) {
    pendingBody_ = embeddingsBody(info_);
  } else if (info_.stream) {
    context_.stats.streams.fetch_add(1, std::memory_order_relaxed);
    return startStream();
  } else {
    pendingBody_ = completionBody(info_, behaviour_.tokens, id_, behaviour_.output, behaviour_.answerPieces);
  }
  if (behaviour_.latencyMs == 0) return sendWhole();
  delayed(behaviour_.latencyMs, &Session::sendWhole);
}

// /debug/set?status=500&hang=1&latency-ms=..&first-token-ms=..&health=503; no
// parameters restores the defaults the server started with.
std::string Session::applySettings(const std::string& target) {
  long batch = -1;  // set after the lock: a raise admits waiters, which post to their sessions
  const std::string answer = applySettingsLocked(target, batch);
  if (batch >= 0) context_.gate.setBatch(static_cast<unsigned>(batch));
  return answer;
}

std::string Session::applySettingsLocked(const std::string& target, long& batch) {
  std::lock_guard lock(context_.mutex);
  auto query = target.find('?');
  if (query == std::string::npos) {
    context_.defaults = context_.initial;
    context_.healthStatus = 200;
    context_.signalRunning = context_.signalWaiting = context_.signalKvPermille = -1;
    context_.metricsStatus = 200;
    return "{\"reset\":true}";
  }
  std::string rest = target.substr(query + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string pair = rest.substr(0, amp);
    rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
    auto eq = pair.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = pair.substr(0, eq);
    const unsigned value = static_cast<unsigned>(std::strtoul(pair.c_str() + eq + 1, nullptr, 10));
    if (key == "status") context_.defaults.status = value;
    else if (key == "hang") context_.defaults.hang = value != 0;
    else if (key == "latency-ms") context_.defaults.latencyMs = value;
    else if (key == "first-token-ms") context_.defaults.firstTokenMs = value;
    else if (key == "inter-token-ms") context_.defaults.interTokenMs = value;
    else if (key == "health") context_.healthStatus = value;
    else if (key == "retry-after") context_.defaults.retryAfterSeconds = value;
    else if (key == "signal-running") context_.signalRunning = static_cast<long>(value);
    else if (key == "signal-waiting") context_.signalWaiting = static_cast<long>(value);
    else if (key == "signal-kv-permille") context_.signalKvPermille = static_cast<long>(value);
    else if (key == "metrics-status") context_.metricsStatus = value;
    else if (key == "batch") batch = value;
  }
  return "{\"set\":true}";
}

void Session::delayed(unsigned ms, void (Session::*next)()) {
  watchForClose();
  timer_.expires_after(std::chrono::milliseconds(ms));
  timer_.async_wait([self = shared_from_this(), next](error_code ec) {
    if (ec || self->closed_) return;
    ((*self).*next)();
  });
}

void Session::delayedUntil(std::chrono::steady_clock::time_point at, void (Session::*next)()) {
  watchForClose();
  timer_.expires_at(at);
  timer_.async_wait([self = shared_from_this(), next](error_code ec) {
    if (ec || self->closed_) return;
    ((*self).*next)();
  });
}

void Session::sendWhole() {
  extraHeaders_.clear();
  if (pendingStatus_ != 200 && behaviour_.retryAfterSeconds > 0)
    extraHeaders_ = "Retry-After: " + std::to_string(behaviour_.retryAfterSeconds) + "\r\n";
  respond(pendingStatus_, "application/json", std::move(pendingBody_));
}

void Session::respond(unsigned status, std::string_view contentType, std::string body) {
  out_.clear();
  out_.append("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(reason(status)).append("\r\n");
  out_.append("Content-Type: ").append(contentType).append("\r\n");
  out_.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  if (!keepAlive_) out_.append("Connection: close\r\n");
  out_.append(extraHeaders_);
  extraHeaders_.clear();
  out_.append("\r\n").append(body);
  const asio::const_buffer whole = asio::buffer(out_);
  writer_.start(socket_, std::span<const asio::const_buffer>(&whole, 1),
                [self = shared_from_this()](error_code ec, std::size_t) { self->afterWrite(ec, self->keepAlive_); });
}

void Session::afterWrite(error_code ec, bool keepAlive) {
  if (ec) return clientGone();
  if (!keepAlive) {
    error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_send, ignored);
    return close();
  }
  finishResponse();
}

// ---- streaming ------------------------------------------------------------------

void Session::startStream() {
  sentTokens_ = 0;
  streamHeadSent_ = false;
  watchForClose();
  if (behaviour_.headersFirst) {
    out_.assign("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                "Transfer-Encoding: chunked\r\n\r\n");
    streamHeadSent_ = true;
    asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->clientGone();
      self->delayed(self->behaviour_.firstTokenMs, &Session::streamNext);
    });
    return;
  }
  delayed(behaviour_.firstTokenMs, &Session::streamNext);
}

void Session::streamNext() {
  if (behaviour_.resetAfterEvents >= 0 && sentTokens_ >= static_cast<unsigned>(behaviour_.resetAfterEvents)) {
    // Abortive close: the peer sees a reset, as when a model server crashes.
    error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
    closed_ = true;
    return;
  }
  if (sentTokens_ > 0 && behaviour_.interTokenMs > 0)
    context_.stats.onEventSent(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - nextTokenAt_)
                                   .count());
  if (sentTokens_ < behaviour_.tokens) {
    if (sentTokens_ == 0) nextTokenAt_ = std::chrono::steady_clock::now();
    writeEvent(streamChunk(info_, id_, outputToken(behaviour_.output, sentTokens_, behaviour_.answerPieces), sentTokens_ == 0), false);
    return;
  }
  std::string tail = streamFinalChunk(info_, id_, finishReasonFor(behaviour_.output));
  if (info_.includeUsage) tail += streamUsageChunk(info_, id_, behaviour_.tokens);
  tail += "data: [DONE]\n\n";
  writeEvent(std::move(tail), true);
}

void Session::writeEvent(std::string event, bool last) {
  char size[20];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", event.size());
  std::string chunk;
  if (!streamHeadSent_) {
    chunk.assign("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n");
    streamHeadSent_ = true;
  }
  chunk.append(size, static_cast<std::size_t>(n)).append(event).append("\r\n");
  if (last) chunk.append("0\r\n\r\n");
  out_ = std::move(chunk);
  asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this(), last](error_code ec, std::size_t) {
    if (ec) return self->clientGone();
    if (last) return self->finishResponse();
    ++self->sentTokens_;
    if (self->behaviour_.interTokenMs == 0) return self->streamNext();
    // Paced from the first event, as a model generates at its own rate: an
    // event this thread sent late (its core busy) does not push back every
    // later one. Paced from each write instead, the lateness added up along
    // the stream (8,000 streams through a proxy: +3 ms a gap every 200 ms,
    // reported as inter-token latency the proxy added).
    self->nextTokenAt_ += std::chrono::milliseconds(self->behaviour_.interTokenMs);
    self->delayedUntil(self->nextTokenAt_, &Session::streamNext);
  });
}

// ---- client close detection ------------------------------------------------------

void Session::watchForClose() {
  if (watching_) return;
  watching_ = true;
  // readMore: a close that came with the request is seen now, not missed.
  infergate::readMore(socket_, buffer_.prepare(4096), [self = shared_from_this()](error_code ec, std::size_t n) {
    self->watching_ = false;
    self->buffer_.commit(n);
    if (self->closed_) return;
    if (ec == asio::error::operation_aborted) {
      if (!self->busy_) self->readRequest();  // cancelled by finishResponse: back to the request loop
      return;
    }
    if (ec) return self->clientGone();
    if (self->busy_) self->watchForClose();  // pipelined bytes: keep them and keep watching
    else self->readRequest();
  });
}

void Session::finishResponse() {
  endWork();
  busy_ = false;
  timer_.cancel();
  if (watching_) {
    error_code ignored;
    socket_.cancel(ignored);  // the watcher's handler resumes the request loop
    return;
  }
  readRequest();
}

void Session::clientGone() {
  if (closed_) return;
  context_.stats.onClientClose();
  close();
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  endWork();
  timer_.cancel();
  error_code ignored;
  socket_.close(ignored);
}

}  // namespace mock
