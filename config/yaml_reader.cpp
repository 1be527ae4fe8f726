#include "config/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "config/loader.hpp"
#include "config/units.hpp"

namespace infergate::config {

void YamlReader::error(const YAML::Mark& at, const std::string& rawMessage) {
  const std::string message = masked(rawMessage);
  if (at.is_null()) {
    errors_.push_back(source_ + ": " + message);
    return;
  }
  errors_.push_back(source_ + ":" + std::to_string(at.line + 1) + ":" + std::to_string(at.column + 1) + ": " +
                    message);
}

void YamlReader::rememberInterpolated(const std::string& raw, const std::string& value) {
  if (value.empty() || value == raw) return;
  for (const auto& [v, r] : interpolated_)
    if (v == value) return;
  interpolated_.emplace_back(value, raw);
  // Longest first: a shorter value replaced inside a longer one would leave
  // the longer one unrecognisable, and the secret in it shown.
  std::stable_sort(interpolated_.begin(), interpolated_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

// Messages quote values as 'value': those are replaced whatever their length;
// a long value is replaced wherever it appears. Then every long value a
// variable gave is replaced by the variable's ${NAME}, wherever it is left.
std::string YamlReader::masked(std::string message) const {
  constexpr std::size_t kSecretLength = 8;
  auto replaceAll = [&message](const std::string& from, const std::string& to) {
    for (auto at = message.find(from); at != std::string::npos; at = message.find(from, at + to.size()))
      message.replace(at, from.size(), to);
  };
  for (const auto& [value, raw] : interpolated_) {
    replaceAll("'" + value + "'", "'" + raw + "'");
    if (value.size() >= kSecretLength) replaceAll(value, raw);
  }
  for (const auto& [name, value] : variables_)
    if (value.size() >= kSecretLength) replaceAll(value, "${" + name + "}");
  return message;
}

YAML::Node YamlReader::keyOr(const YAML::Node& map, const char* key) {
  if (map.IsMap())
    if (auto node = map[key]; node) return node;
  return map;
}

void YamlReader::checkDuplicateKeys(const YAML::Node& node) {
  if (node.IsSequence()) {
    for (const auto& item : node) checkDuplicateKeys(item);
    return;
  }
  if (!node.IsMap()) return;
  std::vector<std::pair<std::string, YAML::Mark>> seen;
  for (const auto& kv : node) {
    if (kv.first.IsScalar()) {
      const std::string& key = kv.first.Scalar();
      for (const auto& [name, mark] : seen)
        if (name == key)
          error(kv.first, "duplicate key '" + key + "' (first at line " + std::to_string(mark.line + 1) + ", column " +
                              std::to_string(mark.column + 1) + ")");
      seen.emplace_back(key, kv.first.Mark());
    }
    checkDuplicateKeys(kv.second);
  }
}

void YamlReader::error(const YAML::Node& at, const std::string& message) { error(at.Mark(), message); }

std::string YamlReader::where(const YAML::Node& at) const {
  const auto mark = at.Mark();
  if (mark.is_null()) return source_ + ": ";
  return source_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
}

bool YamlReader::checkMap(const YAML::Node& node, const std::string& what,
                          std::initializer_list<const char*> allowed) {
  if (!node.IsMap()) {
    error(node, what + " must be a mapping");
    return false;
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    bool known = false;
    for (const char* a : allowed)
      if (key == a) known = true;
    if (!known) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      error(kv.first, "unknown key '" + key + "' in " + what + " (expected one of: " + list + ")");
    }
  }
  return true;
}

bool YamlReader::checkSequence(const YAML::Node& node, const std::string& what) {
  if (!node.IsSequence()) {
    error(node, what + " must be a list");
    return false;
  }
  return true;
}

bool YamlReader::scalar(const YAML::Node& node, const std::string& what, std::string& out) {
  if (!node.IsScalar()) {
    error(node, what + " must be a scalar value");
    return false;
  }
  auto result = interpolate(node.Scalar(), env_);
  if (!result.error.empty()) {
    error(node, what + ": " + result.error);
    return false;
  }
  if (node.Scalar().find('$') != std::string::npos) rememberInterpolated(node.Scalar(), result.value);
  for (auto& variable : result.substituted)
    if (std::find(variables_.begin(), variables_.end(), variable) == variables_.end()) variables_.push_back(variable);
  out = std::move(result.value);
  return true;
}

void YamlReader::readString(const YAML::Node& map, const char* key, std::string& out) {
  auto node = map[key];
  if (!node) return;
  scalar(node, key, out);
}

void YamlReader::readUnsigned(const YAML::Node& map, const char* key, unsigned& out, unsigned max) {
  auto node = map[key];
  std::string text;
  if (!node || !scalar(node, key, text)) return;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value > max) {
    error(node, std::string(key) + " must be an integer between 0 and " + std::to_string(max) + ", got '" + text +
                    "'");
    return;
  }
  out = value;
}

void YamlReader::readSize(const YAML::Node& map, const char* key, std::size_t& out) {
  auto node = map[key];
  std::string text;
  if (!node || !scalar(node, key, text)) return;
  auto size = parseSize(text);
  if (!size) {
    error(node, std::string(key) + " must be a size such as 512, 16KiB or 8MiB, got '" + text + "'");
    return;
  }
  out = *size;
}

void YamlReader::readDuration(const YAML::Node& map, const char* key, Duration& out) {
  auto node = map[key];
  std::string text;
  if (!node || !scalar(node, key, text)) return;
  auto d = parseDuration(text);
  if (!d) {
    error(node, std::string(key) + " must be a duration such as 250ms, 30s, 5m or 1h, got '" + text + "'");
    return;
  }
  out = *d;
}

void YamlReader::readAddress(const YAML::Node& map, const char* key, Address& out) {
  auto node = map[key];
  std::string text;
  if (!node || !scalar(node, key, text)) return;
  std::string why;
  if (!parseAddress(text, out, why)) error(node, std::string(key) + ": " + why);
}

void YamlReader::readStringList(const YAML::Node& map, const char* key, std::vector<std::string>& out) {
  auto node = map[key];
  if (!node) return;
  if (!checkSequence(node, key)) return;
  out.clear();
  for (const auto& item : node) {
    std::string text;
    if (scalar(item, key, text)) out.push_back(std::move(text));
  }
}

}  // namespace infergate::config

namespace infergate::config {

void YamlReader::readBool(const YAML::Node& map, const char* key, bool& out) {
  auto node = map[key];
  std::string text;
  if (!node || !scalar(node, key, text)) return;
  if (text == "true") out = true;
  else if (text == "false") out = false;
  else error(node, std::string(key) + " must be true or false, got '" + text + "'");
}

void YamlReader::readBounds(const YAML::Node& map, const char* key, std::vector<double>& out) {
  auto node = map[key];
  if (!node) return;
  if (!checkSequence(node, key)) return;
  std::vector<double> bounds;
  for (const auto& item : node) {
    std::string text;
    if (!scalar(item, key, text)) return;
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !(v > 0) || v > 1e9) {
      error(item, std::string(key) + ": bucket bounds must be positive numbers of seconds, got '" + text + "'");
      return;
    }
    if (!bounds.empty() && v <= bounds.back()) {
      error(item, std::string(key) + ": bucket bounds must be strictly increasing");
      return;
    }
    bounds.push_back(v);
  }
  if (bounds.empty() || bounds.size() > 250) {
    error(node, std::string(key) + ": give between 1 and 250 bucket bounds");
    return;
  }
  out = std::move(bounds);
}

}  // namespace infergate::config
