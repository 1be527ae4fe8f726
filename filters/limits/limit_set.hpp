#pragma once
// The live limits of one scope (a key, a route, the gateway): GCRA cells for
// requests per second and per minute and tokens per minute, and a count of
// requests in flight. Shared by every worker; nothing here takes a lock.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
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

  // With a shared store: this set's place in it ("global", "route:<name>",
  // "key:<name>"), and what its last check left (requests, tokens; -1 = none
  // yet), for the remaining-budget gauges.
  std::string storeName;
  std::size_t storeIndex = 0;
  std::array<std::atomic<std::int64_t>, 2> sharedRemaining{-1, -1};
};

// Every scope's set, built once from config; null where a scope has none.
struct RateLimiter {
  explicit RateLimiter(const config::Config& config);
  bool any() const;
  void forEach(const std::function<void(LimitSet&)>& visit);

  std::unique_ptr<LimitSet> global;
  std::vector<std::unique_ptr<LimitSet>> routes;  // config order
  std::vector<std::unique_ptr<LimitSet>> keys;    // auth.keys order
  std::uint64_t defaultCompletionTokens = 256;
};

}  // namespace infergate::limits
