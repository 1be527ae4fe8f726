#include "gateway/upstream/upstream_client.hpp"

#include "gateway/net/local_errors.hpp"
#include "gateway/upstream/upstream_tls.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <algorithm>
#include <optional>

namespace infergate {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Outcome = UpstreamClient::Response::Outcome;

// One request: a pooled or new connection, the request written, the answer
// read whole (bounded), under one deadline. A pooled connection the server had
// closed is replaced once by a new one.
class UpstreamClient::Call : public std::enable_shared_from_this<Call> {
 public:
  Call(UpstreamClient& client, const EndpointRuntime& endpoint, const BackendRuntime& backend,
       CircuitBreaker::Admission admission, bool judged, Request request, Done done)
      : client_(client), runtime_(client.runtime_), endpoint_(endpoint), backend_(backend), admission_(admission),
        judged_(judged),
        timer_(client.io_), done_(std::move(done)) {
    request_.method(request.method);
    request_.target(request.target);
    request_.version(11);
    request_.set(http::field::host, endpoint.authority);
    request_.set(http::field::user_agent, request.userAgent);
    if (!request.body.empty()) request_.set(http::field::content_type, "application/json");
    if (request.injectHeaders)
      for (const auto& h : backend.config->headers) request_.set(h.name, h.value);
    request_.body() = std::move(request.body);
    request_.prepare_payload();
    request_.keep_alive(true);
    maxBytes_ = request.maxResponseBytes;
    timeout_ = request.timeout;
  }

  void start() {
    timer_.expires_after(timeout_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->finished_) return;
      self->timedOut_ = true;
      if (self->conn_) self->conn_->socket.close();
    });
    if (auto pooled = client_.pool_.acquire(endpoint_, backend_.config->pool,
                                            client_.cluster_.endpoint(endpoint_.id).address.generation())) {
      conn_ = std::move(pooled);
      pooled_ = true;
      send();
    } else {
      connect();
    }
  }

 private:
  void connect() {
    pooled_ = false;
    conn_ = std::make_unique<UpstreamConnection>(client_.io_.get_executor(), endpoint_.id, endpoint_.tls);
    if (auto* tls = conn_->tlsStream.get()) prepareTls(tls->native_handle(), endpoint_, client_.pool_);
    const auto& where = client_.cluster_.endpoint(endpoint_.id).address;
    conn_->addressGeneration = where.generation();
    conn_->socket.async_connect(where.current(), [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->fail(isLocalResourceError(ec));
      if (!self->conn_->tlsStream) return self->send();
      self->conn_->tlsStream->async_handshake(asio::ssl::stream_base::client, [self](beast::error_code handshake) {
        if (handshake) return self->fail();
        self->send();
      });
    });
  }

  void send() {
    if (conn_->tlsStream) sendOver(*conn_->tlsStream);
    else sendOver(conn_->socket);
  }

  template <class Stream>
  void sendOver(Stream& stream) {
    http::async_write(stream, request_, [self = shared_from_this(), &stream](beast::error_code ec, std::size_t) {
      if (ec) return self->retryOrFail();
      self->parser_.emplace();
      self->parser_->body_limit(self->maxBytes_);
      http::async_read(stream, self->conn_->buffer, *self->parser_, [self](beast::error_code ec2, std::size_t) {
        if (ec2) return self->retryOrFail();
        self->succeed();
      });
    });
  }

  // A pooled connection may have been closed by the server while idle: the
  // request never reached it, so one more try on a new connection is safe.
  void retryOrFail() {
    if (pooled_ && !timedOut_ && conn_->buffer.size() == 0 && !(parser_ && parser_->got_some())) {
      conn_->socket.close();
      return connect();
    }
    fail();
  }

  // `local`: this process ran out of descriptors or ports; not the endpoint's failure.
  void fail(bool local = false) {
    Response r;
    r.outcome = timedOut_ ? Outcome::Timeout : Outcome::Error;
    finish(std::move(r), !local);
  }

  void succeed() {
    const auto& message = parser_->get();
    Response r;
    r.outcome = Outcome::Ok;
    r.status = message.result_int();
    r.body = message.body();
    const auto& failures = backend_.config->circuit_breaker.failure_statuses;
    const bool failed = std::find(failures.begin(), failures.end(), r.status) != failures.end();
    // A whole answer on a connection the server keeps open goes back to the pool.
    if (message.keep_alive() && conn_->buffer.size() == 0) {
      ++conn_->requestsServed;
      if (conn_->tlsStream)
        client_.pool_.keepSession(conn_->endpointId, SSL_get_session(conn_->tlsStream->native_handle()));
      client_.pool_.release(std::move(conn_), backend_.config->pool);
    }
    finish(std::move(r), failed);
  }

  void finish(Response response, bool endpointFailed) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    if (conn_) conn_->socket.close();
    if (judged_) {
      auto& breaker = client_.cluster_.endpoint(endpoint_.id).breaker;
      if (endpointFailed) breaker.onFailure(admission_);
      else breaker.onSuccess(admission_);
    }
    auto done = std::move(done_);
    done(std::move(response));
  }

  UpstreamClient& client_;
  std::shared_ptr<const Runtime> runtime_;  // holds endpoint_ and backend_ while the call lasts
  const EndpointRuntime& endpoint_;
  const BackendRuntime& backend_;
  CircuitBreaker::Admission admission_;
  bool judged_;
  asio::steady_timer timer_;
  Done done_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::unique_ptr<UpstreamConnection> conn_;
  std::size_t maxBytes_ = 0;
  std::chrono::milliseconds timeout_{0};
  bool pooled_ = false;
  bool timedOut_ = false;
  bool finished_ = false;
};

UpstreamClient::UpstreamClient(asio::io_context& io, std::shared_ptr<const Runtime> runtime, ClusterState& cluster)
    : io_(io),
      runtime_(std::move(runtime)),
      cluster_(cluster),
      picker_(*runtime_, cluster, 0x636c69656e74ull),  // "client"
      pool_(io, *runtime_, nullptr, 0) {}

UpstreamClient::~UpstreamClient() { pool_.closeAll(); }

void UpstreamClient::send(std::size_t backend, Request request, Done done) {
  const auto pick = picker_.pick(runtime_->backends[backend], backend, tried_);
  if (pick.endpoint == nullptr) {
    Response r;
    r.outcome = Outcome::CircuitOpen;
    done(std::move(r));
    return;
  }
  std::make_shared<Call>(*this, *pick.endpoint, runtime_->backends[backend], pick.admission, true, std::move(request),
                         std::move(done))
      ->start();
}

void UpstreamClient::sendTo(const EndpointRuntime& endpoint, std::size_t backend, Request request, Done done) {
  std::make_shared<Call>(*this, endpoint, runtime_->backends[backend], CircuitBreaker::Admission{}, false,
                         std::move(request), std::move(done))
      ->start();
}

}  // namespace infergate
