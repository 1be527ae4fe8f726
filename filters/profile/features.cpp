#include "filters/profile/features.hpp"

#include "config/profile_features.hpp"
#include "filters/core/text_script.hpp"

#include <algorithm>
#include <bit>

namespace infergate::profile {

namespace {

// log2 bins: "0", "1", "2", "4", ... "131072", ">=262144": 20 labels.
constexpr std::array<std::string_view, kMaxBins> kLog2Labels = {
    "0",    "1",    "2",     "4",     "8",     "16",    "32",     "64",     "128",    "256",
    "512",  "1024", "2048",  "4096",  "8192",  "16384", "32768",  "65536",  "131072", ">=262144"};
constexpr std::array<std::string_view, kMaxBins> kMaxTokensLabels = {
    "absent", "1",    "2",    "4",     "8",     "16",    "32",    "64",     "128",    "256",
    "512",    "1024", "2048", "4096",  "8192",  "16384", "32768", "65536",  ">=131072", ""};
constexpr std::array<std::string_view, 10> kTemperatureLabels = {
    "absent", "0", "0-0.25", "0.25-0.5", "0.5-0.75", "0.75-1", "1-1.25", "1.25-1.5", "1.5-1.75", "1.75-2"};
constexpr std::array<std::string_view, 12> kTopPLabels = {"absent", "0-0.1",   "0.1-0.2", "0.2-0.3", "0.3-0.4", "0.4-0.5",
                                                          "0.5-0.6", "0.6-0.7", "0.7-0.8", "0.8-0.9", "0.9-1",  "1"};
constexpr std::array<std::string_view, 5> kNLabels = {"1", "2", "3-4", "5-8", ">8"};
constexpr std::array<std::string_view, 5> kToolsLabels = {"0", "1", "2-4", "5-16", ">16"};
constexpr std::array<std::string_view, 4> kFormatLabels = {"absent", "text", "json_object", "json_schema"};
constexpr std::array<std::string_view, 2> kStreamLabels = {"false", "true"};
constexpr std::array<std::string_view, 11> kShareLabels = {"0",       "0-0.1",   "0.1-0.2", "0.2-0.3", "0.3-0.4", "0.4-0.5",
                                                           "0.5-0.6", "0.6-0.7", "0.7-0.8", "0.8-0.9", "0.9-1"};
constexpr std::array<std::string_view, 6> kScriptLabels = {"none", "latin", "cjk", "cyrillic", "arabic", "other"};
constexpr std::array<std::string_view, 7> kRolesLabels = {"user",           "system_user", "user_assistant",
                                                          "system_user_assistant", "with_tool", "no_user", "none"};

static_assert(config::kProfileFeatureNames.size() == kFeatureCount, "a feature without a name, or a name without one");

std::size_t tenth(double share) {
  if (share <= 0) return 0;
  return std::min<std::size_t>(10, 1 + static_cast<std::size_t>(share * 10 - 1e-9));
}

std::size_t rolesBin(std::uint8_t roles) {
  const bool system = roles & 1, user = roles & 2, assistant = roles & 4, tool = roles & 8;
  if (roles == 0) return 6;
  if (tool) return 4;
  if (!user) return 5;
  if (system && assistant) return 3;
  if (assistant) return 2;
  if (system) return 1;
  return 0;
}

// Bins follow kScriptLabels, which is Script's order.
std::size_t scriptBin(const RequestFacts& f) {
  const Script s = dominantScript(f.scriptLatin, f.scriptCjk, f.scriptCyrillic, f.scriptArabic);
  if (s == Script::None) return f.sampledCodePoints == 0 ? 0 : static_cast<std::size_t>(Script::Other);
  return static_cast<std::size_t>(s);
}

}  // namespace

std::size_t log2Bin(std::uint64_t value) {
  if (value == 0) return 0;
  return std::min<std::size_t>(kMaxBins - 1, static_cast<std::size_t>(std::bit_width(value)));
}

std::string_view featureName(Feature f) { return config::kProfileFeatureNames[static_cast<std::size_t>(f)]; }

const BinSpec& defaultBins() {
  static const BinSpec spec;
  return spec;
}

std::size_t binCount(Feature f) { return defaultBins().binCount(f); }
std::string_view binLabel(Feature f, std::size_t b) { return defaultBins().binLabel(f, b); }

BinSpec::BinSpec(const config::ProfileConfig& config) {
  for (const auto& [name, bounds] : config.bins) {
    for (std::size_t f = 0; f < kFeatureCount; ++f) {
      if (featureName(static_cast<Feature>(f)) != name) continue;
      bounds_[f] = bounds;
      auto& labels = labels_[f];
      if (static_cast<Feature>(f) == Feature::MaxTokens) labels.push_back("absent");
      for (auto b : bounds) labels.push_back("<=" + std::to_string(b));
      labels.push_back(">" + std::to_string(bounds.back()));
    }
  }
}

std::size_t BinSpec::sizeBin(Feature f, std::uint64_t value) const {
  const auto& bounds = bounds_[static_cast<std::size_t>(f)];
  if (bounds.empty()) return log2Bin(value);
  return static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
}

std::size_t BinSpec::binCount(Feature f) const {
  if (!labels_[static_cast<std::size_t>(f)].empty()) return labels_[static_cast<std::size_t>(f)].size();
  switch (f) {
    case Feature::MaxTokens: return kMaxBins - 1;
    case Feature::Temperature: return kTemperatureLabels.size();
    case Feature::TopP: return kTopPLabels.size();
    case Feature::N: return kNLabels.size();
    case Feature::Tools: return kToolsLabels.size();
    case Feature::ResponseFormat: return kFormatLabels.size();
    case Feature::Stream: return kStreamLabels.size();
    case Feature::NonAsciiShare: return kShareLabels.size();
    case Feature::Script: return kScriptLabels.size();
    case Feature::Roles: return kRolesLabels.size();
    default: return kMaxBins;
  }
}

std::string_view BinSpec::binLabel(Feature f, std::size_t b) const {
  if (!labels_[static_cast<std::size_t>(f)].empty()) return labels_[static_cast<std::size_t>(f)][b];
  switch (f) {
    case Feature::MaxTokens: return kMaxTokensLabels[b];
    case Feature::Temperature: return kTemperatureLabels[b];
    case Feature::TopP: return kTopPLabels[b];
    case Feature::N: return kNLabels[b];
    case Feature::Tools: return kToolsLabels[b];
    case Feature::ResponseFormat: return kFormatLabels[b];
    case Feature::Stream: return kStreamLabels[b];
    case Feature::NonAsciiShare: return kShareLabels[b];
    case Feature::Script: return kScriptLabels[b];
    case Feature::Roles: return kRolesLabels[b];
    default: return kLog2Labels[b];
  }
}

bool ordered(Feature f) {
  switch (f) {
    case Feature::Roles:
    case Feature::ResponseFormat:
    case Feature::Stream:
    case Feature::Script:
      return false;
    default:
      return true;
  }
}

FeatureBins binsOf(const RequestFacts& f, const BinSpec& spec) {
  FeatureBins bins{};
  auto set = [&bins](Feature feature, std::size_t bin) { bins[static_cast<std::size_t>(feature)] = static_cast<std::uint8_t>(bin); };
  set(Feature::PromptChars, spec.sizeBin(Feature::PromptChars, f.promptChars));
  set(Feature::LastUserChars, spec.sizeBin(Feature::LastUserChars, f.lastUserChars));
  set(Feature::SystemChars, spec.sizeBin(Feature::SystemChars, f.systemChars));
  set(Feature::BodyBytes, spec.sizeBin(Feature::BodyBytes, f.bodyBytes));
  set(Feature::Messages, spec.sizeBin(Feature::Messages, f.messages));
  set(Feature::Roles, rolesBin(f.rolesSeen));
  set(Feature::MaxTokens, !f.hasMaxTokens ? 0
                          : spec.custom(Feature::MaxTokens)
                              ? 1 + spec.sizeBin(Feature::MaxTokens, f.maxTokens)
                              : std::min<std::size_t>(kMaxBins - 2, log2Bin(f.maxTokens)));
  set(Feature::Temperature,
      !f.hasTemperature ? 0 : f.temperature <= 0 ? 1 : std::min<std::size_t>(9, 2 + static_cast<std::size_t>((f.temperature - 1e-9) / 0.25)));
  set(Feature::TopP, !f.hasTopP ? 0 : f.topP >= 1 ? 11 : 1 + std::min<std::size_t>(9, static_cast<std::size_t>(f.topP * 10)));
  set(Feature::N, f.n <= 1 ? 0 : f.n == 2 ? 1 : f.n <= 4 ? 2 : f.n <= 8 ? 3 : 4);
  set(Feature::Tools, f.tools == 0 ? 0 : f.tools == 1 ? 1 : f.tools <= 4 ? 2 : f.tools <= 16 ? 3 : 4);
  set(Feature::ResponseFormat, f.responseFormat);
  set(Feature::Stream, f.stream ? 1 : 0);
  set(Feature::NonAsciiShare,
      f.sampledCodePoints == 0 ? 0 : tenth(static_cast<double>(f.sampledNonAscii) / f.sampledCodePoints));
  set(Feature::Script, scriptBin(f));
  return bins;
}

}  // namespace infergate::profile
