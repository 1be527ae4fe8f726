#pragma once
// Reads the HTTPS listener's certificate and key again while the gateway
// runs: on SIGHUP, and when either file changes (polled every two seconds).
// New connections get the new certificate; open ones keep theirs. Files that
// cannot be used leave the certificate in force and say why in the log.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/http/client_tls.hpp"
#include "gateway/server/file_stamp.hpp"
#include "metrics/stats.hpp"

namespace infergate {

class CertificateReloader {
 public:
  CertificateReloader(boost::asio::io_context& control, ClientTlsContext& context);
  void declareStats(metrics::StatsRegistry& stats);
  void start();
  void stop();

 private:
  void waitForSignal();
  void poll();
  void reload(const char* why);

  ClientTlsContext& context_;
  boost::asio::signal_set hangup_;
  boost::asio::steady_timer timer_;
  FileStamp cert_, key_;
  std::atomic<std::uint64_t> reloaded_{0}, failed_{0};
};

}  // namespace infergate
