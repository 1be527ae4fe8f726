#include "filters/limits/limit_set.hpp"

namespace infergate::limits {

namespace {
constexpr std::int64_t kSecondNs = 1'000'000'000;

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
      routes_(config.routes.size()),
      keys_(std::max(keyCapacity, config.auth.keys.size())) {
  place(global_, "global", config.rate_limits.global, {});
  for (std::size_t r = 0; r < config.routes.size(); ++r) setRouteLimits(r, config.routes[r].name, config.routes[r].limits);
  // At start the config's keys hold label indexes 1..n in order (metrics::LabelSpace).
  for (std::size_t i = 0; i < config.auth.keys.size(); ++i)
    setKeyLimits(static_cast<std::uint32_t>(i + 1), config.auth.keys[i].name, config.auth.keys[i].limits);
}

void RateLimiter::setKeyLimits(std::uint32_t key, const std::string& name, const config::RateLimitConfig& limits,
                               const std::function<void(LimitSet&)>& prepare) {
  if (key == 0 || key > keys_.size()) return;
  place(keys_[key - 1], "key:" + name, limits, prepare);
  if (limits.any()) anyKeyLimits_ = true;
}

void RateLimiter::setRouteLimits(std::size_t index, const std::string& name, const config::RateLimitConfig& limits,
                                 const std::function<void(LimitSet&)>& prepare) {
  if (index < routes_.size()) place(routes_[index], "route:" + name, limits, prepare);
}

void RateLimiter::place(std::atomic<LimitSet*>& slot, std::string name, const config::RateLimitConfig& limits,
                        const std::function<void(LimitSet&)>& prepare) {
  const auto* current = slot.load(std::memory_order_relaxed);
  if (current == nullptr ? !limits.any() : sameLimits(current->config, limits)) return;
  if (!limits.any()) {
    slot.store(nullptr, std::memory_order_release);
    return;
  }
  auto set = std::make_unique<LimitSet>(limits, std::move(name));
  if (prepare) prepare(*set);
  slot.store(set.get(), std::memory_order_release);
  owned_.push_back(std::move(set));
}

void RateLimiter::forEach(const std::function<void(LimitSet&)>& visit) {
  for (auto& set : owned_) visit(*set);
}

bool RateLimiter::any() const {
  if (global() != nullptr || anyKeyLimits_) return true;
  for (const auto& r : routes_)
    if (r.load(std::memory_order_acquire) != nullptr) return true;
  return false;
}

}  // namespace infergate::limits
