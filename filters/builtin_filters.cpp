#include "filters/builtin_filters.hpp"

#include "filters/access_log/access_log_filter.hpp"
#include "filters/auth/api_key_filter.hpp"
#include "filters/limits/rate_limit_filter.hpp"
#include "filters/profile/profile_filter.hpp"
#include "filters/quality/feedback_filter.hpp"
#include "filters/quality/sampling.hpp"
#include "filters/quality/sampling_filter.hpp"
#include "filters/request_metrics/request_metrics_filter.hpp"
#include "filters/server_timing/server_timing_filter.hpp"
#include "filters/usage/usage_filter.hpp"
#include "filters/validation/validation_filter.hpp"
#include "metrics/label_space.hpp"

namespace infergate {

namespace {
using Stage = FilterRegistration::Stage;
using Built = std::unique_ptr<Filter>;
using Factory = std::function<Built(const FilterDependencies&, const RouteScope&)>;

// A feature's families are declared once, by the first of its filters built,
// and shared by the filters of every route, and of every filter set built
// again for a reloaded config (gateway/server/generation.hpp). Shared state
// that follows the config is told of a new one once, before the new set's
// filters are built (`reconfigure`).
template <class Stats, class Make>
Factory withStats(Make make) {
  struct Declared {
    const metrics::StatsRegistry* registry = nullptr;
    std::uint64_t generation = 0;
    std::shared_ptr<Stats> stats;
  };
  auto declared = std::make_shared<Declared>();
  return [declared, make](const FilterDependencies& d, const RouteScope& s) -> Built {
    if (declared->registry != &d.stats) {
      *declared = {&d.stats, d.generation, std::make_shared<Stats>(d)};
    } else if (declared->generation != d.generation) {
      declared->generation = d.generation;
      if constexpr (requires(Stats& shared) { shared.reconfigure(d.config); }) declared->stats->reconfigure(d.config);
    }
    return make(d, s, declared->stats);
  };
}

struct DeclaredValidationStats : ValidationStats {
  explicit DeclaredValidationStats(const FilterDependencies& d) : ValidationStats(d.stats, d.labels) {}
};
struct DeclaredAccessLogStats : AccessLogStats {
  explicit DeclaredAccessLogStats(const FilterDependencies& d) : AccessLogStats(d.stats) {}
};

// One key table and one pair of key families for every route's filter.
struct DeclaredAuth : auth::AuthShared {
  explicit DeclaredAuth(const FilterDependencies& d)
      : auth::AuthShared(d.config.auth, d.keys,
                         d.config.metrics.enabled ? std::make_shared<const auth::AuthStats>(d.stats, d.labels)
                                                  : nullptr) {}
};

Built apiKeys(const FilterDependencies& d, const RouteScope& s, std::shared_ptr<DeclaredAuth> shared) {
  if (s.route == nullptr || !d.config.auth.enabled || !s.route->auth_required) return nullptr;
  return std::make_unique<auth::ApiKeyFilter>(std::move(shared), s.index, metrics::LabelSpace::routeIndex(s.index));
}

// One set of live limits for every route's filter (a key's limits hold across routes).
struct DeclaredRateLimits : limits::RateLimitShared {
  explicit DeclaredRateLimits(const FilterDependencies& d)
      : limits::RateLimitShared(d.config, d.stats.workers(), d.workerServices, d.keys) {
    if (d.config.metrics.enabled)
      stats = std::make_shared<const limits::RateLimitStats>(d.stats, d.labels, limiter, redis.get());
  }
};

Built rateLimits(const FilterDependencies& d, const RouteScope& s, std::shared_ptr<DeclaredRateLimits> shared) {
  if (s.route == nullptr || !(shared->limiter.any() || shared->keysMayChange)) return nullptr;
  return std::make_unique<limits::RateLimitFilter>(std::move(shared), s.index, metrics::LabelSpace::routeIndex(s.index));
}

Built feedback(const FilterDependencies& d, const RouteScope&) {
  if (d.samples == nullptr) return nullptr;
  return std::make_unique<quality::FeedbackFilter>(*d.samples, d.labels.gatewayRoute(), d.keys);
}

Built validation(const FilterDependencies& d, const RouteScope& s, std::shared_ptr<DeclaredValidationStats> stats) {
  const auto label = s.route ? metrics::LabelSpace::routeIndex(s.index) : metrics::LabelSpace::kNone;
  return std::make_unique<ValidationFilter>(s.route, label, d.config.metrics.enabled ? stats : nullptr);
}

Built profiling(const FilterDependencies& d, const RouteScope& s) {
  if (s.route == nullptr) return nullptr;
  // The feature bins are the drift monitor's input as well as metrics.
  const bool countBins = d.config.metrics.enabled || d.config.drift.enabled;
  profile::ProfileFilter::Multivariate multivariate{d.forest, d.vectors, d.config.drift.multivariate.threshold};
  return std::make_unique<profile::ProfileFilter>(d.bins, d.baseline, countBins ? &d.profileStats : nullptr,
                                                  multivariate);
}

Built sampling(const FilterDependencies& d, const RouteScope& s) {
  if (s.route == nullptr || d.samples == nullptr) return nullptr;
  const double rate = s.route->sample_rate >= 0 ? s.route->sample_rate : d.config.sampling.rate;
  return std::make_unique<quality::SamplingFilter>(*d.samples, d.config.sampling, quality::rateThreshold(rate));
}

Built serverTiming(const FilterDependencies& d, const RouteScope& s) {
  if (s.route == nullptr || !d.config.metrics.server_timing) return nullptr;
  return std::make_unique<ServerTimingFilter>();
}

// Bodies are read for usage only when something will use what is found
// (metrics, the access log, or scoring: the length flag needs the tokens).
Built usage(const FilterDependencies& d, const RouteScope& s) {
  if (s.route == nullptr || !(d.config.metrics.enabled || d.config.access_log.enabled || d.samples != nullptr))
    return nullptr;
  return std::make_unique<UsageFilter>();
}

// The request families are the server's (the diagnosis reads them too).
Built requestMetrics(const FilterDependencies& d, const RouteScope&) {
  if (!d.config.metrics.enabled || d.requestStats == nullptr) return nullptr;
  return std::make_unique<metrics::RequestMetricsFilter>(*d.requestStats, d.labels);
}

Built accessLog(const FilterDependencies& d, const RouteScope&, std::shared_ptr<DeclaredAccessLogStats> stats) {
  if (d.accessLog == nullptr) return nullptr;
  return std::make_unique<AccessLogFilter>(*d.accessLog, std::move(stats));
}
}  // namespace

std::vector<FilterRegistration> builtinFilters() {
  return {
      {"feedback", Stage::BeforeRouting, feedback},
      {"auth", Stage::Route, withStats<DeclaredAuth>(apiKeys)},
      {"rate_limits", Stage::Route, withStats<DeclaredRateLimits>(rateLimits)},
      {"validation", Stage::Route, withStats<DeclaredValidationStats>(validation)},
      {"profile", Stage::Route, profiling},
      {"sampling", Stage::Route, sampling},
      {"server_timing", Stage::Route, serverTiming},
      {"usage", Stage::Route, usage},
      {"request_metrics", Stage::Route, requestMetrics},
      {"access_log", Stage::Route, withStats<DeclaredAccessLogStats>(accessLog)},
  };
}

}  // namespace infergate
