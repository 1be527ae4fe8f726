#include "gateway/input_limits.hpp"

#include <string>

namespace infergate {

void applyRouteLimits(const config::ValidationConfig& limits, RequestFacts& facts, std::optional<std::uint64_t>& clampTo) {
  if (limits.max_prompt_chars > 0 && facts.promptChars > limits.max_prompt_chars)
    facts.violate(InputViolation::PromptTooLong, "messages",
                  "The prompt has " + std::to_string(facts.promptChars) + " characters; this route allows " +
                      std::to_string(limits.max_prompt_chars) + ".");
  if (limits.max_messages > 0 && facts.messages > limits.max_messages)
    facts.violate(InputViolation::TooManyMessages, "messages",
                  "The request has " + std::to_string(facts.messages) + " messages; this route allows " +
                      std::to_string(limits.max_messages) + ".");
  if (limits.max_tokens_cap > 0 && facts.hasMaxTokens && facts.maxTokens > limits.max_tokens_cap) {
    if (limits.clamp_max_tokens) clampTo = limits.max_tokens_cap;
    else
      facts.violate(InputViolation::MaxTokensTooLarge, "max_tokens",
                    "'max_tokens' is " + std::to_string(facts.maxTokens) + "; this route allows at most " +
                        std::to_string(limits.max_tokens_cap) + ".");
  }
}

}  // namespace infergate
