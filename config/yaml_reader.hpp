#pragma once
// Typed, position-aware access to yaml-cpp nodes. Collects errors instead of
// throwing so that one --check run reports every problem in a file.
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/env_interpolation.hpp"

namespace infergate::config {

class YamlReader {
 public:
  YamlReader(std::string source, const EnvLookup& env, std::vector<std::string>& errors)
      : source_(std::move(source)), env_(env), errors_(errors) {}

  void error(const YAML::Node& at, const std::string& message);
  void error(const YAML::Mark& at, const std::string& message);
  // "file:line:column: " of a node, as errors begin (for warnings).
  std::string where(const YAML::Node& at) const;

  // The value of `key` in `map` when present (so that an error about it points
  // at its own line), else the map itself.
  static YAML::Node keyOr(const YAML::Node& map, const char* key);

  // Reports every mapping in the document that repeats a key, with both
  // positions (yaml-cpp keeps one silently).
  void checkDuplicateKeys(const YAML::Node& node);

  // True when `node` is a map; reports every key not in `allowed`.
  bool checkMap(const YAML::Node& node, const std::string& what, std::initializer_list<const char*> allowed);
  bool checkSequence(const YAML::Node& node, const std::string& what);

  // Each reader leaves `out` untouched when the key is absent (the default stays).
  void readString(const YAML::Node& map, const char* key, std::string& out);
  void readUnsigned(const YAML::Node& map, const char* key, unsigned& out, unsigned max);
  void readSize(const YAML::Node& map, const char* key, std::size_t& out);
  void readDuration(const YAML::Node& map, const char* key, Duration& out);
  void readAddress(const YAML::Node& map, const char* key, Address& out);
  void readStringList(const YAML::Node& map, const char* key, std::vector<std::string>& out);
  void readBool(const YAML::Node& map, const char* key, bool& out);
  // Strictly increasing positive numbers (histogram bucket bounds).
  void readBounds(const YAML::Node& map, const char* key, std::vector<double>& out);

  // The interpolated text of a scalar, or false (with an error) if it is not one.
  bool scalar(const YAML::Node& node, const std::string& what, std::string& out);

 private:
  // Values that came from the environment (possibly secrets), each with the
  // text the file has in their place: no message ever shows the value itself.
  void rememberInterpolated(const std::string& raw, const std::string& value);
  std::string masked(std::string message) const;

  std::string source_;
  const EnvLookup& env_;
  std::vector<std::string>& errors_;
  std::vector<std::pair<std::string, std::string>> interpolated_;  // (value, raw text), longest value first
  std::vector<std::pair<std::string, std::string>> variables_;     // (name, value) read from the environment
};

}  // namespace infergate::config
