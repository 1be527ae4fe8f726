#pragma once
// The second half of reading a request body: every byte must be RFC 8259 JSON.
// On-Demand parsing checks only what the gateway asks it for; values it skips
// (unknown keys, tool schemas, message names) are seen by the model server,
// whose parser may read `NaN`, `01`, `[1 2]` or `"\q"` its own way. A body the
// gateway calls valid must mean the same thing to every strict parser.
#include <simdjson.h>

#include <cstdint>
#include <span>
#include <string_view>

namespace infergate {

enum class StrictJson : std::uint8_t { Valid, Invalid, TooDeep };

// Deeper than any OpenAI request could be: refused, never forwarded (a model
// server's parser may recurse on it).
constexpr unsigned kMaxJsonDepth = 128;

// Walks the whole document from its start (it is rewound first) and checks
// every value: strings and keys unescaped (escapes and surrogates checked),
// numbers parsed, literals spelt out, separators in place, nothing after the
// root, nesting within kMaxJsonDepth. `json` is the document's text, whose
// root is an object. `checkedStrings` are string tokens (as raw_json_token
// gave them) the caller already unescaped: not checked twice.
StrictJson checkStrictJson(simdjson::ondemand::document& doc, std::string_view json,
                           std::span<const std::string_view> checkedStrings);

}  // namespace infergate
