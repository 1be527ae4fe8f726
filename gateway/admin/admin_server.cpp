#include "gateway/admin/admin_server.hpp"

#include <openssl/crypto.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <memory>

#include "config/api_key_digest.hpp"
#include "filters/core/errors.hpp"
#include "metrics/stats.hpp"

namespace infergate {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Admin traffic is rare and small: Beast's message types are plenty here.
class AdminSession : public std::enable_shared_from_this<AdminSession> {
 public:
  AdminSession(tcp::socket socket, const AdminServer& server) : stream_(std::move(socket)), server_(server) {}
  void start() { read(); }

 private:
  void read() {
    request_ = {};
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->respond();
    });
  }

  void respond() {
    const auto target = request_.target();
    const auto q = target.find('?');
    const auto authorization = request_[http::field::authorization];
    auto answer = server_.handle(request_.method_string(), target.substr(0, q),
                                 q == std::string_view::npos ? std::string_view{} : std::string_view(target.substr(q + 1)),
                                 std::string_view(authorization.data(), authorization.size()));
    response_ = {};
    response_.result(answer.status);
    response_.version(11);
    response_.set(http::field::content_type, answer.contentType);
    response_.set(http::field::cache_control, "no-store");
    response_.body() = std::move(answer.body);
    response_.keep_alive(request_.keep_alive());
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->response_.keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  const AdminServer& server_;
};

}  // namespace

AdminServer::AdminServer(asio::io_context& io, const tcp::endpoint& listen, const metrics::StatsRegistry* metrics)
    : io_(io), acceptor_(io), metrics_(metrics) {
  acceptor_.open(listen.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(listen);
  acceptor_.listen();
}

void AdminServer::start() { accept(); }

void AdminServer::stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
}

void AdminServer::accept() {
  acceptor_.async_accept(io_, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) std::make_shared<AdminSession>(std::move(socket), *this)->start();
    accept();
  });
}

bool AdminServer::admitted(std::string_view method, std::string_view path, std::string_view authorization) const {
  if (!access_.token_digest) return true;
  const bool read = method == "GET" || method == "HEAD";
  // Probes never carry a token; the scraper may not either.
  if (read && (path == "/healthz" || path == "/readyz")) return true;
  if (read && !access_.protect_reads) return true;
  if (read && path == "/metrics" && access_.metrics_open) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() || !beast::iequals(authorization.substr(0, kBearer.size()), kBearer))
    return false;
  // Compared by digest: the time taken says nothing of how much of a guess is right.
  const auto presented = config::sha256(authorization.substr(kBearer.size()));
  return CRYPTO_memcmp(presented.data(), access_.token_digest->data(), presented.size()) == 0;
}

AdminResponse AdminServer::handle(std::string_view method, std::string_view path, std::string_view query,
                                  std::string_view authorization) const {
  if (!admitted(method, path, authorization)) {
    ErrorReply reply{401, "invalid_request_error", "invalid_admin_token",
                     "This admin endpoint needs 'Authorization: Bearer <admin token>'.", {}, {}};
    return {401, "application/json", openaiErrorBody(reply)};
  }
  if (method == "POST" && path == "/admin/drift/baseline" && driftFreeze_) return {200, "application/json", driftFreeze_()};
  if (method == "POST" && path == "/admin/reload" && reload_) return reload_();
  if (method != "GET" && method != "HEAD") {
    ErrorReply reply{405, "invalid_request_error", "method_not_allowed", "Use GET on the admin endpoints.", {}, {}};
    return {405, "application/json", openaiErrorBody(reply)};
  }
  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
  if (path == "/metrics" && metrics_ != nullptr)
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_->scrape()};
  if (path == "/admin/backends" && backendsReport_) return {200, "application/json", backendsReport_()};
  if (path == "/admin/drift" && driftReport_) return {200, "application/json", driftReport_()};
  if (path == "/admin/diagnosis" && diagnosisReport_) return {200, "application/json", diagnosisReport_()};
  if (path == "/admin/samples" && samples_) return samples_(query);
  if (path == "/admin/config" && showConfig_) return {200, "application/yaml; charset=utf-8", showConfig_()};
  if (path == "/readyz") {
    if (ready()) return {200, "text/plain; charset=utf-8", "ready\n"};
    return {503, "text/plain; charset=utf-8", "draining\n"};
  }
  ErrorReply reply{404, "invalid_request_error", "not_found", "Unknown admin endpoint.", {}, {}};
  return {404, "application/json", openaiErrorBody(reply)};
}

}  // namespace infergate
