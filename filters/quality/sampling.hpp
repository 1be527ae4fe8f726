#pragma once
// Which requests have their answers sampled. The rate decision depends only on
// the request id, so every replica (and a replay) samples the same requests:
// hash(request_id) < rate × 2^64. A per-minute cap bounds the cost of the
// always-sample rules during an incident.
#include <atomic>
#include <cstdint>
#include <string_view>

namespace infergate::quality {

// 64-bit FNV-1a with a splitmix64 finaliser (FNV alone has weak high bits).
std::uint64_t requestHash(std::string_view requestId, std::uint64_t seed = 0);

// The threshold for `rate` in [0, 1]: a request is sampled when its hash is below it.
std::uint64_t rateThreshold(double rate);
inline bool sampledAt(std::uint64_t hash, std::uint64_t threshold) {
  return threshold == UINT64_MAX || hash < threshold;
}

// Why a request's answer was captured (the first rule that applied).
enum class SampleReason : std::uint8_t { Rate, Anomaly, Error, SlowFirstToken };
std::string_view sampleReasonName(SampleReason r);

// At most `perMinute` samples per wall-clock minute, across threads. One atomic
// read-modify-write per sampled request; nothing for the others.
class MinuteBudget {
 public:
  explicit MinuteBudget(std::uint32_t perMinute) : perMinute_(perMinute) {}
  // `minute`: minutes since an epoch (monotonic). False when the minute's budget is spent.
  bool take(std::int64_t minute);

 private:
  std::uint32_t perMinute_;
  // High 32 bits: the minute (mod 2^32); low 32 bits: samples taken in it.
  std::atomic<std::uint64_t> state_{0};
};

}  // namespace infergate::quality
