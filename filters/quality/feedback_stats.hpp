#pragma once
// How well a detector's "bad" verdict agrees with human labels: precision,
// recall and F1 over the most recent labelled samples.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace infergate::quality {

struct Agreement {
  std::size_t truePositive = 0, falsePositive = 0, falseNegative = 0, trueNegative = 0;

  void add(bool predictedBad, bool labelledBad);
  std::size_t labelled() const { return truePositive + falsePositive + falseNegative + trueNegative; }
  // Undefined ratios (nothing predicted bad, nothing labelled bad) are empty.
  std::optional<double> precision() const;
  std::optional<double> recall() const;
  std::optional<double> f1() const;
};

}  // namespace infergate::quality
