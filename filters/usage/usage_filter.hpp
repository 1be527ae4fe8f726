#pragma once
// Token accounting from the answer as it passes: SSE events are timed (first
// token, every content event for inter-token latency) and read for `usage`;
// a JSON answer is kept (up to a cap) and its usage read at the end. The
// results go into the RequestRecord that metrics and the access log read.
#include <string>

#include "filters/core/kept_capacity.hpp"
#include "filters/core/sse_tap.hpp"
#include "filters/filter.hpp"

namespace infergate {

struct UsageState {
  SseTap tap;
  OnDemandBuffer json;    // a non-streaming JSON answer, up to kJsonLimit
  bool captureJson = false;
  // Per request: only what every request touches. The tap and the JSON copy
  // are reset when an answer starts using them (most answers use one).
  void reset() { captureJson = false; }
};

class UsageFilter final : public StatefulFilter<UsageState> {
 public:
  // Non-streaming JSON answers up to this size are kept to read their usage.
  static constexpr std::size_t kJsonLimit = 4 * 1024 * 1024;

  std::string_view name() const override { return "usage"; }
  std::uint8_t phases() const override { return kOnResponseHeaders | kOnResponseEnd | kOnComplete; }
  bool onResponseHeaders(RequestContext& ctx) override;
  void onResponseData(RequestContext& ctx, std::string_view piece) override;
  void onResponseEnd(RequestContext& ctx) override;
  void onComplete(RequestContext& ctx) override;
};

}  // namespace infergate
