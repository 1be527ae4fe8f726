#pragma once
// metrics.server_timing: adds a Server-Timing header to every proxied answer,
// with the time the upstream took to start answering (connect included) and
// the gateway's own time so far, for browser and client tooling.
#include "filters/filter.hpp"

namespace infergate {

class ServerTimingFilter final : public Filter {
 public:
  std::string_view name() const override { return "server_timing"; }
  std::uint8_t phases() const override { return kOnResponseHeaders; }
  bool onResponseHeaders(RequestContext& ctx) override;
};

}  // namespace infergate
