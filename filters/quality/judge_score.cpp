#include "filters/quality/judge_score.hpp"

namespace infergate::quality {

std::optional<int> parseJudgeScore(std::string_view content) {
  std::size_t i = 0;
  while (i < content.size() && !(content[i] >= '0' && content[i] <= '9')) ++i;
  if (i == content.size()) return std::nullopt;
  if (i > 0 && content[i - 1] == '-') return std::nullopt;  // a negative number
  int value = 0;
  std::size_t digits = 0;
  while (i < content.size() && content[i] >= '0' && content[i] <= '9' && digits < 4) {
    value = value * 10 + (content[i] - '0');
    ++i;
    ++digits;
  }
  if (i + 1 < content.size() && content[i] == '.' && content[i + 1] >= '0' && content[i + 1] <= '9')
    return std::nullopt;  // 4.5: not one of the allowed scores
  if (value < 1 || value > 5) return std::nullopt;
  return value;
}

}  // namespace infergate::quality
