#include "filters/auth/api_key_filter.hpp"

#include <algorithm>

#include "config/model_pattern.hpp"
#include "filters/auth/credentials.hpp"

namespace infergate::auth {

namespace {

FilterStatus refuse(RequestContext& ctx, FailureCause cause, std::string message) {
  return ctx.fail(errorFor(cause, std::move(message)));
}

}  // namespace

ApiKeyFilter::ApiKeyFilter(std::shared_ptr<const AuthShared> shared, const config::RouteConfig& route,
                           std::uint32_t routeLabel)
    : shared_(std::move(shared)), routeLabel_(routeLabel) {
  for (const auto& key : shared_->keys)
    allowedHere_.push_back(key.routes.empty() ||
                           std::find(key.routes.begin(), key.routes.end(), route.name) != key.routes.end());
}

FilterStatus ApiKeyFilter::onRequest(RequestContext& ctx) {
  // The messages never repeat what was presented: a key is a secret even when wrong.
  const auto presented = presentedKey(ctx.message->base());
  if (presented.outcome == PresentedKey::Outcome::Missing)
    return refuse(ctx, FailureCause::ClientUnauthorized,
                  "No API key was provided: send it as 'Authorization: Bearer <key>' or in an 'api-key' header.");
  if (presented.outcome == PresentedKey::Outcome::Malformed)
    return refuse(ctx, FailureCause::ClientUnauthorized, "Malformed API key: " + std::string(presented.reason) + ".");
  const auto index = shared_->table.find(presented.key);
  if (!index) return refuse(ctx, FailureCause::ClientUnauthorized, "Incorrect API key provided.");
  const auto& key = shared_->keys[*index];
  if (key.expires_unix && std::time(nullptr) >= *key.expires_unix)
    return refuse(ctx, FailureCause::ClientUnauthorized, "This API key has expired.");
  if (!allowedHere_[*index])
    return refuse(ctx, FailureCause::ClientForbidden, "This API key may not use this route.");
  if (!key.models.empty() && ctx.facts != nullptr && !ctx.facts->model.empty() &&
      std::none_of(key.models.begin(), key.models.end(),
                   [&](const std::string& pattern) { return globMatch(pattern, ctx.facts->model); }))
    return refuse(ctx, FailureCause::ClientForbidden, "This API key may not use the requested model.");
  ctx.record->key = *index + 1;
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
