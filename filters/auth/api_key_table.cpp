#include "filters/auth/api_key_table.hpp"

namespace infergate::auth {

ApiKeyTable::ApiKeyTable(const std::vector<config::ApiKeyConfig>& keys) {
  for (std::uint32_t i = 0; i < keys.size(); ++i) byDigest_.emplace(keys[i].digest, i);
}

std::optional<std::uint32_t> ApiKeyTable::find(std::string_view presentedKey) const {
  const auto it = byDigest_.find(config::sha256(presentedKey));
  if (it == byDigest_.end()) return std::nullopt;
  return it->second;
}

}  // namespace infergate::auth
