#include "filters/auth/credentials.hpp"

#include <boost/beast/core/string.hpp>

namespace infergate::auth {

namespace {

namespace http = boost::beast::http;

bool isKeyHeaderName(std::string_view name) {
  return boost::beast::iequals(name, "api-key") || boost::beast::iequals(name, "x-api-key");
}

// Printable ASCII without spaces: what API keys are made of.
bool plausibleKey(std::string_view key) {
  for (unsigned char c : key)
    if (c <= 0x20 || c >= 0x7F) return false;
  return true;
}

}  // namespace

bool isCredentialField(const ProxyRequestHead::value_type& field) {
  if (field.name() == http::field::authorization) return true;
  return field.name() == http::field::unknown && isKeyHeaderName(field.name_string());
}

PresentedKey presentedKey(const ProxyRequestHead& head) {
  PresentedKey out;
  int seen = 0;
  for (const auto& field : head) {
    if (!isCredentialField(field)) continue;
    if (++seen > 1) return {PresentedKey::Outcome::Malformed, {}, "more than one API key was presented"};
    std::string_view value = field.value();
    if (field.name() == http::field::authorization) {
      constexpr std::string_view kBearer = "bearer ";
      if (value.size() < kBearer.size() || !boost::beast::iequals(value.substr(0, kBearer.size()), kBearer))
        return {PresentedKey::Outcome::Malformed, {}, "the Authorization header is not 'Bearer <key>'"};
      value.remove_prefix(kBearer.size());
    }
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (value.empty()) return {PresentedKey::Outcome::Malformed, {}, "the API key is empty"};
    if (value.size() > kMaxKeyBytes) return {PresentedKey::Outcome::Malformed, {}, "the API key is too long"};
    if (!plausibleKey(value))
      return {PresentedKey::Outcome::Malformed, {}, "the API key has spaces, control or non-ASCII bytes"};
    out = {PresentedKey::Outcome::One, value, {}};
  }
  return out;
}

}  // namespace infergate::auth
