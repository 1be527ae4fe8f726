#pragma once
// Which requests have their answers sampled. The rate decision depends only on
// the request id, so every replica (and a replay) samples the same requests:
// hash(request_id) < rate × 2^64. A per-minute budget bounds the cost of the
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

// `perMinute` samples a minute, spread evenly: a token bucket refilled
// continuously (one token every 60 s / perMinute) that holds at most `burst`,
// so any 60 s takes at most perMinute + burst.
// A fixed per-minute counter took a whole minute's samples in its first second
// under load: every sample came from the same second of the minute, and the
// scoring thread ran flat out then and idled for the rest.
// The bucket is kept as one atomic "theoretical arrival time" (GCRA): one
// compare-and-swap per sampled request, nothing for the others.
class SampleBudget {
 public:
  // perMinute 0 takes nothing; burst 0 means max(1, perMinute / 12) (5 s of tokens).
  SampleBudget(std::uint32_t perMinute, std::uint32_t burst);
  // `nowNs`: a monotonic clock. False when the bucket is empty.
  bool take(std::int64_t nowNs);

 private:
  std::int64_t intervalNs_;   // time to earn one token
  std::int64_t toleranceNs_;  // how far ahead of now the arrival time may run: burst - 1 tokens
  bool open_;
  std::atomic<std::int64_t> arrival_;
};

}  // namespace infergate::quality
