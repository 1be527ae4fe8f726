#include "filters/validation/input_limits.hpp"

#include <string>

namespace infergate {

void applyRouteLimits(const config::ValidationConfig& limits, ApiKind api, RequestFacts& facts,
                      TokenLimitRewrite& rewrite) {
  rewrite = {};
  if (limits.max_prompt_chars > 0 && facts.promptChars > limits.max_prompt_chars)
    facts.violate(InputViolation::PromptTooLong, "messages",
                  "The prompt has " + std::to_string(facts.promptChars) + " characters; this route allows " +
                      std::to_string(limits.max_prompt_chars) + ".");
  if (limits.max_messages > 0 && facts.messages > limits.max_messages)
    facts.violate(InputViolation::TooManyMessages, "messages",
                  "The request has " + std::to_string(facts.messages) + " messages; this route allows " +
                      std::to_string(limits.max_messages) + ".");
  if (limits.max_tokens_cap == 0 || api == ApiKind::Embedding) return;
  rewrite.cap = limits.max_tokens_cap;
  for (std::size_t k = 0; k < facts.tokenLimits.size(); ++k) {
    const auto& limit = facts.tokenLimits[k];
    // A value the gateway cannot read (a violation: refused unless the route
    // only observes) is forwarded as the cap, never as the server would read it.
    if (limit.unreadable) rewrite.clamp[k] = true;
    if (!limit.present || limit.value <= limits.max_tokens_cap) continue;
    if (limits.clamp_max_tokens) {
      rewrite.clamp[k] = true;
    } else {
      const auto name = kTokenLimitKeyNames[k];
      facts.violate(InputViolation::MaxTokensTooLarge, name,
                    "'" + std::string(name) + "' is " + std::to_string(limit.value) + "; this route allows at most " +
                        std::to_string(limits.max_tokens_cap) + ".");
    }
  }
  // Without a limit the server generates up to its own default (often the
  // whole context): the cap would mean nothing to a client that omits it.
  if (facts.hasMaxTokens || !limits.insert_max_tokens_when_absent) return;
  // A null limit is the server's default too: it becomes the cap in place (a
  // second key would leave the server to choose between them).
  for (std::size_t k = 0; k < facts.tokenLimits.size(); ++k)
    if (facts.tokenLimits[k].null) rewrite.clamp[k] = true;
  rewrite.insert = !rewrite.any() && facts.members > 0;
}

}  // namespace infergate
