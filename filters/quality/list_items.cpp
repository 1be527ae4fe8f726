#include "filters/quality/list_items.hpp"

#include <algorithm>
#include <array>

namespace infergate::quality {

namespace {

// An inline item longer than this is a clause of prose, not a list entry.
constexpr std::size_t kShortItemBytes = 32;

bool isSentenceEnd(std::string_view item) {
  return item.find_first_of(".!?\n") != std::string_view::npos || item.find("。") != std::string_view::npos;
}

// The longest run of short items between separators (", ", "、", "，", "; ").
std::size_t longestInlineRun(std::string_view text) {
  static constexpr std::array<std::string_view, 4> kSeparators = {",", "、", "，", ";"};
  std::size_t best = 0, run = 0;
  while (!text.empty()) {
    std::size_t at = std::string_view::npos, width = 0;
    for (auto sep : kSeparators)
      if (const auto p = text.find(sep); p < at) at = p, width = sep.size();
    auto item = text.substr(0, at);
    text = at == std::string_view::npos ? std::string_view{} : text.substr(at + width);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\n')) item.remove_prefix(1);
    const bool last = text.empty();
    // The run's last item may close the sentence ("..., samedi et dimanche.").
    if (!item.empty() && item.size() <= kShortItemBytes && (last || !isSentenceEnd(item))) {
      ++run;
      best = std::max(best, run);
    } else {
      run = 0;
    }
  }
  return best;
}

}  // namespace

std::string_view listMarker(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  const auto rest = line.substr(i);
  for (std::string_view bullet : {"- ", "* ", "• ", "・"})
    if (rest.starts_with(bullet)) return line.substr(0, i + bullet.size());
  std::size_t digits = 0;
  while (digits < rest.size() && digits < 3 && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  if (digits > 0 && digits + 1 < rest.size() && (rest[digits] == '.' || rest[digits] == ')') && rest[digits + 1] == ' ')
    return line.substr(0, i + digits + 2);
  return {};
}

std::size_t enumeratedItems(std::string_view answer) {
  answer = answer.substr(0, 16 * 1024);
  std::size_t listLines = 0;
  for (auto rest = answer; !rest.empty();) {
    const auto nl = rest.find('\n');
    if (!listMarker(rest.substr(0, nl)).empty()) ++listLines;
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  return std::max(listLines, longestInlineRun(answer));
}

}  // namespace infergate::quality
