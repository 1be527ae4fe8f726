#pragma once
// Everything known about one request, accumulated as it happens and read once
// when it completes (metrics, access log; later breakers and samplers). Nobody
// re-measures: durations are derived from these timestamps.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "filters/core/errors.hpp"
#include "filters/core/request_id_text.hpp"

namespace infergate {

struct RequestRecord {
  using Clock = std::chrono::steady_clock;
  using Time = Clock::time_point;

  // Resolved label indexes (see metrics/label_space.hpp); "none" until known.
  std::uint32_t route = 0;
  std::uint32_t backend = 0;
  std::uint32_t endpoint = 0;     // global endpoint id + 1; 0 = none
  std::uint32_t model = 0;
  std::uint32_t key = 0;          // the client's API key (auth.keys index + 1); 0 = none
  // Content events timed so far, counted as they arrive: their gaps are
  // recorded as the stream goes (RequestMetricsFilter), so a long answer
  // costs no memory per token.
  std::uint32_t tokenEvents = 0;

  RequestIdText requestId;
  std::int64_t wallStartMs = 0;   // Unix time of `accepted`, for logs

  Time accepted{};                // first byte of the request seen
  Time bodyRead{};
  Time upstreamStart{};           // routed; picking a connection
  Time tlsStarted{};              // a new https:// connection: TCP connected, handshake begun
  Time upstreamConnected{};       // connection ready (pooled or new)
  Time requestSent{};
  Time firstByte{};               // first upstream response byte
  Time firstToken{};              // first SSE event carrying content
  Time lastToken{};
  Time lastByte{};                // upstream response complete
  Time done{};                    // last byte written to the client

  std::uint64_t bytesIn = 0;      // request head + body from the client
  std::uint64_t bytesOut = 0;     // response bytes written to the client
  unsigned status = 0;            // status sent to the client (0 = none)
  FailureCause cause = FailureCause::None;
  std::uint64_t promptTokens = 0;
  std::uint64_t completionTokens = 0;
  std::uint32_t contentEvents = 0;

  // The flags last, together: a record is kept by every open stream.
  bool routed = false;
  bool newConnection = false;     // upstreamConnected: a connection made for this request
  bool stream = false;            // an SSE response
  bool hasUsage = false;
  bool streamFinished = false;    // the stream said it ended (finish_reason or [DONE])
  bool anomaly = false;           // input outside its model's baseline (always sampled, later)

  static bool set(Time t) { return t != Time{}; }

  void reset() { *this = RequestRecord{}; }
};

}  // namespace infergate
