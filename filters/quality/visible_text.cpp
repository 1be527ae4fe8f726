#include "filters/quality/visible_text.hpp"

#include <cstdint>

#include "filters/core/utf8.hpp"

namespace infergate::quality {

namespace {

// Unicode White_Space plus the format characters a reader does not see
// (zero-width space and joiners, directional marks, word joiner, BOM).
bool invisible(std::uint32_t cp) {
  if (cp <= 0x20) return true;  // ASCII whitespace and C0 controls
  return cp == 0x7F || (cp >= 0x80 && cp <= 0xA0) || cp == 0xAD || cp == 0x034F || cp == 0x061C || cp == 0x1680 ||
         cp == 0x180E || (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
         (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 || cp == 0x3164 || cp == 0xFEFF || cp == 0xFFA0 ||
         (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0000 && cp <= 0xE007F);
}

// Letters and digits of the scripts answers come in; punctuation, symbols,
// arrows, box drawing and emoji are not.
bool wordCharacter(std::uint32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
  if (cp == 0xD7 || cp == 0xF7) return false;                   // × ÷
  if (cp >= 0xAA && cp <= 0x2AF) return cp == 0xAA || cp == 0xB5 || cp == 0xBA || cp >= 0xC0;
  if (cp >= 0x370 && cp <= 0x1FFF) return true;                 // Greek .. Latin Extended Additional
  if (cp >= 0x2E80 && cp <= 0x2FDF) return true;                // CJK radicals
  if (cp >= 0x3040 && cp <= 0x9FFF) return cp != 0x30FB;        // kana, CJK (not the middle dot)
  if (cp >= 0xA000 && cp <= 0xD7FF) return true;                // Yi, Hangul
  if (cp >= 0xF900 && cp <= 0xFAFF) return true;                // CJK compatibility
  if (cp >= 0xFB00 && cp <= 0xFDFF) return true;                // presentation forms
  if (cp >= 0xFE70 && cp <= 0xFEFC) return true;                // Arabic presentation forms B
  if (cp >= 0xFF10 && cp <= 0xFF19) return true;                // fullwidth digits
  if ((cp >= 0xFF21 && cp <= 0xFF3A) || (cp >= 0xFF41 && cp <= 0xFF5A)) return true;
  if (cp >= 0xFF66 && cp <= 0xFFDC) return true;                // halfwidth kana, Hangul
  if (cp >= 0x20000 && cp <= 0x3FFFF) return true;              // CJK extensions
  return false;
}

}  // namespace

VisibleText visibleText(std::string_view text) {
  VisibleText v;
  // A one-letter answer ("B", "5") is an answer; one letter in a face of
  // symbols (¯\_(ツ)_/¯) is not.
  std::size_t words = 0, symbols = 0;
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp;
    const auto length = utf8::decode(text, i, cp);
    i += length > 0 ? length : 1;
    if (length == 0) {  // a broken byte is something a reader sees, not a word
      v.blank = false;
      continue;
    }
    if (invisible(cp)) continue;
    v.blank = false;
    if (!wordCharacter(cp)) {
      ++symbols;
    } else if (++words >= 2) {
      v.hasWords = true;
      return v;
    }
  }
  v.hasWords = words == 1 && symbols < 3;
  return v;
}

}  // namespace infergate::quality
