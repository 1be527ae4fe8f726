#pragma once
// ${VAR} and ${VAR:-default} interpolation of config strings, so that secrets such
// as upstream API keys live in the environment and never in the file.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace infergate::config {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

EnvLookup processEnvironment();

struct InterpolationResult {
  std::string value;
  std::string error;  // empty on success
  // (variable name, its value) for each value taken from the environment:
  // possibly secrets, which messages must never show.
  std::vector<std::pair<std::string, std::string>> substituted;
};

// "$$" escapes a literal '$'. An unset variable without a default is an error.
InterpolationResult interpolate(std::string_view text, const EnvLookup& lookup);

}  // namespace infergate::config
