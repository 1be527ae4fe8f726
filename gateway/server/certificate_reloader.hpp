#pragma once
// Reads the HTTPS listener's certificate and key again while the gateway
// runs: on SIGHUP, and when either file changes. New connections get the new
// certificate; open ones keep theirs. Files that cannot be used leave the
// certificate in force and say why in the log.
#include "gateway/http/client_tls.hpp"
#include "gateway/server/file_reloader.hpp"

namespace infergate {

class CertificateReloader {
 public:
  CertificateReloader(boost::asio::io_context& control, ClientTlsContext& context);
  void declareStats(metrics::StatsRegistry& stats);
  void start() { files_.start(); }
  void stop() { files_.stop(); }

 private:
  bool reload(const char* why);

  ClientTlsContext& context_;
  FileReloader files_;
};

}  // namespace infergate
