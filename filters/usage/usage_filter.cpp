#include "filters/usage/usage_filter.hpp"

#include "filters/core/kept_capacity.hpp"
#include "filters/core/response_usage.hpp"

namespace infergate {

bool UsageFilter::onResponseHeaders(RequestContext& ctx) {
  auto& s = state(ctx);
  s.captureJson = !ctx.response.eventStream && ctx.response.hasBody && ctx.response.json;
  if (ctx.response.eventStream) s.tap.reset();
  if (s.captureJson) s.json.fresh();
  return ctx.response.eventStream || s.captureJson;
}

void UsageFilter::onResponseData(RequestContext& ctx, std::string_view piece) {
  auto& s = state(ctx);
  if (ctx.response.eventStream) {
    s.tap.feed(piece, *ctx.json, [&ctx] {
      auto& r = *ctx.record;
      if (!RequestRecord::set(r.firstToken)) r.firstToken = ctx.pieceArrived;
      r.lastToken = ctx.pieceArrived;
      ++r.tokenEvents;
    });
  } else if (s.captureJson) {
    if (s.json.size() + piece.size() <= kJsonLimit) {
      s.json->append(piece);
    } else {
      s.captureJson = false;  // too long to read its usage
      s.json->clear();
    }
  }
}

void UsageFilter::onResponseEnd(RequestContext& ctx) {
  auto& s = state(ctx);
  auto& r = *ctx.record;
  if (ctx.response.eventStream) {
    const auto& seen = s.tap.observation();
    r.hasUsage = seen.hasUsage;
    r.promptTokens = seen.promptTokens;
    r.completionTokens = seen.completionTokens;
    r.contentEvents = seen.contentEvents;
    r.streamFinished = seen.done || seen.finished;
  } else if (s.captureJson && ctx.response.complete && !s.json.empty()) {
    const auto usage = readResponseUsage(*ctx.json, *s.json);
    r.hasUsage = usage.found;
    r.promptTokens = usage.promptTokens;
    r.completionTokens = usage.completionTokens;
  }
}

// Every request ends here, whether its answer ended or not: a long answer's
// copy does not stay with the connection.
void UsageFilter::onComplete(RequestContext& ctx) {
  // Every request passes here: only a stream's tap or a large copy has
  // anything to give back (the copy is cleared when the next answer starts).
  auto& s = state(ctx);
  s.json.releaseIfLarge();
  if (ctx.response.eventStream) s.tap.releaseBuffers();  // an event cut by the answer's end
}

}  // namespace infergate
