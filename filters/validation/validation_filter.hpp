#pragma once
// Input validation: a request the gateway cannot read (not JSON, a malformed
// field) or one over its route's limits (prompt size, messages, max_tokens) is
// counted by reason and, in enforce mode, answered 400 with the OpenAI error
// shape; a token cap becomes a body rewrite for the exchange.
#include <cstdint>
#include <memory>

#include "config/config.hpp"
#include "filters/filter.hpp"
#include "filters/validation/validation_stats.hpp"

namespace infergate {

class ValidationFilter final : public Filter {
 public:
  // `route` is null for the chain of requests no route matched; `stats` null when metrics are off.
  ValidationFilter(const config::RouteConfig* route, std::uint32_t routeLabel, std::shared_ptr<const ValidationStats> stats);
  std::string_view name() const override { return "validation"; }
  std::uint8_t phases() const override { return kOnRequest; }
  FilterStatus onRequest(RequestContext& ctx) override;

 private:
  void count(RequestContext& ctx, std::uint32_t routeLabel) const;
  FilterStatus reject(RequestContext& ctx, std::uint32_t routeLabel) const;

  const config::RouteConfig* route_;
  std::uint32_t routeLabel_;
  std::shared_ptr<const ValidationStats> stats_;
};

}  // namespace infergate
