#pragma once
// Reads the client API keys again while the gateway runs: on SIGHUP, and when
// the keys file changes (polled every two seconds: its inode, size and
// modification time). The whole config file is read again, with every check
// it gets at start, and only its keys (the config's and the keys file's) are
// put in force; a config or keys file with errors leaves the keys in force as
// they were and logs each error with its file, line and column. Connections
// and requests in flight are untouched (auth/key_directory.hpp).
#include <boost/asio/io_context.hpp>
#include <string>

#include "filters/auth/key_directory.hpp"
#include "gateway/server/file_reloader.hpp"
#include "metrics/stats.hpp"

namespace infergate {

class KeysReloader {
 public:
  // `keys` null: there is no auth section, a SIGHUP only says so.
  KeysReloader(boost::asio::io_context& control, std::string configPath, std::string keysFile,
               auth::KeyDirectory* keys);
  void declareStats(metrics::StatsRegistry& stats);
  void start() { files_.start(); }
  void stop() { files_.stop(); }

 private:
  bool reload(const char* why);

  std::string configPath_;
  auth::KeyDirectory* keys_;
  FileReloader files_;
};

}  // namespace infergate
