#pragma once
// The request families: every finished request's outcome, sizes, durations and
// tokens, declared once on the StatsRegistry and recorded by the request
// metrics filter (recorder.hpp) through these handles.
#include <cstdint>

#include "config/config.hpp"
#include "filters/core/errors.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate::metrics {

// Failure causes as a label dimension (`name`: "cause", "reason"); "none" left out.
Dimension causeDimension(const char* name);

struct RequestStats {
  RequestStats(StatsRegistry& registry, const LabelSpace& labels, const config::HistogramBuckets& buckets);
  RequestStats(const RequestStats&) = delete;  // the export rule for bytes refers to this object
  RequestStats& operator=(const RequestStats&) = delete;

  Counter<3> requests;             // pair, model, code
  Counter<2> failures;             // pair, cause
  Counter<3> tokens;               // backend, model, kind (0 prompt, 1 completion)
  Counter<2> streamsWithoutUsage;  // backend, model
  Counter<1> requestBytes;         // pair
  Counter<1> responseBytes;        // pair
  Histogram<2> requestDuration;    // pair, model
  Histogram<1> upstreamConnect;    // endpoint
  Histogram<1> tlsHandshake;       // endpoint (https:// only)
  Histogram<2> upstreamFirstByte;  // backend, model
  Histogram<2> timeToFirstToken;   // backend, model
  Histogram<2> interTokenLatency;  // backend, model
  Histogram<2> timePerOutputToken; // backend, model
  Histogram<1> gatewayOverhead;    // route
};

}  // namespace infergate::metrics
