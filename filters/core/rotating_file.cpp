#include "filters/core/rotating_file.hpp"

#include "filters/core/log_line.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace infergate {

RotatingFile::RotatingFile(std::string what, std::string path, std::size_t maxBytes, unsigned keep)
    : what_(std::move(what)), path_(std::move(path)), maxBytes_(maxBytes), keep_(keep) {
  open();
}

RotatingFile::~RotatingFile() {
  if (file_ != nullptr) std::fclose(file_);
}

void RotatingFile::open() {
  file_ = std::fopen(path_.c_str(), "a");
  if (file_ == nullptr) {
    // Logged once per outage: every write retries, and the caller counts the failures.
    if (!failing_)
      log::writef(log::Level::Error, {}, "%s %s: %s; nothing is written until it opens", what_.c_str(), path_.c_str(),
                  std::strerror(errno));
    failing_ = true;
    size_ = 0;
    return;
  }
  if (failing_) log::writef(log::Level::Info, {}, "%s %s: open again", what_.c_str(), path_.c_str());
  failing_ = false;
  std::error_code ec;
  const auto existing = std::filesystem::file_size(path_, ec);
  size_ = ec ? 0 : static_cast<std::size_t>(existing);
}

void RotatingFile::rotate() {
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

bool RotatingFile::ready(std::size_t adding) {
  if (reopen_.exchange(false, std::memory_order_acq_rel)) {
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
    open();
    log::writef(log::Level::Info, {}, "%s %s: reopened", what_.c_str(), path_.c_str());
  }
  if (maxBytes_ > 0 && size_ > 0 && size_ + adding > maxBytes_) rotate();
  if (file_ == nullptr) open();  // the directory may have appeared, or the disk recovered
  return file_ != nullptr;
}

bool RotatingFile::writeLine(std::string_view line) {
  if (!ready(line.size() + 1)) return false;
  const bool ok = std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fputc('\n', file_) != EOF &&
                  std::fflush(file_) == 0;
  size_ += line.size() + 1;
  return ok;
}

bool RotatingFile::writeLines(std::string_view lines) {
  bool ok = true;
  while (!lines.empty()) {
    // The whole lines that fit what is left of this file; at least one (ready() rotates for it).
    std::size_t take = lines.size();
    if (maxBytes_ > 0 && size_ + take > maxBytes_) {
      const auto room = size_ < maxBytes_ ? maxBytes_ - size_ : 0;
      take = 0;
      for (auto nl = lines.find('\n'); nl != std::string_view::npos && nl < room; nl = lines.find('\n', nl + 1))
        take = nl + 1;
      if (take == 0) take = std::min(lines.size(), lines.find('\n') + 1);  // npos + 1 == 0: then the rest
      if (take == 0) take = lines.size();
    }
    ok = writeRun(lines.substr(0, take)) && ok;
    lines.remove_prefix(take);
  }
  return ok;
}

bool RotatingFile::writeRun(std::string_view lines) {
  if (!ready(lines.size())) return false;
  const bool ok = std::fwrite(lines.data(), 1, lines.size(), file_) == lines.size() && std::fflush(file_) == 0;
  size_ += lines.size();
  return ok;
}

}  // namespace infergate
