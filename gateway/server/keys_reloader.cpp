#include "gateway/server/keys_reloader.hpp"

#include <signal.h>

#include "config/loader.hpp"
#include "filters/core/log_line.hpp"

namespace infergate {

namespace {
constexpr std::chrono::seconds kPollEvery{2};
}

KeysReloader::KeysReloader(boost::asio::io_context& control, std::string configPath, std::string keysFile,
                           auth::KeyDirectory* keys)
    : configPath_(std::move(configPath)),
      keysFile_(std::move(keysFile)),
      keys_(keys),
      hangup_(control, SIGHUP),
      timer_(control),
      seen_(keysFile_.empty() ? FileStamp{} : FileStamp::of(keysFile_)) {}

void KeysReloader::declareStats(metrics::StatsRegistry& stats) {
  if (keys_ == nullptr) return;
  stats.counterFrom({"infergate_auth_key_reloads_total",
                     "Times the client API keys were read again (SIGHUP or a changed keys file), by result: ok, or "
                     "failed (errors logged; the keys in force were kept).",
                     {metrics::Dimension::of("result", {"ok", "failed"})},
                     metrics::FamilySpec::Zeros::Export},
                    [this](std::span<const std::uint32_t> at) {
                      return static_cast<double>((at[0] == 0 ? reloaded_ : failed_).load(std::memory_order_relaxed));
                    });
  stats.gaugeFrom({"infergate_auth_keys", "Client API keys in force.", {}, metrics::FamilySpec::Zeros::Export},
                  [this](std::span<const std::uint32_t>) { return static_cast<double>(keys_->latest()->keys.size()); });
}

void KeysReloader::start() {
  waitForSignal();
  if (keys_ != nullptr && !keysFile_.empty()) poll();
}

void KeysReloader::stop() {
  boost::system::error_code ignored;
  hangup_.cancel(ignored);
  timer_.cancel();
}

void KeysReloader::waitForSignal() {
  hangup_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    reload("SIGHUP");
    waitForSignal();
  });
}

void KeysReloader::poll() {
  timer_.expires_after(kPollEvery);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    if (const auto now = FileStamp::of(keysFile_); !(now == seen_)) {
      seen_ = now;
      reload("the keys file changed");
    }
    poll();
  });
}

void KeysReloader::reload(const char* why) {
  const log::Fields fields = log::Fields().add("reason", why);
  if (keys_ == nullptr) {
    log::write(log::Level::Info, fields, "no auth section: no keys to read again");
    return;
  }
  if (!keysFile_.empty()) seen_ = FileStamp::of(keysFile_);
  auto loaded = config::loadFile(configPath_);
  std::string error;
  if (loaded.ok() && !loaded.config.auth.enabled) error = "the config has no auth section any more";
  if (!loaded.ok() || !error.empty()) {
    for (const auto& e : loaded.errors) log::write(log::Level::Error, fields, "keys not reloaded: " + e);
    if (!error.empty()) log::write(log::Level::Error, fields, "keys not reloaded: " + error);
    failed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const auto count = loaded.config.auth.keys.size();
  if (!keys_->replace(std::move(loaded.config.auth.keys), error)) {
    log::write(log::Level::Error, fields, "keys not reloaded: " + error);
    failed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  reloaded_.fetch_add(1, std::memory_order_relaxed);
  log::write(log::Level::Info, log::Fields().add("reason", why).add("keys", std::uint64_t{count}), "keys reloaded");
}

}  // namespace infergate
