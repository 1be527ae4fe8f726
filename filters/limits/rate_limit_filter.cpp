#include "filters/limits/rate_limit_filter.hpp"

#include <algorithm>
#include <charconv>

#include "filters/core/request_facts.hpp"

namespace infergate::limits {

namespace {

void appendNumber(std::string& out, std::uint64_t value) {
  char text[24];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  out.append(text, static_cast<std::size_t>(end - text));
}

// "1.250s", as OpenAI writes its reset times (seconds, to the millisecond).
void appendDuration(std::string& out, std::int64_t ns) {
  const auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0) / 1'000'000);
  appendNumber(out, ms / 1000);
  const auto frac = ms % 1000;
  out.push_back('.');
  out.push_back(static_cast<char>('0' + frac / 100));
  out.push_back(static_cast<char>('0' + frac / 10 % 10));
  out.push_back(static_cast<char>('0' + frac % 10));
  out.push_back('s');
}

void appendLine(std::string& out, std::string_view name, std::uint64_t value) {
  out.append(name).append(": ");
  appendNumber(out, value);
  out.append("\r\n");
}

// Gives back what `set` took for this request.
void giveBack(LimitSet& set, std::int64_t now, std::uint64_t tokens, bool concurrent) {
  if (set.perSecond) set.perSecond->adjust(now, -1);
  if (set.perMinute) set.perMinute->adjust(now, -1);
  if (set.tokens) set.tokens->adjust(now, -static_cast<std::int64_t>(tokens));
  if (concurrent && set.concurrent) set.inFlight.fetch_sub(1, std::memory_order_relaxed);
}

struct Refusal {
  LimitKind kind = LimitKind::Requests;
  std::int64_t waitNs = 0;
};

// Takes one request and `tokens` from `set`, or nothing.
std::optional<Refusal> takeFrom(LimitSet& set, std::int64_t now, std::uint64_t tokens) {
  if (set.concurrent && set.inFlight.fetch_add(1, std::memory_order_relaxed) >= set.concurrent) {
    set.inFlight.fetch_sub(1, std::memory_order_relaxed);
    return Refusal{LimitKind::Concurrent, 1'000'000'000};
  }
  const auto undo = [&](bool second, bool minute) {
    if (second) set.perSecond->adjust(now, -1);
    if (minute) set.perMinute->adjust(now, -1);
    if (set.concurrent) set.inFlight.fetch_sub(1, std::memory_order_relaxed);
  };
  if (set.perSecond)
    if (auto t = set.perSecond->take(now, 1); !t.admitted) {
      undo(false, false);
      return Refusal{LimitKind::Requests, t.waitNs};
    }
  if (set.perMinute)
    if (auto t = set.perMinute->take(now, 1); !t.admitted) {
      undo(set.perSecond != nullptr, false);
      return Refusal{LimitKind::Requests, t.waitNs};
    }
  if (set.tokens)
    if (auto t = set.tokens->take(now, tokens); !t.admitted) {
      undo(set.perSecond != nullptr, set.perMinute != nullptr);
      return Refusal{LimitKind::Tokens, t.waitNs};
    }
  return std::nullopt;
}

}  // namespace

RateLimitFilter::RateLimitFilter(std::shared_ptr<RateLimitShared> shared, std::size_t route, std::uint32_t routeLabel)
    : shared_(std::move(shared)), route_(route), routeLabel_(routeLabel) {}

FilterStatus RateLimitFilter::onRequest(RequestContext& ctx) {
  auto& s = state(ctx);
  auto& limiter = shared_->limiter;
  // The key's, the route's, the gateway's: narrowest first.
  std::array<LimitSet*, 3> scopes{};
  std::size_t n = 0;
  const auto key = ctx.record->key;
  if (key != 0 && key <= limiter.keys.size() && limiter.keys[key - 1]) scopes[n++] = limiter.keys[key - 1].get();
  if (limiter.routes[route_]) scopes[n++] = limiter.routes[route_].get();
  if (limiter.global) scopes[n++] = limiter.global.get();
  if (n == 0) return FilterStatus::Continue;

  if (ctx.facts != nullptr)
    s.estimate = (ctx.facts->promptChars + 3) / 4 +
                 (ctx.facts->maxTokens ? ctx.facts->maxTokens : limiter.defaultCompletionTokens);
  const auto now = steadyNowNs();
  for (std::size_t i = 0; i < n; ++i) {
    if (auto refused = takeFrom(*scopes[i], now, s.estimate)) {
      for (std::size_t j = 0; j < s.count; ++j) giveBack(*s.taken[j], now, s.estimate, true);
      s.count = 0;
      if (shared_->stats)
        shared_->stats->limited.add(ctx.worker, {routeLabel_, key, static_cast<std::uint32_t>(refused->kind)});
      auto error = errorFor(FailureCause::RateLimited);
      if (refused->kind == LimitKind::Tokens) {
        error.type = "tokens";
        error.message = "Token rate limit reached. Retry after the time in Retry-After.";
      } else if (refused->kind == LimitKind::Concurrent) {
        error.message = "Too many requests in flight for this key or route. Retry shortly.";
      }
      const auto status = ctx.fail(std::move(error));
      ctx.reply.retryAfterSeconds = retryAfterSeconds(refused->waitNs);
      // The headers of the scope that refused, so the client sees why.
      RateLimitState refusedBy;
      refusedBy.taken[0] = scopes[i];
      refusedBy.count = 1;
      appendHeaders(ctx.reply.headers, refusedBy, now);
      return status;
    }
    s.taken[s.count++] = scopes[i];
  }
  return FilterStatus::Continue;
}

bool RateLimitFilter::onResponseHeaders(RequestContext& ctx) {
  const auto& s = state(ctx);
  if (s.count > 0) appendHeaders(ctx.responseHeaders, s, steadyNowNs());
  return false;
}

void RateLimitFilter::onResponseEnd(RequestContext& ctx) { settle(ctx); }

void RateLimitFilter::onComplete(RequestContext& ctx) { settle(ctx); }

void RateLimitFilter::settle(RequestContext& ctx) const {
  auto& s = state(ctx);
  if (s.count == 0) return;
  const auto now = steadyNowNs();
  const auto& r = *ctx.record;
  // Settle the token estimate: the real usage, or nothing if the model never
  // saw the request (another filter refused it, or no endpoint could serve).
  const bool reachedModel = RequestRecord::set(r.requestSent);
  std::int64_t correction = 0;
  if (!reachedModel) correction = -static_cast<std::int64_t>(s.estimate);
  else if (r.hasUsage) correction = static_cast<std::int64_t>(r.promptTokens + r.completionTokens) -
                                    static_cast<std::int64_t>(s.estimate);
  for (std::size_t i = 0; i < s.count; ++i) {
    auto& set = *s.taken[i];
    if (set.tokens && correction != 0) set.tokens->adjust(now, correction);
    if (set.concurrent) set.inFlight.fetch_sub(1, std::memory_order_relaxed);
  }
  s.count = 0;
}

void RateLimitFilter::appendHeaders(std::string& out, const RateLimitState& s, std::int64_t now) const {
  const Gcra* requests = nullptr;
  const Gcra* tokens = nullptr;
  for (std::size_t i = 0; i < s.count; ++i) {
    const auto& set = *s.taken[i];
    if (const Gcra* r = set.perMinute ? set.perMinute.get() : set.perSecond.get())
      if (!requests || r->remaining(now) < requests->remaining(now)) requests = r;
    if (set.tokens && (!tokens || set.tokens->remaining(now) < tokens->remaining(now))) tokens = set.tokens.get();
  }
  if (requests) {
    appendLine(out, "x-ratelimit-limit-requests", requests->limit());
    appendLine(out, "x-ratelimit-remaining-requests", requests->remaining(now));
    out.append("x-ratelimit-reset-requests: ");
    appendDuration(out, requests->resetNs(now));
    out.append("\r\n");
  }
  if (tokens) {
    appendLine(out, "x-ratelimit-limit-tokens", tokens->limit());
    appendLine(out, "x-ratelimit-remaining-tokens", tokens->remaining(now));
    out.append("x-ratelimit-reset-tokens: ");
    appendDuration(out, tokens->resetNs(now));
    out.append("\r\n");
  }
}

}  // namespace infergate::limits
