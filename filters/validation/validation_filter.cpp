#include "filters/validation/validation_filter.hpp"

#include "filters/validation/input_limits.hpp"

namespace infergate {

ValidationFilter::ValidationFilter(const config::RouteConfig* route, std::uint32_t routeLabel,
                                   std::shared_ptr<const ValidationStats> stats)
    : route_(route), routeLabel_(routeLabel), stats_(std::move(stats)) {}

void ValidationFilter::count(RequestContext& ctx, std::uint32_t routeLabel) const {
  if (stats_) stats_->rejected.add(ctx.worker, {routeLabel, static_cast<std::uint32_t>(ctx.facts->violation)});
}

FilterStatus ValidationFilter::reject(RequestContext& ctx, std::uint32_t routeLabel) const {
  count(ctx, routeLabel);
  const auto& facts = *ctx.facts;
  auto error = errorFor(FailureCause::ClientInvalidRequest, facts.error);
  error.param = facts.errorParam;
  return ctx.fail(std::move(error));
}

FilterStatus ValidationFilter::onRequest(RequestContext& ctx) {
  if (!ctx.jsonApi) return FilterStatus::Continue;
  auto& facts = *ctx.facts;
  // Unparseable: nothing to route on, whatever the route's mode; counted
  // under no route, as it could not be routed by model.
  if (!facts.isJson) return reject(ctx, 0);
  if (route_ == nullptr) {
    // Unroutable because malformed (no usable model): say what is wrong, not 404.
    return facts.violation != InputViolation::None ? reject(ctx, 0) : FilterStatus::Continue;
  }
  applyRouteLimits(route_->validation, ctx.api, facts, ctx.tokenLimits);
  if (facts.violation == InputViolation::None) return FilterStatus::Continue;
  if (route_->validation.mode == config::ValidationConfig::Mode::Enforce) return reject(ctx, routeLabel_);
  count(ctx, routeLabel_);  // observe mode: counted and forwarded
  return FilterStatus::Continue;
}

}  // namespace infergate
