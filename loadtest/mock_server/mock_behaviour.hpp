#pragma once
// How the mock model server behaves for one request: defaults from flags,
// overridden per request by x-mock-* headers so tests can inject faults.
#include <boost/beast/http/fields.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mock {

// What the generated text looks like, for quality-scoring tests (x-mock-output
// or --output): normal words, a refusal, a loop, a truncated answer
// (finish_reason "length"), broken JSON, a judge's reply ("4" or prose), or
// the exact answer a test gave (x-mock-answer, base64 of UTF-8).
enum class Output { Normal, Refusal, Loop, Truncate, BadJson, Judge4, Garbage, Given };
bool parseOutput(std::string_view name, Output& out);

struct Behaviour {
  Output output = Output::Normal;
  unsigned latencyMs = 0;        // non-streaming: delay before the response
  unsigned firstTokenMs = 0;     // streaming: delay before the first content event
  unsigned interTokenMs = 0;     // streaming: delay between content events
  unsigned tokens = 16;          // completion tokens generated
  double errorRate = 0.0;        // share of requests answered with errorStatus
  unsigned errorStatus = 500;
  bool hang = false;             // never send a byte (until the client goes away)
  int resetAfterEvents = -1;     // streaming: reset the connection after N content events
  unsigned status = 0;           // force this status (0 = normal)
  bool headersFirst = true;      // streaming: send headers before the first token (like vLLM)
  unsigned retryAfterSeconds = 0;  // Retry-After on injected errors (0 = none)
  // x-mock-answer: the answer, in pieces of at most a few code points (one per
  // stream event), never cut inside a character.
  std::vector<std::string> answerPieces;
};

// Copies `defaults` and applies x-mock-latency-ms, x-mock-first-token-ms,
// x-mock-inter-token-ms, x-mock-tokens, x-mock-error-rate, x-mock-status,
// x-mock-hang, x-mock-reset-after, x-mock-headers-first, x-mock-answer.
Behaviour behaviourFor(const Behaviour& defaults, const boost::beast::http::fields& headers);

}  // namespace mock
