#include "filters/auth/authenticate.hpp"

#include <ctime>

#include "filters/auth/credentials.hpp"

namespace infergate::auth {

Verdict authenticate(const ProxyRequestHead& head, const ApiKeyTable& table,
                     const std::vector<config::ApiKeyConfig>& keys) {
  const auto presented = presentedKey(head);
  if (presented.outcome == PresentedKey::Outcome::Missing)
    return {std::nullopt,
            "No API key was provided: send it as 'Authorization: Bearer <key>' or in an 'api-key' header."};
  if (presented.outcome == PresentedKey::Outcome::Malformed)
    return {std::nullopt, "Malformed API key: " + std::string(presented.reason) + "."};
  const auto index = table.find(presented.key);
  if (!index) return {std::nullopt, "Incorrect API key provided."};
  const auto& key = keys[*index];
  if (key.expires_unix && std::time(nullptr) >= *key.expires_unix) return {std::nullopt, "This API key has expired."};
  return {index, {}};
}

}  // namespace infergate::auth
