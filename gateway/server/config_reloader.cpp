#include "gateway/server/config_reloader.hpp"

#include <yaml-cpp/yaml.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "config/loader.hpp"
#include "filters/core/fnv_hash.hpp"
#include "filters/core/log_line.hpp"

namespace infergate {

namespace {

std::string readText(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string hashOf(const std::string& text) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(text)));
  return hex;
}

// The keys of map `node` whose values differ between `before` and `after`
// (compared as normalised YAML: comments and layout do not count), added or
// removed ones included, each prefixed with `prefix`.
std::vector<std::string> differingKeys(const YAML::Node& before, const YAML::Node& after, const std::string& prefix) {
  const auto dumps = [](const YAML::Node& map) {
    std::map<std::string, std::string> out;
    if (map && map.IsMap())
      for (const auto& entry : map) out[entry.first.as<std::string>()] = YAML::Dump(entry.second);
    return out;
  };
  const auto old = dumps(before), now = dumps(after);
  std::vector<std::string> out;
  for (const auto& [key, yaml] : now)
    if (auto it = old.find(key); it == old.end() || it->second != yaml) out.push_back(prefix + key);
  for (const auto& [key, yaml] : old)
    if (!now.count(key)) out.push_back(prefix + key);
  return out;
}

// The section's YAML without `keys` (its own top-level keys), normalised.
std::string sectionWithout(const YAML::Node& root, const std::string& section, const std::vector<std::string>& keys) {
  if (!root.IsMap() || !root[section]) return {};
  auto copy = YAML::Clone(root[section]);
  if (copy.IsMap())
    for (const auto& k : keys) copy.remove(k);
  return YAML::Dump(copy);
}

// What changed in a section, as the reload reports it: its own keys that
// differ ("server.workers") when it is a map in both files, else its name.
std::vector<std::string> changedKeys(const YAML::Node& before, const YAML::Node& after, const std::string& section) {
  const auto a = before[section], b = after[section];
  if (!a || !b || !a.IsMap() || !b.IsMap()) return {section};
  auto out = differingKeys(a, b, section + ".");
  return out.empty() ? std::vector<std::string>{section} : out;
}

bool sensitiveKey(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name == "key" || name == "password" || name == "token" || name == "authorization" || name == "api-key" ||
         name == "x-api-key" || name == "sha256";
}

// A value that is only ${VAR} references names secrets without holding them;
// anything else under a sensitive key (or a header) is masked.
void mask(YAML::Node node, bool sensitive) {
  if (node.IsScalar()) {
    const auto value = node.Scalar();
    if (sensitive && (value.find("${") == std::string::npos || value.find(":-") != std::string::npos))
      node = "<masked>";
    return;
  }
  if (node.IsSequence()) {
    for (auto child : node) mask(child, sensitive);
    return;
  }
  if (!node.IsMap()) return;
  for (auto entry : node) {
    const auto name = entry.first.as<std::string>();
    mask(entry.second, sensitive || sensitiveKey(name) || name == "headers");
  }
}

constexpr const char* kResultNames[] = {"ok", "restart_required", "failed"};

}  // namespace

std::string ConfigReloader::Outcome::json() const {
  const auto array = [](const std::vector<std::string>& items) {
    boost::json::array a;
    for (const auto& i : items) a.emplace_back(i);
    return a;
  };
  return boost::json::serialize(boost::json::object{{"result", kResultNames[static_cast<int>(result)]},
                                                    {"errors", array(errors)},
                                                    {"applied", array(applied)},
                                                    {"restart_required", array(needRestart)},
                                                    {"restart_reason", restartReason}});
}

ConfigReloader::ConfigReloader(boost::asio::io_context& control, std::string configPath, std::string keysFile,
                               auth::KeyDirectory* keys)
    : configPath_(std::move(configPath)),
      keysFile_(std::move(keysFile)),
      keys_(keys),
      // The keys file is polled when there is one; the config file itself is
      // read again on SIGHUP or POST /admin/reload only.
      files_(control, keys != nullptr && !keysFile_.empty() ? std::vector<std::string>{keysFile_} : std::vector<std::string>{},
             [this](const char* why) { return reload(why).result != Outcome::Result::Failed; }),
      inForce_(readText(configPath_)),
      keysInForce_(readText(keysFile_)),
      hash_(hashOf(inForce_)) {
  allowInPlace("log", {"level"},
               [](const config::Config& c) { log::setThreshold(static_cast<log::Level>(c.log.level)); });
}

void ConfigReloader::allowInPlace(std::string section, std::vector<std::string> keys,
                                  std::function<void(const config::Config&)> apply) {
  inPlace_.push_back({std::move(section), std::move(keys), std::move(apply)});
}

void ConfigReloader::declareStats(metrics::StatsRegistry& stats) {
  using Zeros = metrics::FamilySpec::Zeros;
  stats.counterFrom({"infergate_config_reload_total",
                     "Config reloads (SIGHUP, POST /admin/reload, a changed keys file), by result: ok (every change in "
                     "force), restart_required (some changed sections need a restart; the rest is in force), failed "
                     "(errors; nothing changed).",
                     {metrics::Dimension::of("result", {"ok", "restart_required", "failed"})},
                     Zeros::Export},
                    [this](std::span<const std::uint32_t> at) {
                      return static_cast<double>(results_[at[0]].load(std::memory_order_relaxed));
                    });
  // One series: the label values are the hash and generation in force now.
  stats.infoFrom("infergate_config_info", "The config in force: 1, labelled with its file's hash and generation.",
                 [this] {
                   return std::vector<std::pair<std::string, std::string>>{{"hash", hash_},
                                                                           {"generation", std::to_string(generation_)}};
                 });
  stats.gaugeFrom({"infergate_config_restart_required",
                   "1 when the config file holds changes that need a restart to take effect.", {}, Zeros::Export},
                  [this](std::span<const std::uint32_t>) { return restartPending_ ? 1.0 : 0.0; });
  if (keys_ == nullptr) return;
  stats.counterFrom({"infergate_auth_key_reloads_total",
                     "Times the client API keys were read again (SIGHUP, POST /admin/reload or a changed keys file), "
                     "by result: ok, or failed (errors logged; the keys in force were kept).",
                     {metrics::Dimension::of("result", {"ok", "failed"})},
                     Zeros::Export},
                    [this](std::span<const std::uint32_t> at) {
                      return static_cast<double>(keyReloads_[at[0] == 0 ? 0 : 1].load(std::memory_order_relaxed));
                    });
  stats.gaugeFrom({"infergate_auth_keys", "Client API keys in force.", {}, Zeros::Export},
                  [this](std::span<const std::uint32_t>) { return static_cast<double>(keys_->latest()->keys.size()); });
}

ConfigReloader::Outcome ConfigReloader::reload(const char* why) {
  Outcome out;
  const log::Fields fields = log::Fields().add("reason", why);
  const auto finish = [&](Outcome::Result result) {
    out.result = result;
    results_[static_cast<int>(result)].fetch_add(1, std::memory_order_relaxed);
    return out;
  };
  auto loaded = config::loadFile(configPath_);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) log::write(log::Level::Error, fields, "config not reloaded: " + e);
    out.errors = loaded.errors;
    if (keys_ != nullptr) keyReloads_[1].fetch_add(1, std::memory_order_relaxed);
    return finish(Outcome::Result::Failed);
  }
  const auto text = readText(configPath_);
  const auto keysText = readText(loaded.config.auth.keys_file);
  const auto oldRoot = YAML::Load(inForce_), newRoot = YAML::Load(text);
  auto changed = differingKeys(oldRoot, newRoot, "");
  const bool keysFileChanged = keysText != keysInForce_;
  if (keysFileChanged && std::find(changed.begin(), changed.end(), "auth") == changed.end()) changed.push_back("auth");

  // Sections of which only their in-place keys changed.
  const auto inPlace = [&](const std::string& section) -> const InPlace* {
    for (const auto& p : inPlace_)
      if (p.section == section && oldRoot[section] && newRoot[section] &&
          sectionWithout(oldRoot, section, p.keys) == sectionWithout(newRoot, section, p.keys))
        return &p;
    return nullptr;
  };
  // Sections a new generation is built from go first, together: a failure
  // there refuses the whole file before anything else is applied.
  const auto rebuilt = [&](const std::string& section) {
    if (!rebuild_) return false;
    for (const auto& r : rebuildSections_)
      if (r.section == section)
        return r.keys.empty() || (oldRoot[section] && newRoot[section] &&
                                  sectionWithout(oldRoot, section, r.keys) == sectionWithout(newRoot, section, r.keys));
    return false;
  };
  std::vector<std::string> structural;
  for (const auto& section : changed)
    if (rebuilt(section)) structural.push_back(section);
  if (!structural.empty()) {
    auto r = rebuild_(loaded.config, structural);
    if (!r.error.empty()) {
      log::write(log::Level::Error, fields, "config not reloaded: " + r.error);
      out.errors.push_back(r.error);
      return finish(Outcome::Result::Failed);
    }
    if (r.applied) {
      out.applied.insert(out.applied.end(), structural.begin(), structural.end());
      for (auto& key : r.needRestart) out.needRestart.push_back(std::move(key));
    } else {
      out.restartReason = r.refused;
      for (const auto& section : structural)
        for (auto& key : changedKeys(oldRoot, newRoot, section)) out.needRestart.push_back(std::move(key));
    }
  }
  for (const auto& section : changed) {
    if (rebuilt(section)) continue;
    if (const auto* p = inPlace(section)) {
      p->apply(loaded.config);
      out.applied.push_back(section);
    } else if (section == "auth" && keys_ != nullptr && loaded.config.auth.enabled) {
      std::string error;
      const auto count = loaded.config.auth.keys.size();
      if (!keys_->replace(std::move(loaded.config.auth.keys), error)) {
        log::write(log::Level::Error, fields, "config not reloaded: " + error);
        out.errors.push_back(error);
        keyReloads_[1].fetch_add(1, std::memory_order_relaxed);
        return finish(Outcome::Result::Failed);
      }
      keyReloads_[0].fetch_add(1, std::memory_order_relaxed);
      log::write(log::Level::Info, log::Fields().add("reason", why).add("keys", std::uint64_t{count}), "keys reloaded");
      out.applied.push_back(section);
    } else {
      for (auto& key : changedKeys(oldRoot, newRoot, section)) out.needRestart.push_back(std::move(key));
    }
  }
  // A SIGHUP with nothing changed still reads the keys again: an operator's way to check them.
  if (changed.empty() && keys_ != nullptr) keyReloads_[0].fetch_add(1, std::memory_order_relaxed);
  if (!out.applied.empty()) {
    keysInForce_ = keysText;
    ++generation_;
  }
  restartPending_ = !out.needRestart.empty();
  if (!restartPending_) {
    inForce_ = text;
    hash_ = hashOf(inForce_);
  }
  std::string summary = "config reloaded: " + std::to_string(changed.size()) + " section(s) changed";
  for (const auto& s : out.applied) summary += "; " + s + " in force";
  if (restartPending_) {
    summary += "; needs a restart to take effect:";
    for (const auto& s : out.needRestart) summary += " " + s;
    if (!out.restartReason.empty()) summary += " (" + out.restartReason + ")";
  }
  log::write(restartPending_ ? log::Level::Warn : log::Level::Info,
             log::Fields().add("reason", why).add("hash", hash_).add("generation", generation_), summary);
  return finish(restartPending_ ? Outcome::Result::RestartRequired : Outcome::Result::Ok);
}

std::string ConfigReloader::maskedConfig() const {
  auto root = YAML::Load(inForce_);
  mask(root, false);
  YAML::Emitter emitter;
  emitter << root;
  return "# " + configPath_ + " in force: hash " + hash_ + ", generation " + std::to_string(generation_) +
         (restartPending_ ? " (the file holds changes that need a restart)" : "") + "\n" + emitter.c_str() + "\n";
}

}  // namespace infergate
