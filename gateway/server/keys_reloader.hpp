#pragma once
// Reads the client API keys again while the gateway runs: on SIGHUP, and when
// the keys file changes (polled every two seconds: its inode, size and
// modification time). The whole config file is read again, with every check
// it gets at start, and only its keys (the config's and the keys file's) are
// put in force; a config or keys file with errors leaves the keys in force as
// they were and logs each error with its file, line and column. Connections
// and requests in flight are untouched (auth/key_directory.hpp).
#include <sys/types.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <string>

#include "filters/auth/key_directory.hpp"
#include "gateway/server/file_stamp.hpp"
#include "metrics/stats.hpp"

namespace infergate {

class KeysReloader {
 public:
  // `keys` null: there is no auth section, a SIGHUP only says so.
  KeysReloader(boost::asio::io_context& control, std::string configPath, std::string keysFile,
               auth::KeyDirectory* keys);
  void declareStats(metrics::StatsRegistry& stats);
  void start();
  void stop();

 private:
  void waitForSignal();
  void poll();
  void reload(const char* why);

  std::string configPath_;
  std::string keysFile_;
  auth::KeyDirectory* keys_;
  boost::asio::signal_set hangup_;
  boost::asio::steady_timer timer_;
  FileStamp seen_;
  std::atomic<std::uint64_t> reloaded_{0}, failed_{0};
};

}  // namespace infergate
