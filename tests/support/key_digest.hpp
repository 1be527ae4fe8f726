#pragma once
// A client API key's SHA-256 as the 64 hex digits a keys file holds.
#include <string>
#include <string_view>

#include "config/api_key_digest.hpp"

namespace testsupport {

inline std::string sha256Hex(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : infergate::config::sha256(key)) out += {kHex[c >> 4], kHex[c & 15]};
  return out;
}

}  // namespace testsupport
