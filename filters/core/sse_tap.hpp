#pragma once
// Reads an SSE response as it is relayed, without changing it: splits events
// across arbitrary piece boundaries, times the events that carry content (first
// token, inter-token gaps), and picks up `usage`, `finish_reason` and [DONE].
#include <simdjson.h>

#include <chrono>
#include <string>
#include <string_view>

#include "filters/core/captured_output.hpp"

namespace infergate {

struct SseObservation {
  std::uint32_t contentEvents = 0;
  bool done = false;                  // saw data: [DONE]
  bool hasUsage = false;
  std::uint64_t promptTokens = 0;
  std::uint64_t completionTokens = 0;
  std::string finishReason;
};

class SseTap {
 public:
  // Called for each content-bearing event, with the arrival time of its piece.
  // `parser` (the worker's: a tap holds none of its own, 8 KiB a stream) reads
  // each event's JSON.
  template <class OnContent>
  void feed(std::string_view piece, simdjson::ondemand::parser& parser, OnContent&& onContent);
  void reset();
  // Gives back the line and event buffers (a tap that will not be fed again
  // for this answer, such as the sampling tap after an unsampled first token).
  void releaseBuffers();
  const SseObservation& observation() const { return observation_; }
  // While set, the first choice's delta.content / text and tool calls are
  // appended to `capture` (sampled requests only: null costs nothing).
  void setCapture(quality::CapturedOutput* capture) { capture_ = capture; }

 private:
  // Returns true when the event's data carries generated content.
  bool inspectEvent(std::string_view data);
  void appendData(std::string_view line);
  void endEvent();  // a blank line: the event is complete

 public:
  // An event larger than this (its data lines and their separators) is skipped,
  // not buffered: what a tap holds is bounded whatever the upstream sends.
  static constexpr std::size_t kMaxEventBytes = 1 << 20;
  // Memory kept between events: a rare large event's buffers are given back.
  static constexpr std::size_t kRetainedBytes = 64 * 1024;
  std::size_t retainedBytes() const { return line_.capacity() + data_.capacity(); }

 private:
  std::string line_;       // the current, incomplete line
  std::string data_;       // data: lines of the current event, joined by '\n'
  bool skipping_ = false;  // the current line is too long: ignore it
  bool eventTooLarge_ = false;  // the current event passed kMaxEventBytes: ignore it
  simdjson::ondemand::parser* parser_ = nullptr;  // during feed()
  SseObservation observation_;
  quality::CapturedOutput* capture_ = nullptr;
};

template <class OnContent>
void SseTap::feed(std::string_view piece, simdjson::ondemand::parser& parser, OnContent&& onContent) {
  parser_ = &parser;
  while (!piece.empty()) {
    auto nl = piece.find('\n');
    std::string_view chunk = piece.substr(0, nl);
    if (!skipping_) {
      if (line_.size() + chunk.size() > kMaxEventBytes) {
        skipping_ = true;
        line_.clear();
      } else {
        line_.append(chunk);
      }
    }
    if (nl == std::string_view::npos) return;
    piece.remove_prefix(nl + 1);
    // A complete line.
    std::string_view line = line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (skipping_) {
      skipping_ = false;
      eventTooLarge_ = true;  // a line of the event was lost: the event is not whole
    } else if (line.empty()) {
      if (!eventTooLarge_ && !data_.empty() && inspectEvent(data_)) onContent();
      endEvent();
    } else if (line.starts_with("data:")) {
      line.remove_prefix(5);
      if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      appendData(line);
    }
    line_.clear();
  }
}

}  // namespace infergate
