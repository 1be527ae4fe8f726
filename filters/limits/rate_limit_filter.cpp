#include "filters/limits/rate_limit_filter.hpp"

#include <algorithm>
#include <charconv>

#include "filters/core/request_facts.hpp"
#include "filters/paused_request.hpp"

namespace infergate::limits {

namespace {

// The header text is written into a stack buffer and appended once: these
// lines go on every admitted answer.
char* put(char* p, std::string_view text) { return std::copy(text.begin(), text.end(), p); }

char* putNumber(char* p, std::uint64_t value) { return std::to_chars(p, p + 20, value).ptr; }

// "1.250s", as OpenAI writes its reset times (seconds, to the millisecond).
char* putDuration(char* p, std::int64_t ns) {
  const auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0) / 1'000'000);
  p = putNumber(p, ms / 1000);
  const auto frac = ms % 1000;
  *p++ = '.';
  *p++ = static_cast<char>('0' + frac / 100);
  *p++ = static_cast<char>('0' + frac / 10 % 10);
  *p++ = static_cast<char>('0' + frac % 10);
  *p++ = 's';
  return p;
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

// The tightest request and token budgets of `scopes`' local cells now.
std::pair<Budget, Budget> localBudgets(std::span<LimitSet* const> scopes, std::int64_t now) {
  Budget requests, tokens;
  const auto consider = [now](Budget& into, const Gcra* g) {
    if (g == nullptr) return;
    const auto remaining = g->remaining(now);
    if (into.known && into.remaining <= remaining) return;
    into = {true, g->limit(), g->limitText(), remaining, g->resetNs(now)};
  };
  for (const auto* set : scopes) {
    consider(requests, set->perMinute ? set->perMinute.get() : set->perSecond.get());
    consider(tokens, set->tokens.get());
  }
  return {requests, tokens};
}

// The x-ratelimit-* lines OpenAI's clients read.
void appendBudgets(std::string& out, const Budget& requests, const Budget& tokens) {
  char text[320];  // two kinds x three lines of at most 50 bytes
  char* p = text;
  for (const auto& [kind, b] : {std::pair<std::string_view, const Budget&>{"requests", requests}, {"tokens", tokens}}) {
    if (!b.known) continue;
    p = put(put(put(put(p, "x-ratelimit-limit-"), kind), ": "), b.limitText);
    p = putNumber(put(put(put(p, "\r\nx-ratelimit-remaining-"), kind), ": "), b.remaining);
    p = putDuration(put(put(put(p, "\r\nx-ratelimit-reset-"), kind), ": "), b.resetNs);
    p = put(p, "\r\n");
  }
  out.append(text, static_cast<std::size_t>(p - text));
}

void releaseConcurrency(std::span<LimitSet* const> scopes) {
  for (auto* set : scopes)
    if (set->concurrent) set->inFlight.fetch_sub(1, std::memory_order_relaxed);
}

// Takes a place in each capped scope, or none.
bool takeConcurrency(std::span<LimitSet* const> scopes) {
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    auto& set = *scopes[i];
    if (set.concurrent && set.inFlight.fetch_add(1, std::memory_order_relaxed) >= set.concurrent) {
      set.inFlight.fetch_sub(1, std::memory_order_relaxed);
      releaseConcurrency(scopes.first(i));
      return false;
    }
  }
  return true;
}

}  // namespace

RateLimitShared::RateLimitShared(const config::Config& config, unsigned workers, WorkerServices* services,
                                 auth::KeyDirectory* keys)
    : limiter(config, keys ? keys->names().capacity() : config.auth.keys.size()),
      // A keys file read again may bring keys with limits.
      keysMayChange(keys != nullptr && !config.auth.keys_file.empty()) {
  // With store: redis the store is made even with no limits yet: a reload may bring some.
  if (config.rate_limits.redis) {
    redis = std::make_unique<RedisStore>(config, limiter, workers);
    if (services != nullptr) redis->attach(*services);
  }
  if (keys == nullptr) return;
  // A reload gives each key in force the limits it now has, under its label index.
  keys->onReplaced([this](const auth::KeySnapshot& snapshot) {
    for (std::size_t i = 0; i < snapshot.keys.size(); ++i)
      limiter.setKeyLimits(snapshot.place[i], snapshot.keys[i].name, snapshot.keys[i].limits,
                           [this](LimitSet& set) {
                             if (redis) redis->prepare(set);
                           });
  });
}

void RateLimitShared::reconfigure(const config::Config& config) {
  const auto prepare = [this](LimitSet& set) {
    if (redis) redis->prepare(set);
  };
  limiter.setGlobalLimits(config.rate_limits.global, prepare);
  for (std::size_t r = 0; r < config.routes.size(); ++r)
    limiter.setRouteLimits(r, config.routes[r].name, config.routes[r].limits, prepare);
}

RateLimitFilter::RateLimitFilter(std::shared_ptr<RateLimitShared> shared, std::size_t route, std::uint32_t routeLabel)
    : shared_(std::move(shared)), route_(route), routeLabel_(routeLabel) {}

FilterStatus RateLimitFilter::onRequest(RequestContext& ctx) {
  auto& s = state(ctx);
  auto& limiter = shared_->limiter;
  // The key's, the route's, the gateway's: narrowest first.
  std::array<LimitSet*, 3> scopes{};
  std::size_t n = 0;
  if (auto* key = limiter.key(ctx.record->key)) scopes[n++] = key;
  if (auto* route = limiter.route(route_)) scopes[n++] = route;
  if (auto* global = limiter.global()) scopes[n++] = global;
  if (n == 0) return FilterStatus::Continue;

  if (ctx.facts != nullptr)
    s.estimate = (ctx.facts->promptChars + 3) / 4 +
                 (ctx.facts->maxTokens ? ctx.facts->maxTokens : limiter.defaultCompletionTokens);
  const std::span<LimitSet* const> taken(scopes.data(), n);
  return shared_->redis ? checkShared(ctx, s, taken) : checkLocal(ctx, s, taken);
}

FilterStatus RateLimitFilter::checkLocal(RequestContext& ctx, RateLimitState& s,
                                         std::span<LimitSet* const> scopes) const {
  const auto now = steadyNs(ctx.record->bodyRead);
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    if (auto refused = takeFrom(*scopes[i], now, s.estimate)) {
      for (std::size_t j = 0; j < s.count; ++j) giveBack(*s.taken[j], now, s.estimate, true);
      s.count = 0;
      const auto status = refuse(ctx, refused->kind, refused->waitNs);
      // The headers of the scope that refused, so the client sees why.
      const auto [requests, tokens] = localBudgets(scopes.subspan(i, 1), now);
      appendBudgets(ctx.reply->headers, requests, tokens);
      return status;
    }
    s.taken[s.count++] = scopes[i];
  }
  return FilterStatus::Continue;
}

FilterStatus RateLimitFilter::checkShared(RequestContext& ctx, RateLimitState& s,
                                          std::span<LimitSet* const> scopes) const {
  if (!takeConcurrency(scopes)) return refuse(ctx, LimitKind::Concurrent, 1'000'000'000);
  for (auto* set : scopes) s.taken[s.count++] = set;
  PausedRequest paused(ctx);
  const auto failure = shared_->redis->check(
      ctx.worker, scopes, s.estimate, [this, paused](const StoreVerdict& verdict) mutable {
        // Gone (the connection closed meanwhile): its completion already released what it held.
        if (auto* c = paused.context()) paused.resume(onVerdict(*c, verdict));
      });
  if (!failure) return FilterStatus::Pause;
  StoreVerdict verdict;
  verdict.failure = *failure;
  return onVerdict(ctx, verdict);
}

FilterStatus RateLimitFilter::onVerdict(RequestContext& ctx, const StoreVerdict& verdict) const {
  auto& s = state(ctx);
  const std::span<LimitSet* const> scopes(s.taken.data(), s.count);
  switch (verdict.outcome) {
    case StoreVerdict::Outcome::Admitted:
      s.sharedTaken = true;
      s.requests = verdict.requests;
      s.tokens = verdict.tokens;
      return FilterStatus::Continue;
    case StoreVerdict::Outcome::Refused: {
      releaseConcurrency(scopes);
      s.count = 0;
      const auto status = refuse(ctx, verdict.refusedKind, verdict.waitNs);
      appendBudgets(ctx.reply->headers, verdict.requests, verdict.tokens);
      return status;
    }
    case StoreVerdict::Outcome::Failed: {
      const bool open = shared_->redis->failOpen();
      if (shared_->stats)
        shared_->stats->storeFailures.add(ctx.worker, {static_cast<std::uint32_t>(verdict.failure), open ? 0u : 1u});
      if (open) return FilterStatus::Continue;  // admitted unchecked; the local concurrency caps still hold
      releaseConcurrency(scopes);
      s.count = 0;
      const auto status = ctx.fail(errorFor(FailureCause::RateLimitStoreDown));
      ctx.reply->retryAfterSeconds = 1;
      return status;
    }
  }
  return FilterStatus::Continue;
}

FilterStatus RateLimitFilter::refuse(RequestContext& ctx, LimitKind kind, std::int64_t waitNs) const {
  if (shared_->stats)
    shared_->stats->limited.add(ctx.worker, {routeLabel_, ctx.record->key, static_cast<std::uint32_t>(kind)});
  auto error = errorFor(FailureCause::RateLimited);
  if (kind == LimitKind::Tokens) {
    error.type = "tokens";
    error.message = "Token rate limit reached. Retry after the time in Retry-After.";
  } else if (kind == LimitKind::Concurrent) {
    error.message = "Too many requests in flight for this key or route. Retry shortly.";
  }
  const auto status = ctx.fail(std::move(error));
  ctx.reply->retryAfterSeconds = retryAfterSeconds(waitNs);
  return status;
}

bool RateLimitFilter::onResponseHeaders(RequestContext& ctx) {
  const auto& s = state(ctx);
  if (s.count == 0) return false;
  if (shared_->redis) {
    appendBudgets(ctx.responseHeaders, s.requests, s.tokens);
  } else {
    const auto [requests, tokens] =
        localBudgets(std::span<LimitSet* const>(s.taken.data(), s.count), steadyNs(ctx.record->firstByte));
    appendBudgets(ctx.responseHeaders, requests, tokens);
  }
  return false;
}

void RateLimitFilter::onResponseEnd(RequestContext& ctx) { settle(ctx); }

void RateLimitFilter::onComplete(RequestContext& ctx) { settle(ctx); }

void RateLimitFilter::settle(RequestContext& ctx) const {
  auto& s = state(ctx);
  if (s.count == 0) return;
  const std::span<LimitSet* const> scopes(s.taken.data(), s.count);
  const auto& r = *ctx.record;
  // Settle the token estimate: the real usage, or nothing if the model never
  // saw the request (another filter refused it, or no endpoint could serve).
  const bool reachedModel = RequestRecord::set(r.requestSent);
  std::int64_t correction = 0;
  if (!reachedModel) correction = -static_cast<std::int64_t>(s.estimate);
  else if (r.hasUsage) correction = static_cast<std::int64_t>(r.promptTokens + r.completionTokens) -
                                    static_cast<std::int64_t>(s.estimate);
  if (shared_->redis) {
    if (s.sharedTaken && correction != 0) shared_->redis->adjustTokens(ctx.worker, scopes, correction);
  } else if (correction != 0) {
    const auto now = steadyNs(r.lastByte);
    for (auto* set : scopes)
      if (set->tokens) set->tokens->adjust(now, correction);
  }
  releaseConcurrency(scopes);
  s.count = 0;
}

}  // namespace infergate::limits
