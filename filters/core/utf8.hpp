#pragma once
// UTF-8 one code point at a time, for the scanners that read text by code
// point (prompt text, output scorers): one strict decoder and one encoder.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace infergate::utf8 {

// Decodes the well-formed UTF-8 character at text[i] into `cp` and returns its
// length, or 0 for an invalid byte (bad lead, bad continuation, overlong form,
// surrogate, past U+10FFFF, or cut by the end of `text`).
inline std::size_t decode(std::string_view text, std::size_t i, std::uint32_t& cp) {
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

// Writes `cp` at `out` (room for 4 bytes); returns the bytes written.
inline std::size_t encode(std::uint32_t cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | cp >> 6);
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | cp >> 12);
    out[1] = static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | cp >> 18);
  out[1] = static_cast<char>(0x80 | (cp >> 12 & 0x3F));
  out[2] = static_cast<char>(0x80 | (cp >> 6 & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

inline void append(std::string& out, std::uint32_t cp) {
  char bytes[4];
  out.append(bytes, encode(cp, bytes));
}

}  // namespace infergate::utf8
