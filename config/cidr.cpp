#include "config/cidr.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace infergate::config {

namespace {

// The address's bytes and family, a v4-mapped v6 address read as v4.
bool parseAddress(std::string_view text, bool& v6, std::array<unsigned char, 16>& out) {
  // inet_pton wants a terminated string: copied to the stack (the longest
  // address text is 45 bytes), never to the heap, as this runs per request.
  char s[64];
  if (text.size() >= sizeof s) return false;
  text.copy(s, text.size());
  s[text.size()] = '\0';
  out = {};
  if (inet_pton(AF_INET, s, out.data()) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, s, out.data()) != 1) return false;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::equal(kMapped, kMapped + 12, out.begin())) {
    std::copy(out.begin() + 12, out.end(), out.begin());
    std::fill(out.begin() + 4, out.end(), 0);
    v6 = false;
    return true;
  }
  v6 = true;
  return true;
}

}  // namespace

std::optional<Cidr> parseCidr(std::string_view text) {
  Cidr c;
  const auto slash = text.find('/');
  if (!parseAddress(text.substr(0, slash), c.v6, c.bytes)) return std::nullopt;
  const unsigned bits = c.v6 ? 128 : 32;
  c.prefix = bits;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    unsigned prefix = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty() || prefix > bits)
      return std::nullopt;
    c.prefix = prefix;
  }
  return c;
}

bool Cidr::contains(std::string_view address) const {
  bool isV6 = false;
  std::array<unsigned char, 16> a{};
  if (!parseAddress(address, isV6, a) || isV6 != v6) return false;
  unsigned left = prefix;
  for (std::size_t i = 0; left > 0; ++i, left = left >= 8 ? left - 8 : 0) {
    const unsigned take = left >= 8 ? 8 : left;
    const auto mask = static_cast<unsigned char>(0xFF << (8 - take));
    if ((a[i] & mask) != (bytes[i] & mask)) return false;
  }
  return true;
}

}  // namespace infergate::config
