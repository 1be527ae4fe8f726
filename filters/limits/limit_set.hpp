#pragma once
// The live limits of one scope (a key, a route, the gateway): GCRA cells for
// requests per second and per minute and tokens per minute, and a count of
// requests in flight. Shared by every worker; nothing here takes a lock.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "filters/limits/gcra.hpp"

namespace infergate::limits {

enum class LimitKind : std::uint8_t { Requests, Tokens, Concurrent, Count };
std::string_view limitKindName(LimitKind kind);

// One of a set's cells as a shared store (Redis) keeps it.
struct StoreCell {
  std::string key;     // <prefix>:<scope>:<cell>
  std::string period;  // microseconds, as text
  std::string rate;
  std::uint64_t rateValue = 0;
  std::int64_t periodUs = 0;
  LimitKind kind = LimitKind::Requests;
};

struct LimitSet {
  LimitSet(const config::RateLimitConfig& config, std::string name);

  config::RateLimitConfig config;
  std::unique_ptr<Gcra> perSecond, perMinute, tokens;
  unsigned concurrent = 0;  // 0 = no cap
  std::atomic<unsigned> inFlight{0};

  // With a shared store: this set's place in it ("global", "route:<name>",
  // "key:<name>"), its cells there, and what its last check left (requests,
  // tokens; -1 = none yet), for the remaining-budget gauges.
  std::string storeName;
  std::vector<StoreCell> storeCells;
  std::array<std::atomic<std::int64_t>, 2> sharedRemaining{-1, -1};
};

// Every scope's set; null where a scope has none. A key's set is found by its
// label index (RequestRecord::key); a reloaded keys file gives new or changed
// keys new sets, and a reloaded config its routes (changed limits start
// whole; unchanged ones keep their budget).
class RateLimiter {
 public:
  // `keyCapacity`: key names the process can know (auth.max_keys).
  RateLimiter(const config::Config& config, std::size_t keyCapacity);
  bool any() const;

  LimitSet* global() const { return global_.load(std::memory_order_acquire); }
  LimitSet* route(std::size_t index) const { return routes_[index].load(std::memory_order_acquire); }
  // The set of the key with label index `key` (1-based), or null.
  LimitSet* key(std::uint32_t key) const {
    return key != 0 && key <= keys_.size() ? keys_[key - 1].load(std::memory_order_acquire) : nullptr;
  }
  // Gives the key at label index `key` these limits (none: no set). Sets are
  // never freed (requests in flight hold them); `prepare` readies a new one
  // for a shared store. One thread at a time.
  void setKeyLimits(std::uint32_t key, const std::string& name, const config::RateLimitConfig& limits,
                    const std::function<void(LimitSet&)>& prepare = {});
  // The same for the gateway's limits, and route `index`'s (config order; a
  // reload keeps the routes).
  void setGlobalLimits(const config::RateLimitConfig& limits, const std::function<void(LimitSet&)>& prepare = {}) {
    place(global_, "global", limits, prepare);
  }
  void setRouteLimits(std::size_t index, const std::string& name, const config::RateLimitConfig& limits,
                      const std::function<void(LimitSet&)>& prepare = {});
  // Every set made so far (for a shared store to name its cells).
  void forEach(const std::function<void(LimitSet&)>& visit);

  std::uint64_t defaultCompletionTokens = 256;

 private:
  // Puts a set with `limits` in `slot` unless the one there has them.
  void place(std::atomic<LimitSet*>& slot, std::string name, const config::RateLimitConfig& limits,
             const std::function<void(LimitSet&)>& prepare);

  std::atomic<LimitSet*> global_{nullptr};
  std::vector<std::atomic<LimitSet*>> routes_;  // config order
  std::vector<std::atomic<LimitSet*>> keys_;    // by label index - 1
  std::vector<std::unique_ptr<LimitSet>> owned_;  // every set ever made (requests in flight may hold any)
  bool anyKeyLimits_ = false;
};

}  // namespace infergate::limits
