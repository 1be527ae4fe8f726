#include "filters/quality/text_stats.hpp"

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

// Decodes the well-formed UTF-8 character at text[i] into `cp` and returns its
// length, or 0 for an invalid byte (bad lead, bad continuation, overlong form,
// surrogate, past U+10FFFF, or cut by the end of `text`).
std::size_t decode(std::string_view text, std::size_t i, std::uint32_t& cp) {
  const auto c = static_cast<unsigned char>(text[i]);
  std::size_t len;
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if ((c >> 5) == 0x6 && c >= 0xC2) len = 2, cp = c & 0x1F;
  else if ((c >> 4) == 0xE) len = 3, cp = c & 0x0F;
  else if ((c >> 3) == 0x1E && c <= 0xF4) len = 4, cp = c & 0x07;
  else return 0;
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

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
