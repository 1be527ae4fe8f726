#include "config/env_interpolation.hpp"

#include <cctype>
#include <cstdlib>

namespace infergate::config {

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

namespace {
bool validName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}
}  // namespace

InterpolationResult interpolate(std::string_view text, const EnvLookup& lookup) {
  InterpolationResult out;
  out.value.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '$') {
      out.value.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out.value.push_back('$');
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out.value.push_back('$');
      continue;
    }
    auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      out.error = "unterminated ${ in value";
      return out;
    }
    std::string_view inner = text.substr(i + 2, close - i - 2);
    std::string_view name = inner;
    std::optional<std::string_view> fallback;
    if (auto sep = inner.find(":-"); sep != std::string_view::npos) {
      name = inner.substr(0, sep);
      fallback = inner.substr(sep + 2);
    }
    if (!validName(name)) {
      out.error = "invalid environment variable name '" + std::string(name) + "'";
      return out;
    }
    auto value = lookup(std::string(name));
    if (value && !value->empty()) {
      out.value += *value;
      out.substituted.emplace_back(std::string(name), *value);
    } else if (fallback) {
      out.value += *fallback;
    } else if (value) {
      out.value += *value;  // set but empty, no default: empty is what the user set
    } else {
      out.error = "environment variable " + std::string(name) + " is not set";
      return out;
    }
    i = close;
  }
  return out;
}

}  // namespace infergate::config
