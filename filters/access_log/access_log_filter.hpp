#pragma once
// Writes one access-log line per finished request (through the worker's ring
// of the AccessLog writer): a completion observer.
#include "filters/access_log/access_log.hpp"
#include "filters/access_log/access_log_stats.hpp"
#include "filters/filter.hpp"

namespace infergate {

class AccessLogFilter final : public Filter {
 public:
  AccessLogFilter(AccessLog& log, std::shared_ptr<const AccessLogStats> stats) : log_(log), stats_(std::move(stats)) {}
  std::string_view name() const override { return "access_log"; }
  std::uint8_t phases() const override { return kOnComplete; }
  void onComplete(RequestContext& ctx) override;

 private:
  AccessLog& log_;
  std::shared_ptr<const AccessLogStats> stats_;
};

}  // namespace infergate
