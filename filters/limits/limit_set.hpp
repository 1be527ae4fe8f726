#pragma once
// The live limits of one scope (a key, a route, the gateway): GCRA cells for
// requests per second and per minute and tokens per minute, and a count of
// requests in flight. Shared by every worker; nothing here takes a lock.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "config/config.hpp"
#include "filters/limits/gcra.hpp"

namespace infergate::limits {

enum class LimitKind : std::uint8_t { Requests, Tokens, Concurrent, Count };
std::string_view limitKindName(LimitKind kind);

struct LimitSet {
  explicit LimitSet(const config::RateLimitConfig& config);

  std::unique_ptr<Gcra> perSecond, perMinute, tokens;
  unsigned concurrent = 0;  // 0 = no cap
  std::atomic<unsigned> inFlight{0};
};

// Every scope's set, built once from config; null where a scope has none.
struct RateLimiter {
  explicit RateLimiter(const config::Config& config);
  bool any() const;

  std::unique_ptr<LimitSet> global;
  std::vector<std::unique_ptr<LimitSet>> routes;  // config order
  std::vector<std::unique_ptr<LimitSet>> keys;    // auth.keys order
  std::uint64_t defaultCompletionTokens = 256;
};

}  // namespace infergate::limits
