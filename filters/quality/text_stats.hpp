#pragma once
// Character-level facts about UTF-8 text: code points, broken or control
// characters (garbled output) and letters per script (language mismatch).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "filters/core/text_script.hpp"

namespace infergate::quality {

using infergate::Script;
std::string_view scriptName(Script s);

struct TextStats {
  std::size_t codePoints = 0;
  std::size_t replacement = 0;  // U+FFFD
  std::size_t control = 0;      // C0 except tab, LF, CR; DEL; C1
  std::size_t invalidBytes = 0; // bytes that are not valid UTF-8
  std::uint32_t latin = 0, cjk = 0, cyrillic = 0, arabic = 0, otherLetters = 0;

  std::size_t garbled() const { return replacement + control + invalidBytes; }
  std::uint32_t letters() const { return latin + cjk + cyrillic + arabic + otherLetters; }
  Script dominant() const;
  // This script's share of the letters (0 when there are none).
  double share(Script s) const;
};

// Scans at most `maxBytes` of `text`.
TextStats textStats(std::string_view text, std::size_t maxBytes = static_cast<std::size_t>(-1));

// `text` with every invalid UTF-8 byte replaced by U+FFFD (for JSON output).
std::string validUtf8(std::string_view text);

using infergate::dominantScript;

}  // namespace infergate::quality
