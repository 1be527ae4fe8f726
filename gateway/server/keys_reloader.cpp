#include "gateway/server/keys_reloader.hpp"


#include "config/loader.hpp"
#include "filters/core/log_line.hpp"

namespace infergate {


KeysReloader::KeysReloader(boost::asio::io_context& control, std::string configPath, std::string keysFile,
                           auth::KeyDirectory* keys)
    : configPath_(std::move(configPath)),
      keys_(keys),
      // With no auth section a SIGHUP only says so; with no keys file nothing is polled.
      files_(control, keys != nullptr && !keysFile.empty() ? std::vector<std::string>{keysFile} : std::vector<std::string>{},
             [this](const char* why) { return reload(why); }) {}

void KeysReloader::declareStats(metrics::StatsRegistry& stats) {
  if (keys_ == nullptr) return;
  files_.declareStats(stats, "infergate_auth_key_reloads_total",
                      "Times the client API keys were read again (SIGHUP or a changed keys file), by result: ok, or "
                      "failed (errors logged; the keys in force were kept).");
  stats.gaugeFrom({"infergate_auth_keys", "Client API keys in force.", {}, metrics::FamilySpec::Zeros::Export},
                  [this](std::span<const std::uint32_t>) { return static_cast<double>(keys_->latest()->keys.size()); });
}

bool KeysReloader::reload(const char* why) {
  const log::Fields fields = log::Fields().add("reason", why);
  if (keys_ == nullptr) {
    log::write(log::Level::Info, fields, "no auth section: no keys to read again");
    return false;
  }
  auto loaded = config::loadFile(configPath_);
  std::string error;
  if (loaded.ok() && !loaded.config.auth.enabled) error = "the config has no auth section any more";
  if (!loaded.ok() || !error.empty()) {
    for (const auto& e : loaded.errors) log::write(log::Level::Error, fields, "keys not reloaded: " + e);
    if (!error.empty()) log::write(log::Level::Error, fields, "keys not reloaded: " + error);
    return false;
  }
  const auto count = loaded.config.auth.keys.size();
  if (!keys_->replace(std::move(loaded.config.auth.keys), error)) {
    log::write(log::Level::Error, fields, "keys not reloaded: " + error);
    return false;
  }
  log::write(log::Level::Info, log::Fields().add("reason", why).add("keys", std::uint64_t{count}), "keys reloaded");
  return true;
}

}  // namespace infergate
