#pragma once
// Names of the input features infergate profiles, in the order of
// profile::Feature (filters/profile/features.hpp). They live here so the
// config loader can check feature names with their position in the file; the
// profiler takes its names from this list.
#include <array>
#include <cstddef>
#include <string_view>

namespace infergate::config {

inline constexpr std::array<std::string_view, 15> kProfileFeatureNames = {
    "prompt_chars", "last_user_chars", "system_chars", "body_bytes", "messages",        "roles",  "max_tokens",
    "temperature",  "top_p",           "n",            "tools",      "response_format", "stream", "non_ascii_share",
    "script"};

// Index of the feature named `name` (its profile::Feature value), or
// kProfileFeatureNames.size() for no feature.
constexpr std::size_t profileFeatureIndex(std::string_view name) {
  std::size_t f = 0;
  while (f < kProfileFeatureNames.size() && kProfileFeatureNames[f] != name) ++f;
  return f;
}

}  // namespace infergate::config
