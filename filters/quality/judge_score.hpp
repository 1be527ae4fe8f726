#pragma once
// Reads the judge's verdict: the rubric asks for one digit from 1 to 5. The
// first integer in the answer counts ("4", "Score: 4", "**4**/5"); anything
// else (no number, a number out of range, a decimal) is a parse failure.
#include <optional>
#include <string_view>

namespace infergate::quality {

std::optional<int> parseJudgeScore(std::string_view content);

}  // namespace infergate::quality
