#include "filters/limits/limit_set.hpp"

namespace infergate::limits {

namespace {
constexpr std::int64_t kSecondNs = 1'000'000'000;

std::unique_ptr<LimitSet> setFor(const config::RateLimitConfig& c, std::string name) {
  return c.any() ? std::make_unique<LimitSet>(c, std::move(name)) : nullptr;
}

bool sameLimits(const config::RateLimitConfig& a, const config::RateLimitConfig& b) {
  return a.requests_per_second == b.requests_per_second && a.requests_per_minute == b.requests_per_minute &&
         a.tokens_per_minute == b.tokens_per_minute && a.concurrent == b.concurrent;
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

LimitSet::LimitSet(const config::RateLimitConfig& c, std::string name)
    : config(c), concurrent(c.concurrent), storeName(std::move(name)) {
  if (c.requests_per_second) perSecond = std::make_unique<Gcra>(c.requests_per_second, kSecondNs);
  if (c.requests_per_minute) perMinute = std::make_unique<Gcra>(c.requests_per_minute, 60 * kSecondNs);
  if (c.tokens_per_minute) tokens = std::make_unique<Gcra>(c.tokens_per_minute, 60 * kSecondNs);
}

RateLimiter::RateLimiter(const config::Config& config, std::size_t keyCapacity)
    : defaultCompletionTokens(config.rate_limits.default_completion_tokens),
      global_(setFor(config.rate_limits.global, "global")),
      keys_(std::max(keyCapacity, config.auth.keys.size())) {
  for (const auto& r : config.routes) routes_.push_back(setFor(r.limits, "route:" + r.name));
  // At start the config's keys hold label indexes 1..n in order (metrics::LabelSpace).
  for (std::size_t i = 0; i < config.auth.keys.size(); ++i)
    setKeyLimits(static_cast<std::uint32_t>(i + 1), config.auth.keys[i].name, config.auth.keys[i].limits);
}

void RateLimiter::setKeyLimits(std::uint32_t key, const std::string& name, const config::RateLimitConfig& limits,
                               const std::function<void(LimitSet&)>& prepare) {
  if (key == 0 || key > keys_.size()) return;
  auto& slot = keys_[key - 1];
  const auto* current = slot.load(std::memory_order_relaxed);
  if (current == nullptr ? !limits.any() : sameLimits(current->config, limits)) return;
  if (!limits.any()) {
    slot.store(nullptr, std::memory_order_release);
    return;
  }
  auto set = std::make_unique<LimitSet>(limits, "key:" + name);
  if (prepare) prepare(*set);
  slot.store(set.get(), std::memory_order_release);
  ownedKeySets_.push_back(std::move(set));
  anyKeyLimits_ = true;
}

void RateLimiter::forEach(const std::function<void(LimitSet&)>& visit) {
  if (global_) visit(*global_);
  for (auto& r : routes_)
    if (r) visit(*r);
  for (auto& k : ownedKeySets_) visit(*k);
}

bool RateLimiter::any() const {
  if (global_ || anyKeyLimits_) return true;
  for (const auto& r : routes_)
    if (r) return true;
  return false;
}

}  // namespace infergate::limits
