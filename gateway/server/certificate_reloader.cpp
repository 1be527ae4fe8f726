#include "gateway/server/certificate_reloader.hpp"

#include "filters/core/log_line.hpp"

namespace infergate {

CertificateReloader::CertificateReloader(boost::asio::io_context& control, ClientTlsContext& context)
    : context_(context),
      files_(control, {context.config().cert_file, context.config().key_file},
             [this](const char* why) { return reload(why); }) {}

void CertificateReloader::declareStats(metrics::StatsRegistry& stats) {
  files_.declareStats(stats, "infergate_tls_certificate_reloads_total",
                      "Times the HTTPS listener's certificate was read again (SIGHUP or a changed file), by result: "
                      "ok, or failed (the reason logged; the certificate in force was kept).");
}

bool CertificateReloader::reload(const char* why) {
  std::string error;
  if (!context_.reload(error)) {
    log::write(log::Level::Error, log::Fields().add("reason", why), "certificate not reloaded: " + error);
    return false;
  }
  log::write(log::Level::Info, log::Fields().add("reason", why), "certificate reloaded");
  return true;
}

}  // namespace infergate
