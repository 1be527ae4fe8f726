#pragma once
// What the reloaders (API keys, the HTTPS certificate) share: a reload on
// SIGHUP and when one of their files changes (polled every two seconds: a
// FileStamp), and a counter of reloads by result (ok, failed).
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>
#include <vector>

#include "gateway/server/file_stamp.hpp"
#include "metrics/stats.hpp"

namespace infergate {

class FileReloader {
 public:
  // `reload(why)`: reads the files again; true when what they hold is in force.
  // `files` empty: SIGHUP only.
  FileReloader(boost::asio::io_context& control, std::vector<std::string> files,
               std::function<bool(const char* why)> reload);
  // A counter `name`{result="ok"|"failed"}.
  void declareStats(metrics::StatsRegistry& stats, std::string name, std::string help);
  void start();
  void stop();

 private:
  void waitForSignal();
  void poll();
  void reload(const char* why);
  std::vector<FileStamp> stamps() const;

  std::vector<std::string> files_;
  std::function<bool(const char*)> reload_;
  boost::asio::signal_set hangup_;
  boost::asio::steady_timer timer_;
  std::vector<FileStamp> seen_;
  std::atomic<std::uint64_t> reloaded_{0}, failed_{0};
};

}  // namespace infergate
