#pragma once
// The configured keys, found by the SHA-256 digest of the key presented: the
// presented key is hashed once and looked up, so no comparison ever runs over
// the secret itself, and the time taken does not depend on how much of a
// guess is right.
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/api_key_digest.hpp"
#include "config/config.hpp"

namespace infergate::auth {

class ApiKeyTable {
 public:
  explicit ApiKeyTable(const std::vector<config::ApiKeyConfig>& keys);

  // The index of the key in config order, or nothing.
  std::optional<std::uint32_t> find(std::string_view presentedKey) const;

 private:
  struct DigestHash {
    std::size_t operator()(const config::KeyDigest& d) const {
      std::size_t h = 0;
      for (std::size_t i = 0; i < sizeof h; ++i) h = h << 8 | d[i];  // a digest is uniform already
      return h;
    }
  };
  std::unordered_map<config::KeyDigest, std::uint32_t, DigestHash> byDigest_;
};

}  // namespace infergate::auth
