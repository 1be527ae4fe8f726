#pragma once
// `rate_limits.store: redis`: the request and token limits of every scope kept
// in one Redis that all replicas share. A check is one atomic Lua script over
// the request's cells (GCRA, as the local store, on Redis's clock), sent by
// the worker's own connection without blocking; a settlement (the token
// estimate against the real usage, a refund) is a second script whose answer
// nobody waits for. Redis keys are `<prefix>:<scope>:<name>:<cell>` with the
// names from config, never a client's key. Concurrency caps stay per process:
// a count held in Redis would leak with a replica that dies.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "filters/limits/limit_set.hpp"
#include "filters/limits/redis_connection.hpp"

namespace infergate::limits {

// What one cell of a scope has left, as a check saw it.
struct Budget {
  bool known = false;
  std::uint64_t limit = 0;
  std::string_view limitText;  // `limit` as text, kept by the limit's cell
  std::uint64_t remaining = 0;
  std::int64_t resetNs = 0;
};

struct StoreVerdict {
  enum class Outcome : std::uint8_t { Admitted, Refused, Failed };
  Outcome outcome = Outcome::Failed;
  // Refused: the first cell over its limit, and until it would admit.
  std::size_t refusedScope = 0;
  LimitKind refusedKind = LimitKind::Requests;
  std::int64_t waitNs = 0;
  // Failed: why (no connection, no answer in time, too many waiting, an error reply).
  enum class Failure : std::uint8_t { Unreachable, Timeout, Busy, Error, Count } failure = Failure::Unreachable;
  // The tightest request and token budgets of the scopes checked (admitted),
  // or of the refusing scope (refused).
  Budget requests, tokens;
};
std::string_view storeFailureName(StoreVerdict::Failure failure);

class RedisStore {
 public:
  // Resolves the address (throws when it cannot) and names every set's cells.
  RedisStore(const config::Config& config, RateLimiter& limiter, unsigned workers);
  ~RedisStore();

  // A connection per worker, made on the worker's thread as it starts.
  void attach(WorkerServices& services);
  // Names a set's cells in Redis (a key's set made by a reload too).
  void prepare(LimitSet& set) const;
  bool failOpen() const { return failOpen_; }
  // Workers connected to Redis now (a gauge).
  unsigned connectedWorkers() const { return connected_.load(std::memory_order_relaxed); }

  using Done = std::function<void(const StoreVerdict&)>;
  // Takes one request and `tokens` from every scope's cells, all or nothing.
  // Returns the failure when nothing could be sent (`done` is then never
  // called); otherwise `done` comes later on this worker's thread.
  std::optional<StoreVerdict::Failure> check(unsigned worker, std::span<LimitSet* const> scopes, std::uint64_t tokens,
                                             Done done);
  // Charges (positive) or gives back (negative) tokens to every scope's token cell.
  void adjustTokens(unsigned worker, std::span<LimitSet* const> scopes, std::int64_t tokens);

 private:
  struct Slot;
  struct Command;
  static const std::vector<StoreCell>& cellsOf(const LimitSet& set) { return set.storeCells; }
  // EVALSHA, or EVAL when `withScript` (Redis answered NOSCRIPT).
  RedisConnection::Failure send(unsigned worker, std::shared_ptr<Command> command, bool withScript);
  void finishCheck(const Command& command, const redisReply* reply, RedisConnection::Failure failure) const;

  std::string keyPrefix_;
  std::vector<std::unique_ptr<Slot>> slots_;  // by worker
  RedisConnection::Options options_;
  bool failOpen_ = true;
  std::atomic<unsigned> connected_{0};
};

}  // namespace infergate::limits
