#include "filters/quality/sampling.hpp"

#include <array>
#include <cmath>

namespace infergate::quality {

std::uint64_t requestHash(std::string_view requestId, std::uint64_t seed) {
  std::uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : requestId) h = (h ^ c) * 1099511628211ull;
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

std::uint64_t rateThreshold(double rate) {
  if (!(rate > 0)) return 0;
  if (rate >= 1) return UINT64_MAX;
  return static_cast<std::uint64_t>(std::ldexp(rate, 64));
}

std::string_view sampleReasonName(SampleReason r) {
  static constexpr std::array<std::string_view, 4> kNames = {"rate", "anomaly", "error", "slow_first_token"};
  return kNames[static_cast<std::size_t>(r)];
}

bool MinuteBudget::take(std::int64_t minute) {
  const auto stamp = static_cast<std::uint64_t>(static_cast<std::uint32_t>(minute)) << 32;
  auto current = state_.load(std::memory_order_relaxed);
  for (;;) {
    std::uint64_t next;
    if ((current & 0xFFFFFFFF00000000ull) != stamp) {
      next = stamp | 1u;  // a new minute
    } else {
      if ((current & 0xFFFFFFFFull) >= perMinute_) return false;
      next = current + 1;
    }
    if (state_.compare_exchange_weak(current, next, std::memory_order_relaxed)) return true;
  }
}

}  // namespace infergate::quality
