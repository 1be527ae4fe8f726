#pragma once
// The edits the gateway makes to a request body on its way upstream: usage
// injection for streams, the route's model rename, and the token cap (clamp or
// insert). Planned once per request from the parsed facts; the relay sends the
// body's pieces and the edits' texts as one gathered write, never copying the
// body.
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "filters/validation/input_limits.hpp"
#include "filters/core/request_facts.hpp"

namespace infergate {

struct BodySplice {
  std::size_t offset;      // where in the body
  std::size_t removed;     // bytes of the body it replaces
  std::string_view text;   // what goes there (valid until the next plan)
};

class BodyEdits {
 public:
  // At most: usage injection, model rename, and a clamp of both token limits
  // or one inserted limit.
  static constexpr std::size_t kMaxSplices = 4;

  void plan(const RequestFacts& facts, bool injectStreamUsage, std::string_view renameModel,
            const TokenLimitRewrite& tokenLimits);
  std::span<const BodySplice> splices() const { return {splices_.data(), count_}; }
  bool empty() const { return count_ == 0; }
  std::size_t editedSize(std::size_t bodySize) const;
  // The edited body as one string (tests and fuzzing; the relay sends pieces).
  std::string apply(std::string_view body) const;

 private:
  std::array<BodySplice, kMaxSplices> splices_{};
  std::size_t count_ = 0;
  std::string renamedModel_;
  std::string tokenLimit_;  // the cap's digits, or "max_tokens":cap, to insert
};

}  // namespace infergate
