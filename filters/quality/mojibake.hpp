#pragma once
// Mojibake: UTF-8 text that was decoded with a single-byte code page and
// encoded to UTF-8 again ("café" -> "cafÃ©", "’" -> "â€™", "привет" ->
// "РїСЂРёРІРµС‚"). The result is valid UTF-8, so the U+FFFD check never fires.
//
// Detection re-decodes: each code point is mapped back to the byte the code
// page gave it (Latin-1, cp1252 or cp1251), and a run of such bytes that forms
// a valid multi-byte UTF-8 sequence is one damaged character. Legitimate
// text forms such runs only by accident (a Cyrillic capital before "ё"), so an
// answer counts as mojibake when several runs cover a large share of its
// non-ASCII characters.
//
// UTF-8 read as GBK ("你好" -> "浣犲ソ") turns CJK into other CJK. Text with
// CJK in it is encoded to GBK again (glibc's iconv) and the bytes searched
// for three-byte UTF-8 sequences of CJK, kana, Hangul or CJK punctuation: the
// original characters. Real Chinese in GBK forms one only by accident (a rare
// second-level character followed by a common one), so they must cover most
// of the bytes.
#include <cstddef>
#include <string_view>

namespace infergate::quality {

struct MojibakeStats {
  // Units are code points under the single-byte code pages and bytes under GBK.
  std::size_t nonAscii = 0;       // non-ASCII units
  std::size_t sequences = 0;      // damaged characters found (best code page)
  std::size_t coveredUnits = 0;   // units inside them
  bool gbk = false;               // the damage is UTF-8 read as GBK
  // Damaged characters led by Â or Ã (UTF-8 of U+0080-U+00FF read as Latin-1
  // or cp1252): the common case, and one legitimate text almost never forms.
  std::size_t latinLeads = 0;
  double share() const { return nonAscii ? static_cast<double>(coveredUnits) / nonAscii : 0; }
};

MojibakeStats mojibakeStats(std::string_view text);

// The rule: at least `minSequences` damaged characters covering at least
// `minShare` of the non-ASCII code points (a short Portuguese answer may have
// only two accented letters, all of them damaged).
// Under GBK: at least 3 characters covering 60% of the bytes. One damaged
// character led by Â or Ã is enough when it is most of the non-ASCII text (a
// Portuguese answer whose only accented letter was "É").
inline bool isMojibake(const MojibakeStats& s, std::size_t minSequences = 2, double minShare = 0.3) {
  if (s.gbk) return s.sequences >= 3 && s.share() >= 0.6;
  if (s.sequences == 1 && s.latinLeads == 1) return s.share() >= 0.5;
  return s.sequences >= minSequences && s.share() >= minShare;
}

}  // namespace infergate::quality
