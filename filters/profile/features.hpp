#pragma once
// The input features infergate profiles, and their fixed bins, defined in one
// place. Every bin is a label value known at compile time (at most kMaxBins per
// feature), so profiling can never create series, and per-worker counters are
// plain arrays indexed by (feature, model, bin).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

#include "filters/core/request_facts.hpp"

namespace infergate::profile {

enum class Feature : std::uint8_t {
  PromptChars,       // log2 bins of prompt code points
  LastUserChars,     // log2 bins
  SystemChars,       // log2 bins
  BodyBytes,         // log2 bins
  Messages,          // log2 bins
  Roles,             // which roles appear
  MaxTokens,         // "absent" + log2 bins
  Temperature,       // "absent" + steps of 0.25
  TopP,              // "absent" + tenths
  N,                 // 1, 2, 3-4, 5-8, >8
  Tools,             // 0, 1, 2-4, 5-16, >16
  ResponseFormat,    // absent, text, json_object, json_schema
  Stream,            // true, false
  NonAsciiShare,     // tenths of the sampled text
  Script,            // dominant script of the sampled text
  Count,
};

constexpr std::size_t kFeatureCount = static_cast<std::size_t>(Feature::Count);
constexpr std::size_t kMaxBins = 20;

// The slot of a (feature, model, bin) count in the per-worker counter array:
// feature-major, then model, then bin. The worker writes it; the registry and
// the drift monitor read it, so the layout lives here only.
constexpr std::size_t featureBinSlot(std::size_t feature, std::size_t model, std::size_t bin, std::size_t models) {
  return (feature * models + model) * kMaxBins + bin;
}

std::string_view featureName(Feature f);

// The bins of every feature: fixed, except size features with custom bounds
// from config. Built once at config load; read-only afterwards.
class BinSpec {
 public:
  BinSpec() = default;  // log2 bins everywhere
  explicit BinSpec(const config::ProfileConfig& config);
  std::size_t binCount(Feature f) const;
  std::string_view binLabel(Feature f, std::size_t b) const;
  // Bin of a size feature's value (custom bounds: "<=b" bins then ">last").
  std::size_t sizeBin(Feature f, std::uint64_t value) const;
  bool custom(Feature f) const { return !bounds_[static_cast<std::size_t>(f)].empty(); }

 private:
  std::array<std::vector<std::uint64_t>, static_cast<std::size_t>(Feature::Count)> bounds_;
  std::array<std::vector<std::string>, static_cast<std::size_t>(Feature::Count)> labels_;
};

const BinSpec& defaultBins();
// Number of bins of `f` and the label of bin `b`, with the default bins.
std::size_t binCount(Feature f);
std::string_view binLabel(Feature f, std::size_t b);
// Ordered features have a meaningful bin order (KS applies); the others are categorical.
bool ordered(Feature f);

// Bin of every feature for one request.
using FeatureBins = std::array<std::uint8_t, kFeatureCount>;
FeatureBins binsOf(const RequestFacts& facts, const BinSpec& spec = defaultBins());

// Log2 bin for sizes: 0 -> "0", 1 -> "1", 2-3 -> "2", 4-7 -> "4", ... capped.
std::size_t log2Bin(std::uint64_t value);

}  // namespace infergate::profile
