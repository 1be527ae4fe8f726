#include "filters/limits/redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <vector>

#include "filters/core/log_line.hpp"

namespace infergate::limits {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::string_view failureName(RedisConnection::Failure failure) {
  switch (failure) {
    case RedisConnection::Failure::None: return "none";
    case RedisConnection::Failure::Unreachable: return "unreachable";
    case RedisConnection::Failure::Timeout: return "timeout";
    case RedisConnection::Failure::Busy: return "busy";
  }
  return "unknown";
}

// hiredis's event hooks on Asio: readiness waits on the context's socket,
// which hiredis owns (released, never closed, here). Handlers hold the watch,
// and find `ac` null once hiredis has let the context go.
struct RedisConnection::Watch : std::enable_shared_from_this<Watch> {
  Watch(asio::io_context& io, redisAsyncContext* context) : socket(io, context->c.fd), ac(context) {}

  void arm(bool write) {
    bool& wanted = write ? wantWrite : wantRead;
    bool& armed = write ? writeArmed : readArmed;
    if (!wanted || armed || ac == nullptr) return;
    armed = true;
    socket.async_wait(write ? asio::posix::descriptor_base::wait_write : asio::posix::descriptor_base::wait_read,
                      [self = shared_from_this(), write](boost::system::error_code ec) {
                        (write ? self->writeArmed : self->readArmed) = false;
                        if (ec || self->ac == nullptr || !(write ? self->wantWrite : self->wantRead)) return;
                        // Either may free the context (cleanup then clears ac).
                        if (write) redisAsyncHandleWrite(self->ac);
                        else redisAsyncHandleRead(self->ac);
                        self->arm(write);
                      });
  }

  static Watch& of(void* p) { return *static_cast<Watch*>(p); }
  static void addRead(void* p) { of(p).wantRead = true, of(p).arm(false); }
  static void delRead(void* p) { of(p).wantRead = false; }
  static void addWrite(void* p) { of(p).wantWrite = true, of(p).arm(true); }
  static void delWrite(void* p) { of(p).wantWrite = false; }
  static void cleanup(void* p) {
    auto& w = of(p);
    w.ac = nullptr;
    w.wantRead = w.wantWrite = false;
    boost::system::error_code ignored;
    w.socket.cancel(ignored);
    w.socket.release();  // hiredis closes the descriptor
  }

  asio::posix::stream_descriptor socket;
  redisAsyncContext* ac;
  bool wantRead = false, wantWrite = false, readArmed = false, writeArmed = false;
};

struct RedisConnection::Timers {
  explicit Timers(asio::io_context& io) : deadline(io), connection(io) {}
  asio::steady_timer deadline;    // the oldest live command's
  asio::steady_timer connection;  // connect timeout, or the reconnect backoff
  bool deadlineArmed = false;
};

RedisConnection::RedisConnection(asio::io_context& io, Options options, StateChange onStateChange)
    : io_(io), options_(std::move(options)), onStateChange_(std::move(onStateChange)),
      timers_(std::make_unique<Timers>(io)) {
  connect();
}

RedisConnection::~RedisConnection() {
  closing_ = true;  // pending callbacks are dropped, not called
  if (ac_ != nullptr) {
    auto* ac = std::exchange(ac_, nullptr);
    redisAsyncFree(ac);
  }
}

void RedisConnection::connect() {
  auto* ac = redisAsyncConnect(options_.ip.c_str(), options_.port);
  if (ac == nullptr || ac->err) {
    if (ac != nullptr) redisAsyncFree(ac);
    scheduleReconnect();
    return;
  }
  ac_ = ac;
  ac->data = this;
  watch_ = std::make_shared<Watch>(io_, ac);
  ac->ev.data = watch_.get();
  ac->ev.addRead = &Watch::addRead;
  ac->ev.delRead = &Watch::delRead;
  ac->ev.addWrite = &Watch::addWrite;
  ac->ev.delWrite = &Watch::delWrite;
  ac->ev.cleanup = &Watch::cleanup;
  redisAsyncSetConnectCallback(ac, &RedisConnection::connectThunk);
  redisAsyncSetDisconnectCallback(ac, &RedisConnection::disconnectThunk);
  Watch::addWrite(watch_.get());  // the non-blocking connect completes when writable
  const auto logError = [](const redisReply* reply, Failure) {
    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR)
      log::write(log::Level::Error, log::Fields().add("store", "redis"),
                 "Redis refused a setup command: " + std::string(reply->str, reply->len));
  };
  if (!options_.password.empty()) {
    const std::string_view auth[] = {"AUTH", options_.password};
    send(auth, logError);
  }
  for (const auto& command : options_.setup) {
    std::vector<std::string_view> args(command.begin(), command.end());
    send(args, logError);
  }
  // A connect that neither succeeds nor fails (a silent host) is given up.
  timers_->connection.expires_after(options_.connectTimeout);
  timers_->connection.async_wait([this, ac](boost::system::error_code ec) {
    if (ec || ac_ != ac || connected_) return;
    dropContext();
    scheduleReconnect();
  });
}

void RedisConnection::dropContext() {
  if (ac_ == nullptr) return;
  auto* ac = std::exchange(ac_, nullptr);
  redisAsyncFree(ac);  // calls every pending callback with no reply
  setConnected(false);
}

void RedisConnection::scheduleReconnect() {
  if (closing_) return;
  setConnected(false);
  timers_->connection.expires_after(backoff_);
  backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2, std::chrono::milliseconds(2000));
  timers_->connection.async_wait([this](boost::system::error_code ec) {
    if (!ec && ac_ == nullptr && !closing_) connect();
  });
}

void RedisConnection::setConnected(bool connected) {
  if (connected == connected_) return;
  connected_ = connected;
  log::write(connected ? log::Level::Info : log::Level::Warn,
             log::Fields().add("store", "redis").add("address", options_.ip).add("port", std::uint64_t{options_.port}),
             connected ? "connected to Redis" : "lost Redis");
  if (onStateChange_) onStateChange_(connected);
}

void RedisConnection::connectThunk(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (status != REDIS_OK) {
    // hiredis frees the context after this returns.
    self->ac_ = nullptr;
    self->scheduleReconnect();
    return;
  }
  self->backoff_ = std::chrono::milliseconds(100);
  self->timers_->connection.cancel();
  self->setConnected(true);
}

void RedisConnection::disconnectThunk(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  self->ac_ = nullptr;  // freed by hiredis after this returns
  if (!self->closing_) self->scheduleReconnect();
}

RedisConnection::Failure RedisConnection::send(std::span<const std::string_view> args, Done done) {
  if (ac_ == nullptr) return Failure::Unreachable;
  if (pending_.size() >= options_.maxPending) return Failure::Busy;
  // hiredis copies the arguments into its output buffer at once.
  constexpr std::size_t kMaxArgs = 64;
  if (args.size() > kMaxArgs) return Failure::Unreachable;
  std::array<const char*, kMaxArgs> argv;
  std::array<std::size_t, kMaxArgs> lengths;
  for (std::size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lengths[i] = args[i].size();
  }
  pending_.push_back({std::move(done), Clock::now() + options_.timeout});
  if (redisAsyncCommandArgv(ac_, &RedisConnection::replyThunk, this, static_cast<int>(args.size()), argv.data(),
                            lengths.data()) != REDIS_OK) {
    pending_.pop_back();
    return Failure::Unreachable;
  }
  armTimer();
  return Failure::None;
}

void RedisConnection::replyThunk(redisAsyncContext*, void* reply, void* self) {
  static_cast<RedisConnection*>(self)->onReply(static_cast<redisReply*>(reply));
}

void RedisConnection::onReply(redisReply* reply) {
  if (pending_.empty()) return;
  auto entry = std::move(pending_.front());
  pending_.pop_front();
  if (expired_ > 0) {
    --expired_;  // already told Timeout
    return;
  }
  if (closing_) return;
  entry.done(reply, reply != nullptr ? Failure::None : Failure::Unreachable);
}

void RedisConnection::armTimer() {
  if (timers_->deadlineArmed || expired_ >= pending_.size()) return;
  timers_->deadlineArmed = true;
  timers_->deadline.expires_at(pending_[expired_].deadline);
  timers_->deadline.async_wait([this](boost::system::error_code ec) {
    timers_->deadlineArmed = false;
    if (!ec) onTimer();
  });
}

void RedisConnection::onTimer() {
  const auto now = Clock::now();
  // Deadlines grow in send order: the expired ones are a prefix.
  while (expired_ < pending_.size() && pending_[expired_].deadline <= now) {
    auto done = std::move(pending_[expired_].done);
    ++expired_;
    done(nullptr, Failure::Timeout);
  }
  armTimer();
}

}  // namespace infergate::limits
