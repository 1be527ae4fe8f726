#include "filters/quality/sampling.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "filters/core/fnv_hash.hpp"

namespace infergate::quality {

std::uint64_t requestHash(std::string_view requestId, std::uint64_t seed) {
  // FNV-1a, then a splitmix64 finaliser so that every bit depends on every byte.
  std::uint64_t h = fnv1a64(requestId, seed);
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

SampleBudget::SampleBudget(std::uint32_t perMinute, std::uint32_t burst)
    : intervalNs_(perMinute == 0 ? 0 : 60'000'000'000 / perMinute),
      toleranceNs_(0),
      open_(perMinute > 0),
      // Far enough in the past that the bucket starts full, far from overflow.
      arrival_(std::numeric_limits<std::int64_t>::min() / 2) {
  if (burst == 0) burst = std::max<std::uint32_t>(1, perMinute / 12);
  toleranceNs_ = intervalNs_ * static_cast<std::int64_t>(burst - 1);
}

bool SampleBudget::take(std::int64_t nowNs) {
  if (!open_) return false;
  auto arrival = arrival_.load(std::memory_order_relaxed);
  for (;;) {
    const auto start = std::max(arrival, nowNs);
    if (start - nowNs > toleranceNs_) return false;
    if (arrival_.compare_exchange_weak(arrival, start + intervalNs_, std::memory_order_relaxed)) return true;
  }
}

}  // namespace infergate::quality
