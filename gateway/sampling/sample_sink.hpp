#pragma once
// Appends samples to a JSONL file and rotates it by size: path -> path.1 ->
// ... -> path.keep (the oldest is dropped). Used only by the quality
// pipeline's thread, so a slow disk delays scoring, never a request.
#include <cstdio>
#include <string>
#include <string_view>

namespace infergate {

class SampleSink {
 public:
  SampleSink(std::string path, std::size_t maxBytes, unsigned keep);
  ~SampleSink();
  SampleSink(const SampleSink&) = delete;
  SampleSink& operator=(const SampleSink&) = delete;

  // Writes `line` and a newline, rotating first when the file would pass maxBytes.
  // Returns false (and the caller counts it) when the write failed.
  bool write(std::string_view line);

 private:
  void open();
  void rotate();

  std::string path_;
  std::size_t maxBytes_;
  unsigned keep_;
  std::FILE* file_ = nullptr;
  std::size_t size_ = 0;
  bool failing_ = false;  // the last open failed (logged once)
};

}  // namespace infergate
