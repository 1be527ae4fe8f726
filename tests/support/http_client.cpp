#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <csignal>
#include <ctime>
#include <memory>
#include <stdexcept>

namespace testsupport {

namespace http = boost::beast::http;

std::int64_t monotonicNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string Response::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Connection::Connection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

Connection::Connection(std::uint16_t port, const TlsClient& tls) : Connection(port) {
  // OpenSSL writes with write(), not send(MSG_NOSIGNAL): a peer that closed
  // first would kill the test process instead of failing the call.
  static const bool sigpipeIgnored = (std::signal(SIGPIPE, SIG_IGN), true);
  (void)sigpipeIgnored;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), tls.caFile.c_str(), nullptr) != 1)
    throw std::runtime_error("cannot load CA file " + tls.caFile);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  ssl_ = SSL_new(ctx.get());  // holds its own reference to the context
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, tls.serverName.c_str());
  SSL_set1_host(ssl_, tls.serverName.c_str());
  if (SSL_connect(ssl_) != 1) {
    char reason[256];
    ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
    SSL_free(ssl_);
    ssl_ = nullptr;
    throw std::runtime_error(std::string("TLS handshake failed: ") + reason);
  }
}

Connection::~Connection() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (fd_ >= 0) ::close(fd_);
}

long Connection::sendSome(const char* data, std::size_t size) {
  if (ssl_ == nullptr) return ::send(fd_, data, size, MSG_NOSIGNAL);
  return SSL_write(ssl_, data, static_cast<int>(size));
}

long Connection::recvSome(char* buf, std::size_t size) {
  if (ssl_ == nullptr) return ::recv(fd_, buf, size, 0);
  return SSL_read(ssl_, buf, static_cast<int>(size));  // a close or an alert reads as <= 0
}

bool Connection::buffered() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

void Connection::send(const std::string& bytes) {
  sentAt_ = std::chrono::steady_clock::now();
  std::size_t off = 0;
  while (off < bytes.size()) {
    const long n = sendSome(bytes.data() + off, bytes.size() - off);
    if (n <= 0) throw std::runtime_error("send failed");
    off += static_cast<std::size_t>(n);
  }
}

Response Connection::read(std::chrono::milliseconds timeout, bool headRequest) {
  Response r;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  parser.eager(true);
  if (headRequest) parser.skip(true);
  auto start = sentAt_;
  std::function<void(std::uint64_t, boost::string_view, boost::system::error_code&)> onChunkHeader =
      [](std::uint64_t, boost::string_view, boost::system::error_code&) {};
  std::function<std::size_t(std::uint64_t, boost::string_view, boost::system::error_code&)> onChunkBody =
      [&](std::uint64_t, boost::string_view data, boost::system::error_code&) {
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        if (!r.chunks.empty() && r.chunks.back().atMs == ms) r.chunks.back().data.append(data.data(), data.size());
        else r.chunks.push_back({ms, std::string(data.data(), data.size())});
        parser.get().body().append(data.data(), data.size());
        return data.size();
      };
  parser.on_chunk_header(onChunkHeader);
  parser.on_chunk_body(onChunkBody);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool eof = false;
  while (!parser.is_done()) {
    if (!pending_.empty()) {
      boost::system::error_code ec;
      auto used = parser.put(boost::asio::buffer(pending_), ec);
      pending_.erase(0, used);
      if (ec && ec != http::error::need_more) break;
      if (!ec && used > 0) continue;
    }
    if (eof) {
      // Beast treats EOF before any byte as an empty, complete message: that is
      // "no response" here.
      if (!parser.got_some()) break;
      boost::system::error_code ec;
      parser.put_eof(ec);
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (!buffered() && poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    const long n = recvSome(buf, sizeof buf);
    if (n <= 0) {
      eof = true;
      continue;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
  }
  r.complete = parser.is_done();
  if (parser.is_header_done()) {
    auto& msg = parser.get();
    r.status = msg.result_int();
    for (const auto& f : msg) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      auto& slot = r.headers[name];
      slot = slot.empty() ? std::string(f.value()) : slot + ", " + std::string(f.value());
    }
    r.body = msg.body();
  }
  return r;
}

bool Connection::waitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pending_.clear();
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (!buffered() && poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const long n = recvSome(buf, sizeof buf);
    if (n <= 0) return true;
  }
}

void Connection::shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

void Connection::close() {
  if (fd_ < 0) return;
  linger l{1, 0};  // reset: like a client process that was killed
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd_);
  fd_ = -1;
}

std::string jsonPost(const std::string& path, const std::string& body, const std::vector<std::string>& extraHeaders) {
  std::string out = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
  for (const auto& h : extraHeaders) out += h + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

std::string simpleGet(const std::string& path, const std::vector<std::string>& extraHeaders) {
  std::string out = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& h : extraHeaders) out += h + "\r\n";
  return out + "\r\n";
}

Response request(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout) {
  Connection c(port);
  c.send(bytes);
  return c.read(timeout, bytes.rfind("HEAD ", 0) == 0);
}

std::string chatBody(const std::string& model, bool stream) {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"Hello there"}])" +
         (stream ? R"(,"stream":true)" : "") + "}";
}

}  // namespace testsupport
