#include "filters/quality/mojibake.hpp"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <cstdint>
#include <vector>

#include "filters/core/utf8.hpp"

namespace infergate::quality {

namespace {

// Code points of cp1252 bytes 0x80-0x9F (0 where the byte is undefined).
constexpr std::array<std::uint16_t, 32> kCp1252High = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

// Code points of cp1251 bytes 0x80-0xBF (0xC0-0xFF are U+0410-U+044F).
constexpr std::array<std::uint16_t, 64> kCp1251High = {
    0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021, 0x20AC, 0x2030, 0x0409, 0x2039, 0x040A,
    0x040C, 0x040B, 0x040F, 0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0,      0x2122,
    0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F, 0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6,
    0x00A7, 0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407, 0x00B0, 0x00B1, 0x0406, 0x0456,
    0x0491, 0x00B5, 0x00B6, 0x00B7, 0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457};

// The byte a code page gives code point `cp`, or -1.
// Past the highest code point either table holds (U+2122, the trade mark
// sign): CJK and most of Unicode end here.
constexpr std::uint32_t kTablesEnd = 0x2122;

int cp1252Byte(std::uint32_t cp) {
  if (cp < 0x80) return static_cast<int>(cp);
  if (cp > kTablesEnd) return -1;
  if (cp >= 0xA0 && cp <= 0xFF) return static_cast<int>(cp);
  if (cp >= 0x80 && cp <= 0x9F) return static_cast<int>(cp);  // Latin-1's C1 controls, as some decoders keep them
  for (std::size_t i = 0; i < kCp1252High.size(); ++i)
    if (kCp1252High[i] == cp) return static_cast<int>(0x80 + i);
  return -1;
}

int cp1251Byte(std::uint32_t cp) {
  if (cp < 0x80) return static_cast<int>(cp);
  if (cp > kTablesEnd) return -1;
  if (cp >= 0x0410 && cp <= 0x044F) return static_cast<int>(0xC0 + (cp - 0x0410));
  for (std::size_t i = 0; i < kCp1251High.size(); ++i)
    if (kCp1251High[i] == cp) return static_cast<int>(0x80 + i);
  return -1;
}

// Decodes `text` into code points (invalid bytes are skipped: they are the
// garbled check's business), into a buffer the thread reuses.
const std::vector<std::uint32_t>& codePoints(std::string_view text) {
  thread_local std::vector<std::uint32_t> out;
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp;
    const auto length = utf8::decode(text, i, cp);
    if (length > 0) out.push_back(cp);
    i += length > 0 ? length : 1;
  }
  return out;
}

// Damaged characters under one code page: a lead byte (0xC2-0xF4) followed by
// the continuation bytes (0x80-0xBF) its UTF-8 sequence needs, all of them
// what the code page made of the original bytes.
template <class ByteOf>
MojibakeStats scan(const std::vector<std::uint32_t>& cps, ByteOf byteOf) {
  MojibakeStats s;
  for (auto cp : cps) s.nonAscii += cp >= 0x80;
  for (std::size_t i = 0; i < cps.size();) {
    const int lead = cps[i] >= 0x80 ? byteOf(cps[i]) : -1;
    const int length = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
    bool sequence = length > 0 && i + length <= cps.size();
    for (int k = 1; sequence && k < length; ++k) {
      const int b = byteOf(cps[i + k]);
      sequence = b >= 0x80 && b <= 0xBF;
    }
    if (!sequence) {
      ++i;
      continue;
    }
    ++s.sequences;
    s.latinLeads += lead == 0xC2 || lead == 0xC3;
    s.coveredUnits += static_cast<std::size_t>(length);
    i += static_cast<std::size_t>(length);
  }
  return s;
}

bool isCjk(std::uint32_t cp) {
  return (cp >= 0x3000 && cp <= 0x30FF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
         (cp >= 0xFF00 && cp <= 0xFFEF);
}

// The text encoded to GBK; characters GBK lacks become a 0 byte (which breaks
// any sequence across them).
const std::string& toGbk(std::string_view text) {
  struct Converter {
    iconv_t cd = iconv_open("GBK", "UTF-8");
    ~Converter() {
      if (cd != reinterpret_cast<iconv_t>(-1)) iconv_close(cd);
    }
  };
  thread_local Converter converter;
  thread_local std::string out;
  out.clear();
  if (converter.cd == reinterpret_cast<iconv_t>(-1)) return out;
  iconv(converter.cd, nullptr, nullptr, nullptr, nullptr);
  out.resize(text.size() * 2 + 16);
  char* in = const_cast<char*>(text.data());
  std::size_t inLeft = text.size();
  char* dst = out.data();
  std::size_t outLeft = out.size();
  while (inLeft > 0) {
    if (iconv(converter.cd, &in, &inLeft, &dst, &outLeft) != static_cast<std::size_t>(-1)) break;
    if (errno != EILSEQ && errno != EINVAL) break;
    // Skip the character GBK cannot hold.
    std::uint32_t cp;
    const auto length = utf8::decode(std::string_view(in, inLeft), 0, cp);
    const auto skip = std::max<std::size_t>(length, 1);
    in += skip;
    inLeft -= skip;
    if (outLeft == 0) break;
    *dst++ = 0;
    --outLeft;
  }
  out.resize(out.size() - outLeft);
  return out;
}

MojibakeStats scanGbk(std::string_view text) {
  MojibakeStats s;
  s.gbk = true;
  const auto& bytes = toGbk(text);
  for (unsigned char b : bytes) s.nonAscii += b >= 0x80;
  for (std::size_t i = 0; i + 3 <= bytes.size();) {
    std::uint32_t cp;
    const auto length = utf8::decode(std::string_view(bytes).substr(i, 3), 0, cp);
    if (length == 3 && isCjk(cp)) {
      ++s.sequences;
      s.coveredUnits += 3;
      i += 3;
    } else {
      ++i;
    }
  }
  return s;
}

}  // namespace

MojibakeStats mojibakeStats(std::string_view text) {
  // ASCII cannot be damaged this way, and most answers are mostly ASCII.
  std::size_t firstHigh = 0;
  while (firstHigh < text.size() && static_cast<unsigned char>(text[firstHigh]) < 0x80) ++firstHigh;
  if (firstHigh == text.size()) return {};
  const auto& cps = codePoints(text);
  const auto western = scan(cps, cp1252Byte);
  auto cyrillic = scan(cps, cp1251Byte);
  cyrillic.latinLeads = 0;  // 0xC2, 0xC3 are В and Г there: no such tell
  auto best = cyrillic.coveredUnits > western.coveredUnits ? cyrillic : western;
  // GBK only for text with CJK in it (a few characters at least), and only the
  // first 4 KB: the damage is everywhere or nowhere.
  std::size_t cjk = 0;
  for (auto cp : cps) cjk += isCjk(cp);
  if (cjk >= 4 && !isMojibake(best)) {
    const auto gbk = scanGbk(text.substr(0, 4096));
    if (isMojibake(gbk)) best = gbk;
  }
  return best;
}

}  // namespace infergate::quality
