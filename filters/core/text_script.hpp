#pragma once
// Which writing system a code point belongs to, and which script dominates a
// set of letter counts. One definition for the input profile (the request's
// prompt sample) and the output scorers (the answer), so that "script
// mismatch" compares like with like. Header-only: the request parser (base
// library) and the filters both use it.
#include <cstdint>

namespace infergate {

enum class Script : std::uint8_t { None, Latin, Cjk, Cyrillic, Arabic, Other };

// Other = a letter of another script (Greek, Hebrew, Indic, Thai); None = not a
// letter these rules know (digits, punctuation, symbols, emoji).
constexpr Script scriptOf(std::uint32_t cp) {
  if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7))
    return Script::Latin;
  if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
      (cp >= 0xAC00 && cp <= 0xD7AF))
    return Script::Cjk;
  if (cp >= 0x400 && cp <= 0x4FF) return Script::Cyrillic;
  if (cp >= 0x600 && cp <= 0x6FF) return Script::Arabic;
  if ((cp >= 0x370 && cp <= 0x3FF) || (cp >= 0x590 && cp <= 0x5FF) || (cp >= 0x900 && cp <= 0xDFF) ||
      (cp >= 0xE00 && cp <= 0xEFF))
    return Script::Other;
  return Script::None;
}

// The script with the most letters (ties go to the earlier one); None without letters.
constexpr Script dominantScript(std::uint32_t latin, std::uint32_t cjk, std::uint32_t cyrillic, std::uint32_t arabic) {
  const std::uint32_t counts[4] = {latin, cjk, cyrillic, arabic};
  std::uint32_t best = 0;
  Script script = Script::None;
  for (unsigned i = 0; i < 4; ++i)
    if (counts[i] > best) best = counts[i], script = static_cast<Script>(i + 1);
  return script;
}

}  // namespace infergate
