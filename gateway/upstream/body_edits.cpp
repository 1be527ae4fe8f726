#include "gateway/upstream/body_edits.hpp"

#include <algorithm>

namespace infergate {

namespace {
constexpr std::string_view kIncludeUsage = R"("stream_options":{"include_usage":true},)";
}  // namespace

void BodyEdits::plan(const RequestFacts& facts, bool injectStreamUsage, std::string_view renameModel,
                     const TokenLimitRewrite& tokenLimits) {
  count_ = 0;
  if (!facts.isJson) return;
  // Insertions go right after the opening brace, each ending with a comma:
  // the body object has members (a model at least), so the result stays JSON.
  if (injectStreamUsage && facts.stream && !facts.hasStreamOptions)
    splices_[count_++] = {facts.objectStart + 1, 0, kIncludeUsage};
  if (!renameModel.empty() && facts.hasModel) {
    renamedModel_.assign("\"").append(renameModel).append("\"");
    splices_[count_++] = {facts.modelTokenOffset, facts.modelTokenLength, renamedModel_};
  }
  if (tokenLimits.insert) {
    tokenLimit_.assign("\"max_tokens\":").append(std::to_string(tokenLimits.cap)).append(",");
    splices_[count_++] = {facts.objectStart + 1, 0, tokenLimit_};
  } else if (tokenLimits.any()) {
    tokenLimit_ = std::to_string(tokenLimits.cap);
    for (std::size_t k = 0; k < facts.tokenLimits.size(); ++k)
      if (tokenLimits.clamp[k])
        splices_[count_++] = {facts.tokenLimits[k].tokenOffset, facts.tokenLimits[k].tokenLength, tokenLimit_};
  }
  std::stable_sort(splices_.begin(), splices_.begin() + static_cast<std::ptrdiff_t>(count_),
                   [](const BodySplice& a, const BodySplice& b) { return a.offset < b.offset; });
}

std::size_t BodyEdits::editedSize(std::size_t bodySize) const {
  for (const auto& s : splices()) bodySize += s.text.size() - s.removed;
  return bodySize;
}

std::string BodyEdits::apply(std::string_view body) const {
  std::string out;
  out.reserve(editedSize(body.size()));
  std::size_t position = 0;
  for (const auto& s : splices()) {
    out.append(body.substr(position, s.offset - position)).append(s.text);
    position = s.offset + s.removed;
  }
  out.append(body.substr(position));
  return out;
}

}  // namespace infergate
