#pragma once
// Rate limits and token budgets per key, per route and for the gateway
// (`rate_limits`, `auth.keys[].limits`, `routes[].rate_limits`). A request
// must fit every scope it is in; what it takes is given back if a later scope
// refuses. Tokens are charged at admission from an estimate (prompt
// characters / 4 + max_tokens, or the default completion) and settled with
// the answer's usage, as hosted APIs do; a request that never reached the
// model is refunded. Refused: 429 rate_limit_exceeded with Retry-After and the
// x-ratelimit-* headers OpenAI's clients read, which admitted answers carry too.
// With `store: redis` the request and token cells are checked in Redis
// (redis_store.hpp) while the chain waits (Pause); concurrency stays local.
#include <array>
#include <memory>

#include "filters/auth/key_directory.hpp"
#include "filters/filter.hpp"
#include "filters/limits/limit_set.hpp"
#include "filters/limits/rate_limit_stats.hpp"
#include "filters/limits/redis_store.hpp"

namespace infergate::limits {

struct RateLimitShared {
  // With `store: redis`, the store's connections join `services`; with `keys`,
  // reloaded keys get their limits.
  RateLimitShared(const config::Config& config, unsigned workers, WorkerServices* services,
                  auth::KeyDirectory* keys);
  // A reloaded config (same routes): the gateway's and the routes' limits it
  // gives, for new requests. The control thread.
  void reconfigure(const config::Config& config);
  RateLimiter limiter;
  bool keysMayChange = false;  // a keys file: limits may come with a reload
  std::unique_ptr<RedisStore> redis;            // store: redis
  std::shared_ptr<const RateLimitStats> stats;  // null when metrics are off
};

struct RateLimitState {
  std::array<LimitSet*, 3> taken{};  // the scopes the request was admitted in
  std::size_t count = 0;
  std::uint64_t estimate = 0;        // tokens charged at admission
  bool sharedTaken = false;          // store: redis admitted it (a settlement is due there)
  Budget requests, tokens;           // store: redis: what the check left, for the headers
  void reset() { *this = RateLimitState{}; }
};

class RateLimitFilter final : public StatefulFilter<RateLimitState> {
 public:
  RateLimitFilter(std::shared_ptr<RateLimitShared> shared, std::size_t route, std::uint32_t routeLabel);
  std::string_view name() const override { return "rate_limits"; }
  std::uint8_t phases() const override { return kOnRequest | kOnResponseHeaders | kOnResponseEnd | kOnComplete; }
  FilterStatus onRequest(RequestContext& ctx) override;
  bool onResponseHeaders(RequestContext& ctx) override;
  // The answer is whole (before its last byte is written): settle and release.
  void onResponseEnd(RequestContext& ctx) override;
  // Whatever did not reach the model (a later filter refused, no endpoint could
  // serve) is settled here: its token estimate is given back.
  void onComplete(RequestContext& ctx) override;

 private:
  // Local cells; the request's scopes and estimate are in its state.
  FilterStatus checkLocal(RequestContext& ctx, RateLimitState& s, std::span<LimitSet* const> scopes) const;
  // Shared cells (Redis): pauses the chain until the store answers.
  FilterStatus checkShared(RequestContext& ctx, RateLimitState& s, std::span<LimitSet* const> scopes) const;
  FilterStatus onVerdict(RequestContext& ctx, const StoreVerdict& verdict) const;
  FilterStatus refuse(RequestContext& ctx, LimitKind kind, std::int64_t waitNs) const;
  void settle(RequestContext& ctx) const;

  std::shared_ptr<RateLimitShared> shared_;
  std::size_t route_;
  std::uint32_t routeLabel_;
};

}  // namespace infergate::limits
