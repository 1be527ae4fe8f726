#include "config/api_key_digest.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace infergate::config {

KeyDigest sha256(std::string_view key) {
  // Every request with a key is hashed, so the cheapest call OpenSSL has:
  // its SHA-256 functions themselves (the ones its provider calls). Through
  // EVP, OpenSSL 3.0 makes and frees (and wipes) a context per digest, and its
  // one-shot SHA256() fetches the algorithm each call, under a lock; together
  // that was over half the time. These are deprecated in 3.0 in favour of
  // EVP, not removed.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  SHA256_CTX ctx;
  KeyDigest out{};
  const bool ok = SHA256_Init(&ctx) && SHA256_Update(&ctx, key.data(), key.size()) && SHA256_Final(out.data(), &ctx);
#pragma GCC diagnostic pop
  OPENSSL_cleanse(&ctx, sizeof ctx);  // the state held the key's last block
  if (!ok) return KeyDigest{};  // never equal to a configured key's digest (those are checked non-zero at load)
  return out;
}

std::optional<KeyDigest> parseHexDigest(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  KeyDigest out{};
  for (std::size_t i = 0; i < 32; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return out;
}

}  // namespace infergate::config
