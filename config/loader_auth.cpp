// The auth section: client API keys from the config (plain values from the
// environment, hashed at once) and from a keys file of digests.
#include <yaml-cpp/yaml.h>

#include <ctime>
#include <set>

#include "config/api_key_digest.hpp"
#include "config/section_loader.hpp"

namespace infergate::config {

namespace {

// Key names are metric label values and log fields: short and plain.
bool acceptableKeyName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name == "none") return false;
  for (unsigned char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
          c == '.'))
      return false;
  return true;
}

// "2027-01-31" (midnight UTC) or "2027-01-31T12:00:00Z".
std::optional<std::int64_t> parseExpiry(const std::string& text) {
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &year, &month, &day, &tail) == 3) {
  } else if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &year, &month, &day, &hour, &minute, &second,
                         &tail) != 6) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace

void SectionLoader::apiKey(const YAML::Node& n, YamlReader& reader, bool plainAllowed) {
  if (!reader.checkMap(n, "auth key", {"name", "key", "sha256", "routes", "models", "expires", "limits"})) return;
  ApiKeyConfig k;
  reader.readString(n, "name", k.name);
  if (!acceptableKeyName(k.name))
    reader.error(n["name"] ? n["name"] : n,
                 "an auth key needs a 'name' of 1-64 letters, digits, '-', '_' or '.' (not 'none'): it is a metric label");
  std::string plain, hex;
  if (n["key"] && !plainAllowed) reader.error(n["key"], "the keys file holds digests only ('sha256'), never a plain 'key'");
  reader.readString(n, "key", plain);
  reader.readString(n, "sha256", hex);
  if (plain.empty() == hex.empty()) {
    reader.error(n, "auth key '" + k.name + "' needs exactly one of 'key' (its value, e.g. ${ENV}) or 'sha256'");
  } else if (!plain.empty()) {
    if (plain.size() < 16) reader.error(n["key"], "auth key '" + k.name + "' is shorter than 16 characters");
    k.digest = sha256(plain);
  } else if (auto digest = parseHexDigest(hex)) {
    k.digest = *digest;
  } else {
    reader.error(n["sha256"], "auth key '" + k.name + "': sha256 must be 64 hexadecimal digits");
  }
  reader.readStringList(n, "routes", k.routes);
  reader.readStringList(n, "models", k.models);
  std::string expires;
  reader.readString(n, "expires", expires);
  if (!expires.empty()) {
    k.expires_unix = parseExpiry(expires);
    if (!k.expires_unix)
      reader.error(n["expires"], "auth key '" + k.name + "': expires must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
  }
  if (auto l = n["limits"]) limits(l, reader, "auth key '" + k.name + "' limits", k.limits);
  result_.config.auth.keys.push_back(std::move(k));
  keyNodes_.push_back(n);
}

void SectionLoader::limits(const YAML::Node& n, YamlReader& reader, const std::string& what, RateLimitConfig& out) {
  if (!reader.checkMap(n, what, {"requests_per_second", "requests_per_minute", "tokens_per_minute", "concurrent"}))
    return;
  reader.readUnsigned(n, "requests_per_second", out.requests_per_second, 10'000'000);
  reader.readUnsigned(n, "requests_per_minute", out.requests_per_minute, 100'000'000);
  reader.readUnsigned(n, "tokens_per_minute", out.tokens_per_minute, 2'000'000'000);
  reader.readUnsigned(n, "concurrent", out.concurrent, 10'000'000);
}

void SectionLoader::rateLimits(const YAML::Node& n) {
  if (!reader_.checkMap(n, "rate_limits", {"store", "redis", "global", "default_completion_tokens"})) return;
  auto& out = result_.config.rate_limits;
  std::string store = "local";
  reader_.readString(n, "store", store);
  if (store == "redis") out.redis = true;
  else if (store != "local") reader_.error(n["store"], "rate_limits.store must be local or redis, got '" + store + "'");
  if (auto r = n["redis"]) {
    if (!out.redis) reader_.error(r, "rate_limits.redis is only read with store: redis");
    redisStore(r, out.redis_store);
  }
  if (auto g = n["global"]) limits(g, reader_, "rate_limits.global", result_.config.rate_limits.global);
  reader_.readUnsigned(n, "default_completion_tokens", result_.config.rate_limits.default_completion_tokens, 1'000'000);
}

void SectionLoader::redisStore(const YAML::Node& n, RedisStoreConfig& out) {
  if (!reader_.checkMap(n, "rate_limits.redis", {"address", "password", "timeout", "connect_timeout", "on_failure",
                                                 "key_prefix", "max_pending"}))
    return;
  reader_.readAddress(n, "address", out.address);
  reader_.readString(n, "password", out.password);
  reader_.readDuration(n, "timeout", out.timeout);
  reader_.readDuration(n, "connect_timeout", out.connect_timeout);
  if (out.timeout.count() <= 0 || out.timeout.count() > 10'000)
    reader_.error(n["timeout"], "rate_limits.redis.timeout must be between 1ms and 10s");
  if (out.connect_timeout.count() <= 0) reader_.error(n["connect_timeout"], "rate_limits.redis.connect_timeout must be positive");
  std::string onFailure = out.fail_open ? "fail_open" : "fail_closed";
  reader_.readString(n, "on_failure", onFailure);
  if (onFailure == "fail_open" || onFailure == "fail_closed") out.fail_open = onFailure == "fail_open";
  else reader_.error(n["on_failure"], "rate_limits.redis.on_failure must be fail_open or fail_closed, got '" + onFailure + "'");
  reader_.readString(n, "key_prefix", out.key_prefix);
  if (out.key_prefix.empty()) reader_.error(n["key_prefix"], "rate_limits.redis.key_prefix must not be empty");
  reader_.readUnsigned(n, "max_pending", out.max_pending, 1'000'000);
  if (out.max_pending == 0) reader_.error(n["max_pending"], "rate_limits.redis.max_pending must be at least 1");
}

void SectionLoader::auth(const YAML::Node& n) {
  auto& a = result_.config.auth;
  a.enabled = true;
  if (n.IsNull()) return;
  if (!reader_.checkMap(n, "auth", {"keys", "keys_file", "max_failures_per_minute", "max_keys"})) return;
  reader_.readUnsigned(n, "max_failures_per_minute", a.max_failures_per_minute, 1'000'000);
  reader_.readUnsigned(n, "max_keys", a.max_keys, 100'000);
  if (auto keys = n["keys"]; keys && reader_.checkSequence(keys, "auth.keys"))
    for (const auto& k : keys) apiKey(k, reader_, true);
  reader_.readString(n, "keys_file", a.keys_file);
  if (a.keys_file.empty()) return;
  // The keys file's own errors name the keys file, line and column.
  YAML::Node file;
  try {
    file = YAML::LoadFile(a.keys_file);
  } catch (const YAML::BadFile&) {
    reader_.error(n["keys_file"], "cannot read keys file '" + a.keys_file + "'");
    return;
  } catch (const YAML::ParserException& e) {
    result_.errors.push_back(a.keys_file + ":" + std::to_string(e.mark.line + 1) + ":" +
                             std::to_string(e.mark.column + 1) + ": " + e.msg);
    return;
  }
  // A keys file is data, not configuration: nothing in it is interpolated.
  const EnvLookup noEnvironment = [](const std::string&) { return std::optional<std::string>{}; };
  YamlReader fileReader(a.keys_file, noEnvironment, result_.errors);
  if (file.IsNull()) return;
  if (!fileReader.checkSequence(file, "keys file")) return;
  for (const auto& k : file) apiKey(k, fileReader, false);
}

void SectionLoader::authChecks() {
  auto& c = result_.config;
  if (c.auth.keys.size() > c.auth.max_keys)
    reader_.error(keyNodes_.back(), "auth has " + std::to_string(c.auth.keys.size()) + " keys, more than auth.max_keys (" +
                                        std::to_string(c.auth.max_keys) + ")");
  std::set<std::string> names;
  std::set<KeyDigest> digests;
  for (std::size_t i = 0; i < c.auth.keys.size(); ++i) {
    const auto& k = c.auth.keys[i];
    if (!k.name.empty() && !names.insert(k.name).second)
      reader_.error(keyNodes_[i]["name"], "duplicate auth key name '" + k.name + "'");
    // An all-zero digest is what a failed hash gives: no key may have it.
    if (k.digest == KeyDigest{}) reader_.error(keyNodes_[i], "auth key '" + k.name + "' has no usable digest");
    else if (!digests.insert(k.digest).second)
      reader_.error(keyNodes_[i], "auth key '" + k.name + "' has the same key as another");
    for (const auto& route : k.routes) {
      bool known = false;
      for (const auto& r : c.routes) known = known || r.name == route;
      if (!known) reader_.error(keyNodes_[i]["routes"], "auth key '" + k.name + "' names unknown route '" + route + "'");
    }
  }
}

}  // namespace infergate::config
