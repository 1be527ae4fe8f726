#pragma once
// ${VAR} and ${VAR:-default} interpolation of config strings, so that secrets such
// as upstream API keys live in the environment and never in the file.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace infergate::config {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

EnvLookup processEnvironment();

struct InterpolationResult {
  std::string value;
  std::string error;  // empty on success
};

// "$$" escapes a literal '$'. An unset variable without a default is an error.
InterpolationResult interpolate(std::string_view text, const EnvLookup& lookup);

}  // namespace infergate::config
