#include "config/api_key_digest.hpp"

#include <openssl/evp.h>

namespace infergate::config {

KeyDigest sha256(std::string_view key) {
  // The digest is fetched once and each thread keeps its context: OpenSSL 3's
  // one-shot SHA256() fetches the algorithm on every call, under a lock.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Context context;
  KeyDigest out{};
  unsigned int length = 0;
  if (md == nullptr || context.ctx == nullptr || !EVP_DigestInit_ex2(context.ctx, md, nullptr) ||
      !EVP_DigestUpdate(context.ctx, key.data(), key.size()) || !EVP_DigestFinal_ex(context.ctx, out.data(), &length))
    return KeyDigest{};  // never equal to a configured key's digest (those are checked non-zero at load)
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
