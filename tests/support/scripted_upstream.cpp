#include "support/scripted_upstream.hpp"

#include <cstdio>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <strings.h>

namespace testsupport {

namespace {

// The request's length, once its head has arrived: head plus Content-Length.
std::size_t requestLength(const std::string& data) {
  const auto headEnd = data.find("\r\n\r\n");
  if (headEnd == std::string::npos) return std::string::npos;
  std::size_t body = 0;
  for (std::size_t at = data.find("\r\n") + 2; at < headEnd;) {
    const auto eol = data.find("\r\n", at);
    const auto line = data.substr(at, eol - at);
    if (line.size() > 15 && strncasecmp(line.c_str(), "content-length:", 15) == 0)
      body = std::strtoul(line.c_str() + 15, nullptr, 10);
    at = eol + 2;
  }
  return headEnd + 4 + body;
}

}  // namespace

ScriptedUpstream::ScriptedUpstream(Script script) : script_(std::move(script)) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listenFd_, 16) != 0)
    throw std::runtime_error("scripted upstream: bind/listen failed");
  socklen_t len = sizeof addr;
  ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

ScriptedUpstream::~ScriptedUpstream() {
  stopping_ = true;
  thread_.join();
  ::close(listenFd_);
}

// One connection at a time is enough for these tests; polls so that the
// destructor stops the loop within 50 ms.
void ScriptedUpstream::serve() {
  while (!stopping_) {
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept(listenFd_, nullptr, nullptr);
    if (fd < 0) continue;
    ++connections_;
    serveConnection(fd);
  }
}

void ScriptedUpstream::serveConnection(int fd) {
  std::string data;
  char buffer[16 * 1024];
  while (!stopping_) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
    const auto length = requestLength(data);
    if (length == std::string::npos || data.size() < length) continue;
    ++requests_;
    const auto reply = script_(data.substr(0, length));
    data.erase(0, length);
    if (::send(fd, reply.bytes.data(), reply.bytes.size(), MSG_NOSIGNAL) < 0) break;
    if (!reply.tail.empty()) {
      std::this_thread::sleep_for(reply.tailAfter);
      if (::send(fd, reply.tail.data(), reply.tail.size(), MSG_NOSIGNAL) < 0) break;
    }
    if (reply.close) break;
  }
  ::close(fd);
}

const std::string kScriptedChatAnswer =
    R"({"id":"c1","object":"chat.completion","model":"mock-model","choices":[{"index":0,"message":)"
    R"({"role":"assistant","content":"Hello there."},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}})";

std::string chunk(const std::string& data) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

}  // namespace testsupport
