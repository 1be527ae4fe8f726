#include "filters/request_metrics/recorder.hpp"

namespace infergate::metrics {

namespace {
double seconds(RequestRecord::Time from, RequestRecord::Time to) {
  return std::chrono::duration<double>(to - from).count();
}
}  // namespace

DerivedTimings deriveTimings(const RequestRecord& r) {
  using R = RequestRecord;
  DerivedTimings t;
  if (R::set(r.accepted) && R::set(r.done)) t.total = seconds(r.accepted, r.done);
  if (r.newConnection && R::set(r.upstreamStart) && R::set(r.upstreamConnected)) {
    // With TLS, the TCP connect and the handshake apart.
    const bool tls = R::set(r.tlsStarted);
    t.upstreamConnect = seconds(r.upstreamStart, tls ? r.tlsStarted : r.upstreamConnected);
    if (tls) t.tlsHandshake = seconds(r.tlsStarted, r.upstreamConnected);
  }
  if (R::set(r.requestSent) && R::set(r.firstByte)) t.upstreamFirstByte = seconds(r.requestSent, r.firstByte);
  // Time to first token is what a client waits once its request is in: from
  // the end of its body to the first content event leaving the model server.
  if (R::set(r.bodyRead) && R::set(r.firstToken)) t.timeToFirstToken = seconds(r.bodyRead, r.firstToken);
  if (R::set(r.firstToken) && R::set(r.lastToken)) {
    const std::uint64_t tokens = r.hasUsage ? r.completionTokens : r.contentEvents;
    if (tokens > 1) t.timePerOutputToken = seconds(r.firstToken, r.lastToken) / static_cast<double>(tokens - 1);
  }
  // Gateway overhead: the request's total time minus the time spent waiting on
  // the client (its upload) and on the upstream (connecting, and from sending
  // the request to its last byte).
  if (t.total >= 0 && R::set(r.upstreamStart)) {
    double waiting = R::set(r.bodyRead) ? seconds(r.accepted, r.bodyRead) : 0;
    if (R::set(r.upstreamConnected)) waiting += seconds(r.upstreamStart, r.upstreamConnected);
    if (R::set(r.requestSent)) {
      const auto end = R::set(r.lastByte) ? r.lastByte : r.done;
      t.upstreamTotal = seconds(r.requestSent, end);
      waiting += t.upstreamTotal;
    }
    t.gatewayOverhead = std::max(0.0, t.total - waiting);
  }
  return t;
}

void recordRequest(const RequestRecord& r, const RequestStats& stats, unsigned w, const LabelSpace& labels) {
  const auto pair = labels.pairIndex(r.route, r.backend);
  stats.requests.add(w, {pair, r.model, LabelSpace::codeIndex(r.status)});
  if (r.cause != FailureCause::None) stats.failures.add(w, {pair, static_cast<std::uint32_t>(r.cause)});
  stats.requestBytes.add(w, {pair}, r.bytesIn);
  stats.responseBytes.add(w, {pair}, r.bytesOut);

  const auto t = deriveTimings(r);
  if (t.total >= 0) stats.requestDuration.observe(w, {pair, r.model}, t.total);
  if (t.gatewayOverhead >= 0) stats.gatewayOverhead.observe(w, {r.route}, t.gatewayOverhead);
  if (!r.routed) return;

  const std::array<std::uint32_t, 2> bm{r.backend, r.model};
  if (t.upstreamConnect >= 0 && r.endpoint != LabelSpace::kNone) stats.upstreamConnect.observe(w, {r.endpoint}, t.upstreamConnect);
  if (t.tlsHandshake >= 0 && r.endpoint != LabelSpace::kNone) stats.tlsHandshake.observe(w, {r.endpoint}, t.tlsHandshake);
  if (t.upstreamFirstByte >= 0) stats.upstreamFirstByte.observe(w, bm, t.upstreamFirstByte);
  if (t.timeToFirstToken >= 0) stats.timeToFirstToken.observe(w, bm, t.timeToFirstToken);
  if (t.timePerOutputToken >= 0) stats.timePerOutputToken.observe(w, bm, t.timePerOutputToken);
  if (r.hasUsage) {
    stats.tokens.add(w, {r.backend, r.model, 0}, r.promptTokens);
    stats.tokens.add(w, {r.backend, r.model, 1}, r.completionTokens);
  } else if (r.stream && r.status == 200 && r.cause == FailureCause::None) {
    // Only a stream that ended normally: one cut by the upstream or left by
    // its client had no chance to report usage, and is counted as a failure.
    stats.streamsWithoutUsage.add(w, bm);
  }
}

void recordTokenGaps(const RequestRecord& r, TokenGapCursor& cursor, const RequestStats& stats, unsigned w) {
  if (r.tokenEvents == cursor.seen || !r.routed) return;
  const std::array<std::uint32_t, 2> bm{r.backend, r.model};
  // The events since the last call all came in one piece, the one that
  // arrived at r.lastToken (the usage filter reads one piece between two
  // calls; the chain runs response filters in reverse, so a piece's events
  // are recorded with the next piece, the last ones at completion): the
  // first is that far from the event before it, the others 0 from each other.
  // The stream's first token has no gap before it.
  if (cursor.seen > 0)
    stats.interTokenLatency.observe(w, bm, std::chrono::duration<double>(r.lastToken - cursor.last).count());
  for (auto alongside = r.tokenEvents - cursor.seen - 1; alongside > 0; --alongside)
    stats.interTokenLatency.observe(w, bm, 0.0);
  cursor.seen = r.tokenEvents;
  cursor.last = r.lastToken;
}

}  // namespace infergate::metrics
