#include "gateway/server/certificate_reloader.hpp"

#include <signal.h>

#include "filters/core/log_line.hpp"

namespace infergate {

CertificateReloader::CertificateReloader(boost::asio::io_context& control, ClientTlsContext& context)
    : context_(context),
      hangup_(control, SIGHUP),
      timer_(control),
      cert_(FileStamp::of(context.config().cert_file)),
      key_(FileStamp::of(context.config().key_file)) {}

void CertificateReloader::declareStats(metrics::StatsRegistry& stats) {
  stats.counterFrom({"infergate_tls_certificate_reloads_total",
                     "Times the HTTPS listener's certificate was read again (SIGHUP or a changed file), by result: "
                     "ok, or failed (the reason logged; the certificate in force was kept).",
                     {metrics::Dimension::of("result", {"ok", "failed"})},
                     metrics::FamilySpec::Zeros::Export},
                    [this](std::span<const std::uint32_t> at) {
                      return static_cast<double>((at[0] == 0 ? reloaded_ : failed_).load(std::memory_order_relaxed));
                    });
}

void CertificateReloader::start() {
  waitForSignal();
  poll();
}

void CertificateReloader::stop() {
  boost::system::error_code ignored;
  hangup_.cancel(ignored);
  timer_.cancel();
}

void CertificateReloader::waitForSignal() {
  hangup_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    reload("SIGHUP");
    waitForSignal();
  });
}

void CertificateReloader::poll() {
  timer_.expires_after(std::chrono::seconds(2));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    const auto cert = FileStamp::of(context_.config().cert_file);
    const auto key = FileStamp::of(context_.config().key_file);
    if (!(cert == cert_) || !(key == key_)) reload("the certificate or key file changed");
    poll();
  });
}

void CertificateReloader::reload(const char* why) {
  cert_ = FileStamp::of(context_.config().cert_file);
  key_ = FileStamp::of(context_.config().key_file);
  std::string error;
  if (!context_.reload(error)) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    log::write(log::Level::Error, log::Fields().add("reason", why), "certificate not reloaded: " + error);
    return;
  }
  reloaded_.fetch_add(1, std::memory_order_relaxed);
  log::write(log::Level::Info, log::Fields().add("reason", why), "certificate reloaded");
}

}  // namespace infergate
