#pragma once
// FNV-1a over bytes: the one cheap, stable byte hash the filters use (sampling
// decisions, n-gram tables, cells keyed by client address).
#include <cstdint>
#include <string_view>

namespace infergate {

inline std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t seed = 0) {
  std::uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace infergate
