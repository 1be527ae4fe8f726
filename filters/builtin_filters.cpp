#include "filters/builtin_filters.hpp"

#include "filters/access_log/access_log_filter.hpp"
#include "filters/profile/profile_filter.hpp"
#include "filters/quality/feedback_filter.hpp"
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

Built feedback(const FilterDependencies& d, const RouteScope&) {
  if (d.samples == nullptr) return nullptr;
  return std::make_unique<quality::FeedbackFilter>(*d.samples);
}

Built validation(const FilterDependencies& d, const RouteScope& s) {
  const auto label = s.route ? metrics::LabelSpace::routeIndex(s.index) : metrics::LabelSpace::kNone;
  return std::make_unique<ValidationFilter>(s.route, label, d.config.metrics.enabled);
}

Built profiling(const FilterDependencies& d, const RouteScope& s) {
  if (s.route == nullptr) return nullptr;
  return std::make_unique<profile::ProfileFilter>(d.bins, d.baseline, d.config.metrics.enabled);
}

Built sampling(const FilterDependencies& d, const RouteScope& s) {
  if (s.route == nullptr || d.samples == nullptr) return nullptr;
  return std::make_unique<quality::SamplingFilter>(*d.samples, s.index);
}

Built serverTiming(const FilterDependencies& d, const RouteScope& s) {
  if (s.route == nullptr || !d.config.metrics.server_timing) return nullptr;
  return std::make_unique<ServerTimingFilter>();
}

// Bodies are read for usage only when something will use what is found.
Built usage(const FilterDependencies& d, const RouteScope& s) {
  if (s.route == nullptr || !(d.config.metrics.enabled || d.config.access_log.enabled)) return nullptr;
  return std::make_unique<UsageFilter>();
}

Built requestMetrics(const FilterDependencies& d, const RouteScope&) {
  if (!d.config.metrics.enabled) return nullptr;
  return std::make_unique<metrics::RequestMetricsFilter>();
}

Built accessLog(const FilterDependencies& d, const RouteScope&) {
  if (d.accessLog == nullptr) return nullptr;
  return std::make_unique<AccessLogFilter>(*d.accessLog);
}
}  // namespace

std::vector<FilterRegistration> builtinFilters() {
  return {
      {"feedback", Stage::BeforeRouting, feedback},
      {"validation", Stage::Route, validation},
      {"profile", Stage::Route, profiling},
      {"sampling", Stage::Route, sampling},
      {"server_timing", Stage::Route, serverTiming},
      {"usage", Stage::Route, usage},
      {"request_metrics", Stage::Route, requestMetrics},
      {"access_log", Stage::Route, accessLog},
  };
}

}  // namespace infergate
