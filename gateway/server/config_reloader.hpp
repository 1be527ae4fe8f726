#pragma once
// Reads the config file again while the gateway runs: on SIGHUP, on
// POST /admin/reload, and when the keys file changes (polled every two
// seconds). A file with any error is refused as a whole: what is in force
// stays, and each error is logged and returned with its file, line and
// column. A good file is compared with the one in force, section by section.
// What can change in place is put in force for new requests: the client API
// keys (auth and the keys file; connections and requests in flight are
// untouched, auth/key_directory.hpp) and the keys a part registers with
// allowInPlace (log.level; the drift thresholds), and the sections a new
// config generation is built from (allowRebuild: routes and backends, see
// generation.hpp). Every other section that changed is reported as needing a
// restart, by name.
#include <atomic>
#include <functional>
#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "filters/auth/key_directory.hpp"
#include "gateway/server/file_reloader.hpp"
#include "metrics/stats.hpp"

namespace infergate {

class ConfigReloader {
 public:
  struct Outcome {
    enum class Result { Ok, RestartRequired, Failed };
    Result result = Result::Ok;
    std::vector<std::string> errors;       // file:line:column: message
    std::vector<std::string> applied;      // sections put in force
    std::vector<std::string> needRestart;  // what changed but is not in force ("server.workers", "routes")
    std::string restartReason;             // why rebuilt sections were not put in force, when they were not
    unsigned httpStatus() const { return result == Result::Failed ? 400 : 200; }
    std::string json() const;
  };

  // `keys` null: there is no auth section (a change that adds one needs a restart).
  ConfigReloader(boost::asio::io_context& control, std::string configPath, std::string keysFile,
                 auth::KeyDirectory* keys);
  void declareStats(metrics::StatsRegistry& stats);
  // A section of which only `keys` (its own, top-level) changed is applied in
  // place by `apply`, on the control thread; a change to any other key of it
  // needs a restart.
  void allowInPlace(std::string section, std::vector<std::string> keys,
                    std::function<void(const config::Config&)> apply);
  // What a rebuild did with a loaded config: put it in force (`applied`; some
  // parts of it may still need a restart: `needRestart`), refused it because
  // it needs a restart (`refused` says why), or failed (`error`: the config is
  // refused as a whole, nothing else is applied).
  struct Rebuilt {
    bool applied = false;
    std::string refused;
    std::string error;
    std::vector<std::string> needRestart;
  };
  // A section a rebuild takes from the file: whole (`keys` empty), or only
  // those of its own keys (a change to another one needs a restart).
  struct RebuildSection {
    std::string section;
    std::vector<std::string> keys;
  };
  // Changed `sections` are put in force together by `rebuild`, before any
  // in-place change, on the control thread; it is told which of them changed.
  using Rebuild = std::function<Rebuilt(const config::Config&, const std::vector<std::string>& changed)>;
  void allowRebuild(std::vector<RebuildSection> sections, Rebuild rebuild) {
    rebuildSections_ = std::move(sections);
    rebuild_ = std::move(rebuild);
  }
  void start() { files_.start(); }
  void stop() { files_.stop(); }
  // Control thread: SIGHUP, a changed keys file, POST /admin/reload.
  Outcome reload(const char* why);
  // GET /admin/config: the config in force as written (${VAR} references
  // stay references), secrets masked, after a comment with its hash and
  // generation.
  std::string maskedConfig() const;

 private:
  struct InPlace {
    std::string section;
    std::vector<std::string> keys;
    std::function<void(const config::Config&)> apply;
  };
  std::vector<InPlace> inPlace_;
  std::vector<RebuildSection> rebuildSections_;
  Rebuild rebuild_;
  std::string configPath_, keysFile_;
  auth::KeyDirectory* keys_;
  FileReloader files_;
  std::string inForce_, keysInForce_;  // the texts in force (config file, keys file)
  std::string hash_;                   // of inForce_, 16 hex digits
  std::uint64_t generation_ = 1;       // 1 at start, +1 per reload that changed what is in force
  bool restartPending_ = false;        // the file holds changes that are not in force
  std::atomic<std::uint64_t> results_[3]{};
  std::atomic<std::uint64_t> keyReloads_[2]{};  // ok, failed
};

}  // namespace infergate
