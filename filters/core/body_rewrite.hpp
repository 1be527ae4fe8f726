#pragma once
// What the filters ask the upstream exchange to change in a request body on
// its way out (the exchange's body rewriter carries it out).
#include <array>
#include <cstdint>

namespace infergate {

// How the body's token limits are rewritten on the way out (validation:
// clamp, or a cap with no limit in the body).
struct TokenLimitRewrite {
  std::uint64_t cap = 0;
  std::array<bool, 2> clamp{};  // by key (kMaxTokensKey, kMaxCompletionTokensKey): value (or null) set to cap
  bool insert = false;          // no limit in the body: "max_tokens":cap is added
  bool any() const { return clamp[0] || clamp[1] || insert; }
};

}  // namespace infergate
