#include "filters/limits/limit_set.hpp"

namespace infergate::limits {

namespace {
constexpr std::int64_t kSecondNs = 1'000'000'000;

std::unique_ptr<LimitSet> setFor(const config::RateLimitConfig& c, std::string name) {
  if (!c.any()) return nullptr;
  auto set = std::make_unique<LimitSet>(c);
  set->storeName = std::move(name);
  return set;
}
}  // namespace

std::string_view limitKindName(LimitKind kind) {
  switch (kind) {
    case LimitKind::Requests: return "requests";
    case LimitKind::Tokens: return "tokens";
    case LimitKind::Concurrent: return "concurrent";
    case LimitKind::Count: break;
  }
  return "unknown";
}

LimitSet::LimitSet(const config::RateLimitConfig& c) : concurrent(c.concurrent) {
  if (c.requests_per_second) perSecond = std::make_unique<Gcra>(c.requests_per_second, kSecondNs);
  if (c.requests_per_minute) perMinute = std::make_unique<Gcra>(c.requests_per_minute, 60 * kSecondNs);
  if (c.tokens_per_minute) tokens = std::make_unique<Gcra>(c.tokens_per_minute, 60 * kSecondNs);
}

RateLimiter::RateLimiter(const config::Config& config)
    : global(setFor(config.rate_limits.global, "global")),
      defaultCompletionTokens(config.rate_limits.default_completion_tokens) {
  for (const auto& r : config.routes) routes.push_back(setFor(r.limits, "route:" + r.name));
  for (const auto& k : config.auth.keys) keys.push_back(setFor(k.limits, "key:" + k.name));
}

void RateLimiter::forEach(const std::function<void(LimitSet&)>& visit) {
  if (global) visit(*global);
  for (auto& r : routes)
    if (r) visit(*r);
  for (auto& k : keys)
    if (k) visit(*k);
}

bool RateLimiter::any() const {
  if (global) return true;
  for (const auto& r : routes)
    if (r) return true;
  for (const auto& k : keys)
    if (k) return true;
  return false;
}

}  // namespace infergate::limits
