#pragma once
// Writes one access-log line per finished request (through the worker's ring
// of the AccessLog writer): a completion observer.
#include "filters/access_log/access_log.hpp"
#include "filters/filter.hpp"

namespace infergate {

class AccessLogFilter final : public Filter {
 public:
  explicit AccessLogFilter(AccessLog& log) : log_(log) {}
  std::string_view name() const override { return "access_log"; }
  void onComplete(RequestContext& ctx) override;

 private:
  AccessLog& log_;
};

}  // namespace infergate
