#pragma once
// Client authentication: a route that requires it admits only requests that
// present exactly one configured API key (credentials.hpp), unexpired and
// allowed on the route and the model. Others get 401 (invalid_api_key) or 403
// (model_not_allowed) with the OpenAI error shape. An admitted key's name is
// put on the request's record (access log, samples, the key families), and
// the client's key is never forwarded: the backend's own header replaces it.
#include <ctime>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "filters/auth/api_key_table.hpp"
#include "filters/auth/key_directory.hpp"
#include "filters/auth/auth_stats.hpp"
#include "filters/filter.hpp"
#include "filters/limits/gcra_cells.hpp"

namespace infergate::auth {

// Built once and shared by every route's filter.
struct AuthShared {
  AuthShared(const config::AuthConfig& config, const KeyDirectory* keys, std::shared_ptr<const AuthStats> stats)
      : keys(keys),
        failures(config.max_failures_per_minute
                     ? std::make_unique<limits::GcraCells>(config.max_failures_per_minute, 60'000'000'000)
                     : nullptr),
        stats(std::move(stats)) {}
  // The keys in force (a reload replaces them). Null when auth is off: the
  // shared part is declared for every route, but no filter is built then.
  const KeyDirectory* keys;
  std::unique_ptr<limits::GcraCells> failures;  // refused keys per client address; null = no limit
  std::shared_ptr<const AuthStats> stats;  // null when metrics are off
};

class ApiKeyFilter final : public Filter {
 public:
  // `route`: its index in config order.
  ApiKeyFilter(std::shared_ptr<const AuthShared> shared, std::size_t route, std::uint32_t routeLabel);
  std::string_view name() const override { return "auth"; }
  std::uint8_t phases() const override { return kOnRequest | kOnComplete; }
  FilterStatus onRequest(RequestContext& ctx) override;
  void onComplete(RequestContext& ctx) override;

 private:
  std::shared_ptr<const AuthShared> shared_;
  std::size_t route_;
  std::uint32_t routeLabel_;
};

}  // namespace infergate::auth
