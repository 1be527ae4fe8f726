#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace testsupport {

namespace {
// A port free now (redis-server cannot be asked for an ephemeral one).
std::uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Process runs a path, not a name looked up in PATH.
std::string redisServerBinary() {
  for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"})
    if (::access(p, X_OK) == 0) return p;
  throw std::runtime_error("redis-server is not installed (scripts/install-deps.sh installs it)");
}

std::string text(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_INTEGER: return std::to_string(r->integer);
    case REDIS_REPLY_NIL: return "(nil)";
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (std::size_t i = 0; i < r->elements; ++i) out += text(r->element[i]) + "\n";
      return out;
    }
    default: return std::string(r->str, r->len);
  }
}
}  // namespace

RedisServer::RedisServer() : port_(freePort()) { start(); }

RedisServer::~RedisServer() = default;

void RedisServer::start() {
  process_.reset();
  process_ = std::make_unique<Process>(std::vector<std::string>{
      redisServerBinary(), "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--protected-mode", "no", "--loglevel", "notice"});
  if (!process_->waitForLine("Ready to accept connections"))
    throw std::runtime_error("redis-server did not start: " + process_->transcript() + process_->stderrText());
}

void RedisServer::kill() {
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(5));
}

void RedisServer::pause() { process_->signal(SIGSTOP); }
void RedisServer::resume() { process_->signal(SIGCONT); }

std::string RedisServer::command(const std::vector<std::string>& args) const {
  timeval timeout{2, 0};
  auto* c = redisConnectWithTimeout("127.0.0.1", port_, timeout);
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    throw std::runtime_error("cannot connect to redis-server");
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lengths.data()));
  if (reply == nullptr) {
    redisFree(c);
    throw std::runtime_error("redis command failed");
  }
  auto out = text(reply);
  freeReplyObject(reply);
  redisFree(c);
  return out;
}

}  // namespace testsupport
