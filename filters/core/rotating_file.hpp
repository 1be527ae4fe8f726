#pragma once
// Appends lines to a file and rotates it by size: path -> path.1 -> ... ->
// path.keep (the oldest is dropped). Used by one thread at a time (the access
// log's writer, the quality pipeline's thread), so a slow disk delays those,
// never a request. reopen() may be called from any thread: the next write
// closes and opens the path again, so that logrotate can rename the file and
// send SIGUSR1 (its "create" mode) instead of copying it.
#include <atomic>
#include <cstdio>
#include <string>
#include <string_view>

namespace infergate {

class RotatingFile {
 public:
  // `what` names the file in log lines ("access log", "sample sink").
  // maxBytes 0: never rotated (logrotate's job).
  RotatingFile(std::string what, std::string path, std::size_t maxBytes, unsigned keep);
  ~RotatingFile();
  RotatingFile(const RotatingFile&) = delete;
  RotatingFile& operator=(const RotatingFile&) = delete;

  // Writes `line` and a newline. False (the caller counts it) when the write failed.
  bool writeLine(std::string_view line);
  // Writes whole lines, each ending with a newline, rotating between lines
  // so that no file passes maxBytes (unless one line alone is longer).
  bool writeLines(std::string_view lines);
  // Any thread: the next write opens the path again.
  void reopen() { reopen_.store(true, std::memory_order_release); }
  bool isOpen() const { return file_ != nullptr; }

 private:
  bool ready(std::size_t adding);  // rotates or reopens as needed; false when it cannot open
  bool writeRun(std::string_view lines);  // lines that go into one file
  void open();
  void rotate();

  std::string what_;
  std::string path_;
  std::size_t maxBytes_;
  unsigned keep_;
  std::FILE* file_ = nullptr;
  std::size_t size_ = 0;
  bool failing_ = false;  // the last open failed (logged once)
  std::atomic<bool> reopen_{false};
};

}  // namespace infergate
