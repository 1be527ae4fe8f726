#include "filters/core/prompt_text.hpp"

#include "filters/core/text_script.hpp"
#include "filters/core/utf8.hpp"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace infergate {

namespace {


#if defined(__x86_64__)
// The code-point scan below, 32 bytes a step, on CPUs that have AVX2 (chosen at
// run time: the build targets baseline x86-64). Matches are summed as bytes
// (a match compares to -1, subtracted) and folded into 64-bit sums with SAD
// every 255 steps, before a byte can overflow. The scan advances `i` over the
// whole 32-byte steps and returns its count.
bool hasAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

template <typename Matches>
__attribute__((target("avx2"), always_inline)) inline std::uint64_t countAvx2(std::string_view text, std::size_t& i,
                                                                              Matches matches) {
  const __m256i zero = _mm256_setzero_si256();
  const char* data = text.data();
  const std::size_t end = text.size() < 32 ? 0 : text.size() - 31;  // steps start below this
  std::size_t at = i;  // a local: through the reference, every step would store it
  std::uint64_t n = 0;
  while (at < end) {
    __m256i bytes = zero;
    for (unsigned step = 0; step < 255 && at < end; ++step, at += 32)
      bytes = _mm256_sub_epi8(bytes, matches(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + at))));
    const __m256i sums = _mm256_sad_epu8(bytes, zero);
    n += static_cast<std::uint64_t>(_mm256_extract_epi64(sums, 0) + _mm256_extract_epi64(sums, 1) +
                                    _mm256_extract_epi64(sums, 2) + _mm256_extract_epi64(sums, 3));
  }
  i = at;
  return n;
}

__attribute__((target("avx2"))) std::uint64_t continuationBytesAvx2(std::string_view text, std::size_t& i) {
  const __m256i limit = _mm256_set1_epi8(static_cast<char>(0xC0));  // as signed: -64
  // 0x80..0xBF are -128..-65 as signed bytes: exactly those below -64.
  return countAvx2(text, i, [limit](__m256i v) __attribute__((target("avx2"))) { return _mm256_cmpgt_epi8(limit, v); });
}

#endif

// Code points in valid UTF-8 (simdjson validated the document): bytes that
// are not continuation bytes (0x80-0xBF). 32 or 16 bytes a step: prompts of
// hundreds of kilobytes are scanned at memory speed.
std::uint64_t codePoints(std::string_view text) {
  std::size_t i = 0;
  std::uint64_t continuation = 0;
#if defined(__x86_64__)
  if (hasAvx2()) continuation += continuationBytesAvx2(text, i);
#endif
#if defined(__SSE2__)
  const __m128i limit = _mm_set1_epi8(static_cast<char>(0xC0));  // as signed: -64
  for (; i + 16 <= text.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    // 0x80..0xBF are -128..-65 as signed bytes: exactly those below -64.
    continuation += static_cast<unsigned>(__builtin_popcount(_mm_movemask_epi8(_mm_cmplt_epi8(v, limit))));
  }
#endif
  for (; i < text.size(); ++i) continuation += (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
  return text.size() - continuation;
}

// Samples the start of a text for the profile: non-ASCII share and the
// letters of each script. Bounded so that huge prompts cost no more than this.
constexpr std::size_t kScriptSampleBytes = 2048;

void sampleScript(std::string_view text, RequestFacts& facts) {
  text = text.substr(0, kScriptSampleBytes);
  std::size_t i = 0;
  while (i < text.size()) {
    // A run of ASCII, most of most prompts: its letters are Latin, and no
    // other ASCII character belongs to a script (as scriptOf says).
    std::size_t run = i;
    std::uint32_t letters = 0;
    for (; run < text.size() && static_cast<unsigned char>(text[run]) < 0x80; ++run)
      letters += static_cast<unsigned char>((text[run] | 0x20) - 'a') < 26;
    facts.sampledCodePoints += static_cast<std::uint32_t>(run - i);
    facts.scriptLatin += letters;
    i = run;
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    std::uint32_t cp;
    std::size_t len;
    if ((c >> 5) == 0x6) cp = c & 0x1F, len = 2;
    else if ((c >> 4) == 0xE) cp = c & 0x0F, len = 3;
    else cp = c & 0x07, len = 4;
    if (i + len > text.size()) break;  // a character cut by the sample bound
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    i += len;
    ++facts.sampledCodePoints;
    if (cp >= 0x80) ++facts.sampledNonAscii;
    switch (scriptOf(cp)) {
      case Script::Latin: ++facts.scriptLatin; break;
      case Script::Cjk: ++facts.scriptCjk; break;
      case Script::Cyrillic: ++facts.scriptCyrillic; break;
      case Script::Arabic: ++facts.scriptArabic; break;
      default: break;
    }
  }
}

bool hex4(std::string_view s, std::size_t at, std::uint32_t& value) {
  if (at + 4 > s.size()) return false;
  value = 0;
  for (std::size_t k = at; k < at + 4; ++k) {
    const char c = s[k];
    std::uint32_t digit;
    if (c >= '0' && c <= '9') digit = static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') digit = static_cast<std::uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') digit = static_cast<std::uint32_t>(c - 'A' + 10);
    else return false;
    value = value << 4 | digit;
  }
  return true;
}

// One escape at raw[i] (a backslash): its code point, and the raw bytes it
// spans; false when JSON does not allow it (simdjson's rules: the eight
// one-letter escapes, \u with four hex digits, a high surrogate only with a
// low one after it, never a low one alone).
bool readEscape(std::string_view raw, std::size_t i, std::uint32_t& codePoint, std::size_t& length) {
  if (i + 1 >= raw.size()) return false;
  switch (raw[i + 1]) {
    case '"': codePoint = '"'; length = 2; return true;
    case '\\': codePoint = '\\'; length = 2; return true;
    case '/': codePoint = '/'; length = 2; return true;
    case 'b': codePoint = '\b'; length = 2; return true;
    case 'f': codePoint = '\f'; length = 2; return true;
    case 'n': codePoint = '\n'; length = 2; return true;
    case 'r': codePoint = '\r'; length = 2; return true;
    case 't': codePoint = '\t'; length = 2; return true;
    case 'u': break;
    default: return false;
  }
  std::uint32_t unit;
  if (!hex4(raw, i + 2, unit)) return false;
  if (unit >= 0xDC00 && unit <= 0xDFFF) return false;
  if (unit < 0xD800 || unit > 0xDBFF) {
    codePoint = unit;
    length = 6;
    return true;
  }
  std::uint32_t low;
  if (i + 12 > raw.size() || raw[i + 6] != '\\' || raw[i + 7] != 'u' || !hex4(raw, i + 8, low) || low < 0xDC00 ||
      low > 0xDFFF)
    return false;
  codePoint = (((unit - 0xD800) << 10) | (low - 0xDC00)) + 0x10000;
  length = 12;
  return true;
}


}  // namespace

namespace {

// What promptRawText learns from each escape, in order.
class EscapeReader {
 public:
  explicit EscapeReader(std::string_view raw) : raw_(raw) {}

  // A backslash at `at`; those inside an escape already read are skipped.
  // False when the escape is not one JSON allows.
  bool onBackslash(std::size_t at) {
    if (at < next_) return true;
    std::uint32_t codePoint;
    std::size_t length;
    if (!readEscape(raw_, at, codePoint, length)) return false;
    extra_ += length - 1;
    next_ = at + length;
    if (sampling_) sampleUpTo(at, codePoint, length);
    return true;
  }

  // Raw code points beyond the decoded ones.
  std::uint64_t extra() const { return extra_; }

  // The sampled start, decoded: what sampleScript reads of an unescaped text.
  std::string_view sample() {
    if (sampling_) {
      const std::size_t plain = std::min(raw_.size() - copiedTo_, sizeof sample_ - sampled_);
      std::memcpy(sample_ + sampled_, raw_.data() + copiedTo_, plain);
      sampled_ += plain;
      sampling_ = false;
    }
    return {sample_, sampled_};
  }

 private:
  // The text before the escape, then the escape's character if it fits whole
  // (a character cut by the bound is not sampled, as sampleScript would not).
  void sampleUpTo(std::size_t at, std::uint32_t codePoint, std::size_t length) {
    const std::size_t plain = std::min(at - copiedTo_, sizeof sample_ - sampled_);
    std::memcpy(sample_ + sampled_, raw_.data() + copiedTo_, plain);
    sampled_ += plain;
    char decoded[4];
    const std::size_t bytes = utf8::encode(codePoint, decoded);
    if (plain < at - copiedTo_ || sampled_ + bytes > sizeof sample_) {
      sampling_ = false;
      return;
    }
    std::memcpy(sample_ + sampled_, decoded, bytes);
    sampled_ += bytes;
    copiedTo_ = at + length;
  }

  std::string_view raw_;
  std::size_t next_ = 0;      // the first byte after the last escape read
  std::uint64_t extra_ = 0;
  char sample_[kScriptSampleBytes];
  std::size_t sampled_ = 0;
  std::size_t copiedTo_ = 0;  // raw bytes before this are in the sample
  bool sampling_ = true;
};

#if defined(__x86_64__)
// One pass over the raw text, 128 bytes a step: continuation bytes summed as
// in countAvx2 (bytes, folded with SAD before one can overflow) and every
// backslash handed to `reader` in order; a step without one costs a single
// test. Returns false on a bad escape; `i` ends where the whole steps did.
__attribute__((target("avx2"))) bool scanRawAvx2(std::string_view raw, std::size_t& i, std::uint64_t& continuation,
                                                 EscapeReader& reader) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i limit = _mm256_set1_epi8(static_cast<char>(0xC0));
  const __m256i backslash = _mm256_set1_epi8('\\');
  const char* data = raw.data();
  std::size_t at = i;
  while (at + 128 <= raw.size()) {
    __m256i counts = zero;
    // 63 steps add at most 4 x 63 = 252 to a byte lane.
    for (unsigned step = 0; step < 63 && at + 128 <= raw.size(); ++step, at += 128) {
      __m256i v[4];
      __m256i any = zero;
      for (int k = 0; k < 4; ++k) {
        v[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + at + 32 * k));
        counts = _mm256_sub_epi8(counts, _mm256_cmpgt_epi8(limit, v[k]));
        any = _mm256_or_si256(any, _mm256_cmpeq_epi8(v[k], backslash));
      }
      if (_mm256_testz_si256(any, any)) continue;
      for (int k = 0; k < 4; ++k)
        for (auto found = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v[k], backslash)));
             found != 0; found &= found - 1)
          if (!reader.onBackslash(at + 32 * static_cast<std::size_t>(k) + static_cast<std::size_t>(__builtin_ctz(found))))
            return false;
    }
    const __m256i sums = _mm256_sad_epu8(counts, zero);
    continuation += static_cast<std::uint64_t>(_mm256_extract_epi64(sums, 0) + _mm256_extract_epi64(sums, 1) +
                                               _mm256_extract_epi64(sums, 2) + _mm256_extract_epi64(sums, 3));
  }
  i = at;
  return true;
}
#endif

}  // namespace

bool promptRawText(std::string_view raw, RequestFacts& facts, std::uint64_t& chars) {
  EscapeReader reader(raw);
  std::uint64_t count = 0;
  std::size_t i = 0;
#if defined(__x86_64__)
  // Counting and finding escapes in one pass: a second pass for backslashes
  // (memchr) cost 2.3% of the proxy's CPU at 200 KB.
  if (hasAvx2()) {
    std::uint64_t continuation = 0;
    if (!scanRawAvx2(raw, i, continuation, reader)) return false;
    count = i - continuation;
  }
#endif
  const std::string_view rest = raw.substr(i);
  for (std::size_t at = rest.find('\\'); at != std::string_view::npos; at = rest.find('\\', at + 1))
    if (!reader.onBackslash(i + at)) return false;
  count += codePoints(rest) - reader.extra();
  facts.promptChars += count;
  chars += count;
  // A sample cut inside a character is handled by sampleScript (it stops there).
  sampleScript(reader.sample(), facts);
  return true;
}

// Prompt text: counted, and sampled for the profile.
std::uint64_t promptText(std::string_view text, RequestFacts& facts) {
  const auto chars = codePoints(text);
  facts.promptChars += chars;
  sampleScript(text, facts);
  return chars;
}

}  // namespace infergate
