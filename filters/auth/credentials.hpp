#pragma once
// The API key a request presents, as the OpenAI and Azure clients send it:
// `Authorization: Bearer <key>`, `api-key: <key>` or `x-api-key: <key>`.
// Exactly one key must be presented; anything else is refused before any
// lookup, with a reason safe to log (never the key).
#include <string_view>

#include "filters/core/http_messages.hpp"

namespace infergate::auth {

// Longer values are not keys (and would only cost hashing).
inline constexpr std::size_t kMaxKeyBytes = 256;

struct PresentedKey {
  enum class Outcome { Missing, Malformed, One };
  Outcome outcome = Outcome::Missing;
  std::string_view key;     // with One: points into the request head
  std::string_view reason;  // with Malformed: why, for the error message and the log
};

PresentedKey presentedKey(const ProxyRequestHead& head);

// Whether a header field carries a client credential that must not reach
// the model server once infergate has taken it as its own key.
bool isCredentialField(const ProxyRequestHead::value_type& field);

}  // namespace infergate::auth
