#include "gateway/sampling/sample_sink.hpp"

#include "filters/core/log_line.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace infergate {

SampleSink::SampleSink(std::string path, std::size_t maxBytes, unsigned keep)
    : path_(std::move(path)), maxBytes_(maxBytes), keep_(keep) {
  open();
}

SampleSink::~SampleSink() {
  if (file_ != nullptr) std::fclose(file_);
}

void SampleSink::open() {
  file_ = std::fopen(path_.c_str(), "a");
  if (file_ == nullptr) {
    // Logged once per outage: every sample retries, and infergate_output_sink_errors_total counts them.
    if (!failing_)
      log::writef(log::Level::Error, {}, "sample sink %s: %s; samples are not written until it opens", path_.c_str(),
                 std::strerror(errno));
    failing_ = true;
    size_ = 0;
    return;
  }
  if (failing_) log::writef(log::Level::Info, {}, "sample sink %s: open again", path_.c_str());
  failing_ = false;
  std::error_code ec;
  const auto existing = std::filesystem::file_size(path_, ec);
  size_ = ec ? 0 : static_cast<std::size_t>(existing);
}

void SampleSink::rotate() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  if (keep_ == 0) {
    std::filesystem::remove(path_, ec);
  } else {
    std::filesystem::remove(path_ + "." + std::to_string(keep_), ec);
    for (unsigned i = keep_; i > 1; --i)
      std::filesystem::rename(path_ + "." + std::to_string(i - 1), path_ + "." + std::to_string(i), ec);
    std::filesystem::rename(path_, path_ + ".1", ec);
  }
  open();
}

bool SampleSink::write(std::string_view line) {
  if (size_ > 0 && size_ + line.size() + 1 > maxBytes_) rotate();
  if (file_ == nullptr) {
    open();  // the directory may have appeared, or the disk recovered
    if (file_ == nullptr) return false;
  }
  const bool ok = std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fputc('\n', file_) != EOF &&
                  std::fflush(file_) == 0;
  size_ += line.size() + 1;
  return ok;
}

}  // namespace infergate
