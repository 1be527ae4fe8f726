#include "filters/quality/feedback_stats.hpp"

namespace infergate::quality {

void Agreement::add(bool predictedBad, bool labelledBad) {
  if (predictedBad && labelledBad) ++truePositive;
  else if (predictedBad) ++falsePositive;
  else if (labelledBad) ++falseNegative;
  else ++trueNegative;
}

std::optional<double> Agreement::precision() const {
  const auto predicted = truePositive + falsePositive;
  if (predicted == 0) return std::nullopt;
  return static_cast<double>(truePositive) / static_cast<double>(predicted);
}

std::optional<double> Agreement::recall() const {
  const auto actual = truePositive + falseNegative;
  if (actual == 0) return std::nullopt;
  return static_cast<double>(truePositive) / static_cast<double>(actual);
}

std::optional<double> Agreement::f1() const {
  const auto p = precision(), r = recall();
  if (!p || !r) return std::nullopt;
  if (*p + *r == 0) return 0.0;
  return 2 * *p * *r / (*p + *r);
}

}  // namespace infergate::quality
