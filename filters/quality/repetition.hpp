#pragma once
// Repetition statistics from the Gopher quality rules (Rae et al. 2021,
// "Scaling Language Models", appendix A, table A1): a text whose lines repeat,
// or whose words repeat in the same n-grams, is a model stuck in a loop.
#include <array>
#include <cstddef>
#include <string_view>

namespace infergate::quality {

struct RepetitionStats {
  std::size_t words = 0;
  std::size_t lines = 0;
  double duplicateLineFraction = 0;      // duplicate lines / lines
  double duplicateLineCharFraction = 0;  // characters in duplicate lines / characters in lines
  // Index n-2 for n = 2, 3, 4: characters of the most frequent n-gram's occurrences
  // over all word characters.
  std::array<double, 3> topNgramCharFraction{};
  // Index n-5 for n = 5..10: word characters inside any n-gram that occurs more
  // than once (each character counted once) over all word characters.
  std::array<double, 6> duplicateNgramCharFraction{};
};

// Thresholds as published for Gopher; each is "flag when above".
struct RepetitionLimits {
  double duplicateLineFraction = 0.30;
  double duplicateLineCharFraction = 0.20;
  std::array<double, 3> topNgramCharFraction{0.20, 0.18, 0.16};
  std::array<double, 6> duplicateNgramCharFraction{0.15, 0.14, 0.13, 0.12, 0.11, 0.10};
  std::size_t minWords = 20;  // n-gram rules need enough words to mean anything
};

// Words are whitespace-separated; at most `maxWords` are read.
RepetitionStats repetitionStats(std::string_view text, std::size_t maxWords = 20'000);

// The largest ratio of a statistic to its limit (> 1 means a rule is broken).
double worstRepetitionRatio(const RepetitionStats& stats, const RepetitionLimits& limits);

}  // namespace infergate::quality
