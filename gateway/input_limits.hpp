#pragma once
// A route's input limits (prompt size, message count, max_tokens cap) applied
// to the facts parsed from a request body.
#include <cstdint>
#include <optional>

#include "config/config.hpp"
#include "gateway/request_facts.hpp"

namespace infergate {

// Records a violation in `facts` when a limit is exceeded; with clamping on, an
// excessive max_tokens is not a violation and `clampTo` gets the cap instead.
void applyRouteLimits(const config::ValidationConfig& limits, RequestFacts& facts, std::optional<std::uint64_t>& clampTo);

}  // namespace infergate
