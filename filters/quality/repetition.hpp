#pragma once
// Repetition statistics from the Gopher quality rules (Rae et al. 2021,
// "Scaling Language Models", appendix A, table A1): a text whose lines repeat,
// or whose words repeat in the same n-grams, is a model stuck in a loop.
//
// Calibrated for answers, not web pages (tests/data/repetition): good answers
// made of code or structured lines (stylesheets, tables, lists of similar
// commands, records, configs) repeat short lines ("}") and line templates
// ("sudo systemctl restart ...") by design, and tripped the published rules
// on 6 of 10 such answers. So:
//  - a line counts as a duplicate when it repeats in place: equal to the line
//    before it (list markers aside), or following the same two lines as an
//    earlier occurrence did (a block repeating), or, in prose, when it is a
//    long line (8 words or more) seen before. Scattered repeats of short
//    lines, and a poem's refrain, are structure, not a loop;
//  - a structured text (3 lines or more, a median of at most 12 words a line)
//    is judged by the line rules and by duplicated 9- and 10-grams inside its
//    lines: a template repeats its fixed part, a loop repeats everything;
//  - prose gets the published n-gram rules from 20 words; under 100 words an
//    n-gram counts as repeated from its third occurrence (one phrase said
//    twice is a large share of a short answer, and a loop says it more).
#include <array>
#include <cstddef>
#include <string_view>

namespace infergate::quality {

struct RepetitionStats {
  std::size_t words = 0;
  std::size_t lines = 0;
  bool structured = false;               // 4+ lines, median words per line <= kStructuredLineWords
  double duplicateLineFraction = 0;      // duplicate lines / lines
  double duplicateLineCharFraction = 0;  // characters in duplicate lines / characters in lines
  // Index n-2 for n = 2, 3, 4: characters of the most frequent n-gram's occurrences
  // over all word characters.
  std::array<double, 3> topNgramCharFraction{};
  // Index n-5 for n = 5..10: word characters inside any n-gram that occurs more
  // than once (each character counted once) over all word characters.
  std::array<double, 6> duplicateNgramCharFraction{};
  // The same for n = 9, 10 with n-grams that stay inside one line.
  std::array<double, 2> lineDuplicateNgramCharFraction{};
  // One short piece repeated without spaces or newlines ("长城长城长城...",
  // "abcabcabc..."), which word n-grams cannot see: the share of bytes equal to
  // the byte one period later, for the best period of up to 96 bytes (a CJK
  // sentence of 32 characters), in a text of at least 5 periods and 60 bytes
  // (0 otherwise).
  double periodicShare = 0;
  // A good start that turns into a loop running to the end: the share of the
  // text in its longest periodic tail (period up to 96 bytes, at least 5
  // periods, text of 60 bytes or more).
  double periodicTailShare = 0;
};

inline constexpr std::size_t kStructuredMinLines = 3;
inline constexpr std::size_t kStructuredLineWords = 12;
inline constexpr std::size_t kLongLineWords = 8;
inline constexpr std::size_t kShortAnswerWords = 100;

// Thresholds as published for Gopher; each is "flag when above".
struct RepetitionLimits {
  double duplicateLineFraction = 0.30;
  double duplicateLineCharFraction = 0.20;
  std::array<double, 3> topNgramCharFraction{0.20, 0.18, 0.16};
  std::array<double, 6> duplicateNgramCharFraction{0.15, 0.14, 0.13, 0.12, 0.11, 0.10};
  std::size_t minWords = 12;  // n-gram rules need enough words to mean anything
  double periodicShare = 0.9;
  double periodicTailShare = 0.5;
};

// Words are whitespace-separated; at most `maxWords` are read.
RepetitionStats repetitionStats(std::string_view text, std::size_t maxWords = 20'000);

// The largest ratio of a statistic to its limit (> 1 means a rule is broken).
double worstRepetitionRatio(const RepetitionStats& stats, const RepetitionLimits& limits);

}  // namespace infergate::quality
