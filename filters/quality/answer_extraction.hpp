#pragma once
// Reads the answer out of a non-streaming JSON response, and the prompt out of
// a request body, for sampled requests only (off the request path).
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "filters/core/captured_output.hpp"
#include "filters/core/response_usage.hpp"

namespace infergate::quality {

// choices[0]: message.content (string or text parts), text (completions),
// message.tool_calls, finish_reason; and usage. False when `body` is not a
// JSON object (an error page, a cut capture).
bool extractAnswer(simdjson::ondemand::parser& parser, std::string_view body, CapturedOutput& out, ResponseUsage& usage);

// The prompt as text: each message as "role: content" on its own lines (chat),
// or the prompt / input string (completions, embeddings). At most `maxBytes`.
std::string extractPrompt(simdjson::ondemand::parser& parser, std::string_view body, std::size_t maxBytes);

}  // namespace infergate::quality
