#include "filters/quality/text_stats.hpp"

#include "filters/core/utf8.hpp"

#include <array>

namespace infergate::quality {

std::string_view scriptName(Script s) {
  static constexpr std::array<std::string_view, 6> kNames = {"none", "latin", "cjk", "cyrillic", "arabic", "other"};
  return kNames[static_cast<std::size_t>(s)];
}

Script TextStats::dominant() const {
  const Script main = dominantScript(latin, cjk, cyrillic, arabic);
  if (main == Script::None && otherLetters > 0) return Script::Other;
  return main;
}

double TextStats::share(Script s) const {
  const auto total = letters();
  if (total == 0) return 0;
  std::uint32_t n = 0;
  switch (s) {
    case Script::Latin: n = latin; break;
    case Script::Cjk: n = cjk; break;
    case Script::Cyrillic: n = cyrillic; break;
    case Script::Arabic: n = arabic; break;
    case Script::Other: n = otherLetters; break;
    case Script::None: break;
  }
  return static_cast<double>(n) / total;
}

namespace {

using utf8::decode;

void classify(std::uint32_t cp, TextStats& s) {
  if (cp == 0xFFFD) {
    ++s.replacement;
    return;
  }
  if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || (cp >= 0x7F && cp <= 0x9F)) {
    ++s.control;
    return;
  }
  switch (scriptOf(cp)) {
    case Script::Latin: ++s.latin; break;
    case Script::Cjk: ++s.cjk; break;
    case Script::Cyrillic: ++s.cyrillic; break;
    case Script::Arabic: ++s.arabic; break;
    case Script::Other: ++s.otherLetters; break;
    case Script::None: break;
  }
}

}  // namespace

TextStats textStats(std::string_view text, std::size_t maxBytes) {
  TextStats s;
  if (text.size() > maxBytes) text = text.substr(0, maxBytes);
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t cp = 0;
    const auto len = decode(text, i, cp);
    if (len == 0) {
      ++s.invalidBytes;
      ++i;
      continue;
    }
    ++s.codePoints;
    classify(cp, s);
    i += len;
  }
  return s;
}

std::string validUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t cp = 0;
    const auto len = decode(text, i, cp);
    if (len == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace infergate::quality
