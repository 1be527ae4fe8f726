#pragma once
// SHA-256 of an API key (OpenSSL's libcrypto): the form keys are stored,
// configured and compared in, so that plain keys need not be kept anywhere.
#include <array>
#include <optional>
#include <string_view>

namespace infergate::config {

using KeyDigest = std::array<unsigned char, 32>;

KeyDigest sha256(std::string_view key);

// 64 hexadecimal digits (either case), or nothing.
std::optional<KeyDigest> parseHexDigest(std::string_view hex);

}  // namespace infergate::config
