#pragma once
// One JSON line per request, written off the request path: each worker copies
// a fixed-size entry into its own single-producer ring (no lock, no
// allocation); a writer thread drains the rings every few milliseconds and
// writes them in batches. A full ring drops the line and counts it.
// Lines carry ids, labels, timings, sizes and token counts: never headers,
// prompts or answers.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "filters/core/rotating_file.hpp"
#include "filters/core/request_record.hpp"
#include "metrics/label_space.hpp"
#include "filters/request_metrics/recorder.hpp"

namespace infergate {

struct AccessLogEntry {
  char requestId[129];
  std::uint8_t requestIdLength;
  std::uint32_t route, backend, endpoint, model, key;
  std::int64_t wallMs;
  unsigned status;
  FailureCause cause;
  bool stream, hasUsage;
  double totalMs, connectMs, firstByteMs, firstTokenMs, overheadMs;
  std::uint64_t bytesIn, bytesOut, promptTokens, completionTokens;
};

// Formats one entry as a JSON line (without the newline). Exposed for tests.
void formatAccessLogLine(std::string& out, const AccessLogEntry& e, const metrics::LabelSpace& labels);

class AccessLog {
 public:
  AccessLog(const config::AccessLogConfig& config, const metrics::LabelSpace& labels, unsigned workers);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Worker `worker`'s thread only. False when its ring is full (the line is dropped).
  bool push(unsigned worker, const RequestRecord& record, const metrics::DerivedTimings& timings);
  void stop();  // drains what is queued, then stops the writer
  // Any thread (SIGUSR1): a file is opened again before the next batch.
  void reopen() {
    if (file_) file_->reopen();
  }

 private:
  static constexpr std::size_t kRingSize = 8192;  // entries per worker, a power of two
  struct Ring {
    std::unique_ptr<AccessLogEntry[]> slots{new AccessLogEntry[kRingSize]};
    alignas(64) std::atomic<std::size_t> head{0};  // next slot to read (writer thread)
    alignas(64) std::atomic<std::size_t> tail{0};  // next slot to fill (worker)
  };
  void run();
  bool drain();

  const metrics::LabelSpace& labels_;
  std::vector<std::unique_ptr<Ring>> rings_;
  std::FILE* stream_ = nullptr;          // stdout or stderr
  std::unique_ptr<RotatingFile> file_;  // or a file
  std::string batch_;
  std::atomic<bool> stopping_{false};
  std::thread writer_;
};

}  // namespace infergate
