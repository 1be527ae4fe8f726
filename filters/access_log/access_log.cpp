#include "filters/access_log/access_log.hpp"

#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "filters/core/errors.hpp"

namespace infergate {

namespace {

void appendNumber(std::string& out, double ms) {
  if (ms < 0) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms);
  out += buf;
}

void appendTime(std::string& out, std::int64_t wallMs) {
  std::time_t seconds = static_cast<std::time_t>(wallMs / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(wallMs % 1000));
  out += buf;
}

double toMs(double seconds) { return seconds < 0 ? -1 : seconds * 1000.0; }

}  // namespace

void formatAccessLogLine(std::string& out, const AccessLogEntry& e, const metrics::LabelSpace& labels) {
  out += "{\"time\":\"";
  appendTime(out, e.wallMs);
  out += "\",\"request_id\":";
  appendJsonString(out, std::string_view(e.requestId, e.requestIdLength));
  out += ",\"route\":";
  appendJsonString(out, labels.route(e.route));
  out += ",\"backend\":";
  appendJsonString(out, labels.backend(e.backend));
  out += ",\"endpoint\":";
  appendJsonString(out, labels.endpoint(e.endpoint));
  out += ",\"model\":";
  appendJsonString(out, labels.model(e.model));
  if (e.key != 0) {  // the client key's name from config, never the key
    out += ",\"key\":";
    appendJsonString(out, labels.key(e.key));
  }
  out += ",\"status\":" + std::to_string(e.status);
  out += ",\"cause\":";
  appendJsonString(out, causeName(e.cause));
  out += e.stream ? ",\"stream\":true" : ",\"stream\":false";
  out += ",\"duration_ms\":";
  appendNumber(out, e.totalMs);
  out += ",\"upstream_connect_ms\":";
  appendNumber(out, e.connectMs);
  out += ",\"upstream_first_byte_ms\":";
  appendNumber(out, e.firstByteMs);
  out += ",\"time_to_first_token_ms\":";
  appendNumber(out, e.firstTokenMs);
  out += ",\"gateway_overhead_ms\":";
  appendNumber(out, e.overheadMs);
  out += ",\"bytes_in\":" + std::to_string(e.bytesIn) + ",\"bytes_out\":" + std::to_string(e.bytesOut);
  if (e.hasUsage)
    out += ",\"prompt_tokens\":" + std::to_string(e.promptTokens) +
           ",\"completion_tokens\":" + std::to_string(e.completionTokens);
  else
    out += ",\"prompt_tokens\":null,\"completion_tokens\":null";
  out += "}";
}

AccessLog::AccessLog(const config::AccessLogConfig& config, const metrics::LabelSpace& labels, unsigned workers)
    : labels_(labels) {
  if (config.path == "stdout") stream_ = stdout;
  else if (config.path == "stderr") stream_ = stderr;
  else {
    file_ = std::make_unique<RotatingFile>("access log", config.path, config.max_bytes, config.keep);
    if (!file_->isOpen()) throw std::runtime_error("cannot open access log " + config.path + ": " + std::strerror(errno));
  }
  for (unsigned i = 0; i < workers; ++i) rings_.push_back(std::make_unique<Ring>());
  writer_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() { stop(); }

bool AccessLog::push(unsigned worker, const RequestRecord& r, const metrics::DerivedTimings& t) {
  auto& ring = *rings_[worker];
  const auto tail = ring.tail.load(std::memory_order_relaxed);
  if (tail - ring.head.load(std::memory_order_acquire) >= kRingSize) return false;
  auto& e = ring.slots[tail & (kRingSize - 1)];
  e.requestIdLength = static_cast<std::uint8_t>(std::min<std::size_t>(r.requestId.size(), 128));
  std::memcpy(e.requestId, r.requestId.data(), e.requestIdLength);
  e.route = r.route;
  e.backend = r.backend;
  e.endpoint = r.endpoint;
  e.model = r.model;
  e.key = r.key;
  e.wallMs = r.wallStartMs;
  e.status = r.status;
  e.cause = r.cause;
  e.stream = r.stream;
  e.hasUsage = r.hasUsage;
  e.totalMs = toMs(t.total);
  e.connectMs = toMs(t.upstreamConnect);
  e.firstByteMs = toMs(t.upstreamFirstByte);
  e.firstTokenMs = toMs(t.timeToFirstToken);
  e.overheadMs = toMs(t.gatewayOverhead);
  e.bytesIn = r.bytesIn;
  e.bytesOut = r.bytesOut;
  e.promptTokens = r.promptTokens;
  e.completionTokens = r.completionTokens;
  ring.tail.store(tail + 1, std::memory_order_release);
  return true;
}

bool AccessLog::drain() {
  batch_.clear();
  for (auto& ringPtr : rings_) {
    auto& ring = *ringPtr;
    auto head = ring.head.load(std::memory_order_relaxed);
    const auto tail = ring.tail.load(std::memory_order_acquire);
    for (; head != tail; ++head) {
      formatAccessLogLine(batch_, ring.slots[head & (kRingSize - 1)], labels_);
      batch_.push_back('\n');
    }
    ring.head.store(head, std::memory_order_release);
  }
  if (batch_.empty()) return false;
  if (file_) {
    file_->writeLines(batch_);
  } else {
    std::fwrite(batch_.data(), 1, batch_.size(), stream_);
    std::fflush(stream_);
  }
  return true;
}

void AccessLog::run() {
  // Batches every 10 ms: one write per batch, and an idle writer costs nothing.
  while (!stopping_.load(std::memory_order_acquire)) {
    drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  drain();
}

void AccessLog::stop() {
  if (!writer_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  writer_.join();
}

}  // namespace infergate
