#include "config/loader.hpp"

#include <boost/url/parse.hpp>
#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <re2/re2.h>
#include <set>

#include "config/profile_features.hpp"
#include "config/section_loader.hpp"
#include "config/yaml_reader.hpp"

namespace infergate::config {

std::string Address::authority() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool parseAddress(const std::string& text, Address& out, std::string& error) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [ipv6]:port, got '" + text + "'";
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      error = "expected host:port, got '" + text + "'";
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || value > 65535) {
    error = "expected host:port with a port between 0 and 65535, got '" + text + "'";
    return false;
  }
  out.host = host;
  out.port = static_cast<std::uint16_t>(value);
  return true;
}

LoadResult loadString(const std::string& yaml, const std::string& source, const EnvLookup& env) {
  LoadResult result;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    result.errors.push_back(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                            ": " + e.msg);
    return result;
  }
  try {
    SectionLoader(source, env, result).load(root);
  } catch (const YAML::Exception& e) {
    result.errors.push_back(source + ": " + e.what());
  }
  return result;
}

LoadResult loadFile(const std::string& path, const EnvLookup& env) {
  std::string text;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[8192];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  } else {
    LoadResult result;
    result.errors.push_back(path + ": cannot open config file");
    return result;
  }
  return loadString(text, path, env);
}

}  // namespace infergate::config
