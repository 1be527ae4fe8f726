#pragma once
// Address ranges ("10.0.0.0/8", "::1/128", "192.168.1.7"): the peers whose
// forwarding headers are believed (server.trusted_proxies).
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace infergate::config {

struct Cidr {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};  // network order; v4 uses the first 4
  unsigned prefix = 0;

  // Whether `address` (text, v4 or v6; a v4-mapped v6 counts as v4) is inside.
  bool contains(std::string_view address) const;
};

std::optional<Cidr> parseCidr(std::string_view text);

}  // namespace infergate::config
