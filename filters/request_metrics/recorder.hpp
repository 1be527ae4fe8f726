#pragma once
// Turns a completed RequestRecord into metric updates on the worker's shard.
// Runs on the worker thread at the end of each request: no lock, no lookup by
// name, no allocation.
#include "filters/core/request_record.hpp"
#include "filters/request_metrics/request_stats.hpp"

namespace infergate::metrics {

// Durations derived from a record, in seconds; negative when not applicable.
struct DerivedTimings {
  double total = -1;
  double upstreamConnect = -1;   // new connections only: the TCP connect
  double tlsHandshake = -1;      // new https:// connections only
  double upstreamFirstByte = -1;
  double timeToFirstToken = -1;
  double timePerOutputToken = -1;
  double gatewayOverhead = -1;
  double upstreamTotal = -1;
};

DerivedTimings deriveTimings(const RequestRecord& r);

// Worker `worker`'s thread: the finished request into its shard of `stats`.
void recordRequest(const RequestRecord& record, const RequestStats& stats, unsigned worker, const LabelSpace& labels);

// How far a stream's inter-token gaps are recorded: per request.
struct TokenGapCursor {
  std::uint32_t seen = 0;       // content events whose gap is recorded
  RequestRecord::Time last{};   // the arrival of the last of them
  void reset() { *this = TokenGapCursor{}; }
};

// Records the gaps before the content events timed since `cursor` (the
// record's tokenEvents and lastToken, kept by the usage filter) as
// inter-token latency, as a stream goes: nothing is held per token.
void recordTokenGaps(const RequestRecord& record, TokenGapCursor& cursor, const RequestStats& stats, unsigned worker);

}  // namespace infergate::metrics
