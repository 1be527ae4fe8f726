#include "filters/quality/text_stats.hpp"

#include <array>

namespace infergate::quality {

std::string_view scriptName(Script s) {
  static constexpr std::array<std::string_view, 6> kNames = {"none", "latin", "cjk", "cyrillic", "arabic", "other"};
  return kNames[static_cast<std::size_t>(s)];
}

Script dominantScript(std::uint32_t latin, std::uint32_t cjk, std::uint32_t cyrillic, std::uint32_t arabic) {
  const std::uint32_t counts[4] = {latin, cjk, cyrillic, arabic};
  std::uint32_t best = 0;
  Script script = Script::None;
  for (std::size_t i = 0; i < 4; ++i)
    if (counts[i] > best) best = counts[i], script = static_cast<Script>(i + 1);
  return script;
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

void classify(std::uint32_t cp, TextStats& s) {
  if (cp == 0xFFFD) {
    ++s.replacement;
  } else if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || (cp >= 0x7F && cp <= 0x9F)) {
    ++s.control;
  } else if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 &&
                                                                       cp != 0xF7)) {
    ++s.latin;
  } else if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
             (cp >= 0xAC00 && cp <= 0xD7AF)) {
    ++s.cjk;
  } else if (cp >= 0x400 && cp <= 0x4FF) {
    ++s.cyrillic;
  } else if (cp >= 0x600 && cp <= 0x6FF) {
    ++s.arabic;
  } else if ((cp >= 0x370 && cp <= 0x3FF) || (cp >= 0x590 && cp <= 0x5FF) || (cp >= 0x900 && cp <= 0xDFF) ||
             (cp >= 0xE00 && cp <= 0xEFF)) {
    ++s.otherLetters;  // Greek, Hebrew, Indic, Thai
  }
}

}  // namespace

TextStats textStats(std::string_view text, std::size_t maxBytes) {
  TextStats s;
  if (text.size() > maxBytes) text = text.substr(0, maxBytes);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++s.codePoints;
      classify(c, s);
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if ((c >> 5) == 0x6 && c >= 0xC2) len = 2, cp = c & 0x1F;
    else if ((c >> 4) == 0xE) len = 3, cp = c & 0x0F;
    else if ((c >> 3) == 0x1E && c <= 0xF4) len = 4, cp = c & 0x07;
    else {
      ++s.invalidBytes;
      ++i;
      continue;
    }
    if (i + len > text.size()) {
      // A character cut at the end (by the capture cap, or really broken).
      s.invalidBytes += text.size() - i;
      break;
    }
    bool ok = true;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (b & 0x3F);
    }
    // Overlong forms and surrogates are invalid too.
    if (ok && ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
               (cp >= 0xD800 && cp <= 0xDFFF)))
      ok = false;
    if (!ok) {
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

}  // namespace infergate::quality

namespace infergate::quality {

std::string validUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    if (c < 0x80) len = 1;
    else if ((c >> 5) == 0x6 && c >= 0xC2) len = 2;
    else if ((c >> 4) == 0xE) len = 3;
    else if ((c >> 3) == 0x1E && c <= 0xF4) len = 4;
    bool ok = len > 0 && i + len <= text.size();
    if (ok && len > 1) {
      std::uint32_t cp = c & (0x7F >> len);
      for (std::size_t k = 1; k < len && ok; ++k) {
        const auto b = static_cast<unsigned char>(text[i + k]);
        ok = (b & 0xC0) == 0x80;
        cp = (cp << 6) | (b & 0x3F);
      }
      if (ok && ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                 (cp >= 0xD800 && cp <= 0xDFFF)))
        ok = false;
    }
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

}  // namespace infergate::quality
