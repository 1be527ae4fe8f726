#include "gateway/server/file_reloader.hpp"

#include <signal.h>

namespace infergate {

FileReloader::FileReloader(boost::asio::io_context& control, std::vector<std::string> files,
                           std::function<bool(const char* why)> reload)
    : files_(std::move(files)), reload_(std::move(reload)), hangup_(control, SIGHUP), timer_(control), seen_(stamps()) {}

void FileReloader::declareStats(metrics::StatsRegistry& stats, std::string name, std::string help) {
  stats.counterFrom({std::move(name), std::move(help), {metrics::Dimension::of("result", {"ok", "failed"})},
                     metrics::FamilySpec::Zeros::Export},
                    [this](std::span<const std::uint32_t> at) {
                      return static_cast<double>((at[0] == 0 ? reloaded_ : failed_).load(std::memory_order_relaxed));
                    });
}

void FileReloader::start() {
  waitForSignal();
  if (!files_.empty()) poll();
}

void FileReloader::stop() {
  boost::system::error_code ignored;
  hangup_.cancel(ignored);
  timer_.cancel();
}

std::vector<FileStamp> FileReloader::stamps() const {
  std::vector<FileStamp> out;
  for (const auto& f : files_) out.push_back(FileStamp::of(f));
  return out;
}

void FileReloader::waitForSignal() {
  hangup_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    reload("SIGHUP");
    waitForSignal();
  });
}

void FileReloader::poll() {
  timer_.expires_after(std::chrono::seconds(2));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    if (stamps() != seen_) reload("a file changed");
    poll();
  });
}

void FileReloader::reload(const char* why) {
  seen_ = stamps();
  (reload_(why) ? reloaded_ : failed_).fetch_add(1, std::memory_order_relaxed);
}

}  // namespace infergate
