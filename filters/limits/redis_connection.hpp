#pragma once
// One worker's connection to Redis: hiredis's asynchronous client driven by
// the worker's io_context (hiredis 0.14 ships adapters for other event loops,
// none for Asio), so a command never blocks the worker's thread.
//
// Every command has a deadline (`timeout`): past it, its callback hears
// Timeout and the late reply is dropped. At most `max_pending` commands wait
// at once; past that, send() refuses (Busy) rather than queue without bound.
// A lost connection fails what is pending (Unreachable) and is made again
// with a backoff (100 ms doubling to 2 s); meanwhile send() refuses at once.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "filters/worker_services.hpp"

struct redisAsyncContext;
struct redisReply;

namespace infergate::limits {

class RedisConnection final : public WorkerService {
 public:
  enum class Failure : std::uint8_t { None, Unreachable, Timeout, Busy };

  struct Options {
    std::string ip;  // numeric: resolved before the workers start (no DNS on a worker)
    std::uint16_t port = 6379;
    std::string password;  // AUTH, when not empty
    std::chrono::milliseconds timeout{50};
    std::chrono::milliseconds connectTimeout{1000};
    std::size_t maxPending = 1024;
    // Sent first on every connection (after AUTH), before any command:
    // SCRIPT LOAD, so that later EVALSHAs find their scripts.
    std::vector<std::vector<std::string>> setup;
  };
  // With a reply (which lives only during the call; an error reply is a reply),
  // or with the failure that means there is none.
  using Done = std::function<void(const redisReply* reply, Failure failure)>;
  using StateChange = std::function<void(bool connected)>;

  RedisConnection(boost::asio::io_context& io, Options options, StateChange onStateChange = {});
  ~RedisConnection() override;
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends a command. On None, `done` is called exactly once, later, on this
  // thread; otherwise never (the caller acts on the failure itself).
  Failure send(std::span<const std::string_view> args, Done done);
  bool connected() const { return connected_; }

 private:
  struct Watch;
  struct Pending {
    Done done;
    std::chrono::steady_clock::time_point deadline;
  };

  void connect();
  void dropContext();  // frees the context: everything pending fails
  void scheduleReconnect();
  void setConnected(bool connected);
  void armTimer();
  void onTimer();
  void onReply(redisReply* reply);
  static void replyThunk(redisAsyncContext* ac, void* reply, void* self);
  static void connectThunk(const redisAsyncContext* ac, int status);
  static void disconnectThunk(const redisAsyncContext* ac, int status);

  boost::asio::io_context& io_;
  Options options_;
  StateChange onStateChange_;
  redisAsyncContext* ac_ = nullptr;
  std::shared_ptr<Watch> watch_;
  bool connected_ = false;
  bool closing_ = false;
  std::chrono::milliseconds backoff_{100};
  // In send order, as Redis answers. The first `expired_` have had their
  // Timeout and wait only for their late replies.
  std::deque<Pending> pending_;
  std::size_t expired_ = 0;
  struct Timers;
  std::unique_ptr<Timers> timers_;
};

std::string_view failureName(RedisConnection::Failure failure);

}  // namespace infergate::limits
