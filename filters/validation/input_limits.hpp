#pragma once
// A route's input limits (prompt size, message count, max_tokens cap) applied
// to the facts parsed from a request body.
#include <array>
#include <cstdint>

#include "config/config.hpp"
#include "filters/core/body_rewrite.hpp"
#include "filters/core/request_facts.hpp"

namespace infergate {

// Records a violation in `facts` when a limit is exceeded. The token cap
// applies to every limit key present (servers differ in which they read);
// with clamping on, an excessive one is rewritten to the cap instead. With no
// limit key, a cap is inserted unless the route says `max_tokens_when_absent: allow`.
void applyRouteLimits(const config::ValidationConfig& limits, ApiKind api, RequestFacts& facts,
                      TokenLimitRewrite& rewrite);

}  // namespace infergate
