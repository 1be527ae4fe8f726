#include "filters/auth/api_key_filter.hpp"

#include <algorithm>

#include "config/model_pattern.hpp"
#include "filters/auth/authenticate.hpp"

namespace infergate::auth {

namespace {

FilterStatus refuse(RequestContext& ctx, FailureCause cause, std::string message) {
  return ctx.fail(errorFor(cause, std::move(message)));
}


}  // namespace

ApiKeyFilter::ApiKeyFilter(std::shared_ptr<const AuthShared> shared, std::size_t route, std::uint32_t routeLabel)
    : shared_(std::move(shared)), route_(route), routeLabel_(routeLabel) {}

FilterStatus ApiKeyFilter::onRequest(RequestContext& ctx) {
  // An address that presented too many refused keys waits before its next
  // key is even looked at, so that keys cannot be guessed at line rate.
  auto* failures = shared_->failures.get();
  const auto cell = failures ? limits::GcraCells::cellOf(ctx.clientAddress) : 0;
  // The clock reading of the body's arrival: the limit is per minute.
  const auto now = failures ? limits::steadyNs(ctx.record->bodyRead) : 0;
  if (failures && !failures->hasRoom(cell, now)) {
    const auto wait = failures->waitNs(cell, now);
    const auto status = ctx.fail(errorFor(FailureCause::RateLimited,
                                          "Too many refused API keys from this address. Retry after the time in "
                                          "Retry-After."));
    ctx.reply->retryAfterSeconds = limits::retryAfterSeconds(wait);
    return status;
  }
  const auto unauthorized = [&](std::string message) {
    if (failures) failures->charge(cell, now);
    return refuse(ctx, FailureCause::ClientUnauthorized, std::move(message));
  };
  const auto& keys = shared_->keys->current(ctx.worker);
  auto verdict = authenticate(ctx.message->base(), keys.table, keys.keys);
  if (!verdict.key) return unauthorized(std::move(verdict.refusal));
  const auto index = *verdict.key;
  const auto& key = keys.keys[index];
  if (!keys.routes[index][route_])
    return refuse(ctx, FailureCause::ClientForbidden, "This API key may not use this route.");
  if (!key.models.empty() && ctx.facts != nullptr && !ctx.facts->model.empty() &&
      std::none_of(key.models.begin(), key.models.end(),
                   [&](const std::string& pattern) { return globMatch(pattern, ctx.facts->model); }))
    return refuse(ctx, FailureCause::ClientForbidden, "This API key may not use the requested model.");
  ctx.record->key = keys.place[index];
  ctx.dropClientCredentials = true;
  return FilterStatus::Continue;
}

void ApiKeyFilter::onComplete(RequestContext& ctx) {
  const auto& r = *ctx.record;
  if (r.key == 0 || !shared_->stats) return;
  shared_->stats->requests.add(ctx.worker, {r.key, routeLabel_});
  if (r.hasUsage) {
    shared_->stats->tokens.add(ctx.worker, {r.key, 0}, r.promptTokens);
    shared_->stats->tokens.add(ctx.worker, {r.key, 1}, r.completionTokens);
  }
}

}  // namespace infergate::auth
