#pragma once
// A rate limit as a generic cell rate algorithm (GCRA): one atomic number per
// limit, the theoretical arrival time (TAT) of the next unit, so every worker
// checks and takes with one compare-and-swap and no lock. `rate` units per
// `period`, all of them usable at once (burst = rate). A request taking n
// units is admitted when the TAT, pushed by n units, stays within one period
// of now.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <string_view>
#include <cstdint>

namespace infergate::limits {

// The clock every cell is read against.
inline std::int64_t steadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A clock reading a request phase already took (RequestRecord times are
// steady_clock too), or a fresh one when that phase has not happened.
inline std::int64_t steadyNs(std::chrono::steady_clock::time_point t) {
  return t == std::chrono::steady_clock::time_point{}
             ? steadyNowNs()
             : std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// A Retry-After for a wait: whole seconds, rounded up, at least 1.
inline unsigned retryAfterSeconds(std::int64_t waitNs) {
  return static_cast<unsigned>(std::max<std::int64_t>(1, (waitNs + 999'999'999) / 1'000'000'000));
}

class Gcra {
 public:
  Gcra(std::uint64_t rate, std::int64_t periodNs)
      : rate_(rate), periodNs_(periodNs), unitNs_(periodNs / static_cast<std::int64_t>(std::max<std::uint64_t>(rate, 1))) {
    limitLength_ = static_cast<std::uint8_t>(std::to_chars(limitText_, limitText_ + sizeof limitText_, rate_).ptr - limitText_);
  }

  struct Taken {
    bool admitted = false;
    std::int64_t waitNs = 0;  // when refused: until `units` would be admitted
  };

  // Takes `units` if the limit allows them now.
  Taken take(std::int64_t nowNs, std::uint64_t units) {
    const std::int64_t cost = unitNs_ * static_cast<std::int64_t>(units);
    auto tat = tat_.load(std::memory_order_relaxed);
    for (;;) {
      const auto start = std::max(tat, nowNs);
      const auto next = start + cost;
      if (next - nowNs > periodNs_) return {false, next - nowNs - periodNs_};
      if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return {true, 0};
    }
  }

  // Gives back (negative) or charges more (positive) units after the fact:
  // a refund when a later limit refused the request, or the token estimate
  // settled with the real usage. A charge may overdraw; the next requests wait.
  void adjust(std::int64_t nowNs, std::int64_t units) {
    const std::int64_t delta = unitNs_ * units;
    auto tat = tat_.load(std::memory_order_relaxed);
    while (!tat_.compare_exchange_weak(tat, std::max(tat, nowNs - periodNs_) + delta, std::memory_order_relaxed)) {
    }
  }

  std::uint64_t limit() const { return rate_; }
  // The limit as decimal text, written once (it goes on every answer's headers).
  std::string_view limitText() const { return {limitText_, limitLength_}; }
  // Units that could be taken now.
  std::uint64_t remaining(std::int64_t nowNs) const {
    const auto used = std::max<std::int64_t>(tat_.load(std::memory_order_relaxed) - nowNs, 0);
    const auto free = periodNs_ - used;
    return free <= 0 ? 0 : std::min<std::uint64_t>(rate_, static_cast<std::uint64_t>(free / unitNs_));
  }
  // Until the limit is whole again.
  std::int64_t resetNs(std::int64_t nowNs) const {
    return std::max<std::int64_t>(tat_.load(std::memory_order_relaxed) - nowNs, 0);
  }

 private:
  std::uint64_t rate_;
  std::int64_t periodNs_;
  std::int64_t unitNs_;
  std::atomic<std::int64_t> tat_{0};
  char limitText_[20];
  std::uint8_t limitLength_ = 0;
};

}  // namespace infergate::limits
