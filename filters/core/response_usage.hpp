#pragma once
// Token usage from a whole (non-streaming) JSON response body.
#include <simdjson.h>

#include <cstdint>
#include <string>

namespace infergate {

struct ResponseUsage {
  bool found = false;
  std::uint64_t promptTokens = 0;
  std::uint64_t completionTokens = 0;
};

// Reads prompt_tokens and completion_tokens from a `usage` object into `out`.
void readUsageObject(simdjson::ondemand::object usage, ResponseUsage& out);

// `body` gets simdjson padding reserved in place (it is the relay's own copy).
ResponseUsage readResponseUsage(simdjson::ondemand::parser& parser, std::string& body);

}  // namespace infergate
