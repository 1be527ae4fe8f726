#pragma once
// Reads an SSE response as it is relayed, without changing it: splits events
// across arbitrary piece boundaries, times the events that carry content (first
// token, inter-token gaps), and picks up `usage`, `finish_reason` and [DONE].
#include <simdjson.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "filters/core/captured_output.hpp"

namespace infergate {

struct SseObservation {
  std::uint32_t contentEvents = 0;
  bool done = false;                  // saw data: [DONE]
  bool hasUsage = false;
  // Saw a choice's finish_reason. Only whether: every open stream keeps an
  // observation, and the reason's text (for sampled answers) goes to the
  // capture, capped there.
  bool finished = false;
  std::uint64_t promptTokens = 0;
  std::uint64_t completionTokens = 0;
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
  bool inspectJson(simdjson::padded_string_view json);
  static std::string& threadScratch();  // padded copies of events read in place
  // `line` is a complete line; `inPlace` when it lies in the piece being fed
  // (valid until feed returns), false when it was assembled in cut_->line.
  template <class OnContent>
  void onLine(std::string_view line, bool inPlace, OnContent& onContent);
  void holdPartialLine(std::string_view chunk);
  void appendData(std::string_view line, bool inPlace);
  void endEvent();  // a blank line: the event is complete
  void endPiece();  // what still points into the piece is copied; idle buffers go

 public:
  // An event larger than this (its data lines and their separators) is skipped,
  // not buffered: what a tap holds is bounded whatever the upstream sends.
  static constexpr std::size_t kMaxEventBytes = 1 << 20;
  // Memory kept between events: a rare large event's buffers are given back.
  static constexpr std::size_t kRetainedBytes = 64 * 1024;
  std::size_t retainedBytes() const { return cut_ ? cut_->line.capacity() + cut_->data.capacity() : 0; }

 private:
  // Lines and events that arrive whole in one piece (the usual case: a model
  // server writes an event at a time) are read where they lie; only a line or
  // an event cut by a piece boundary is copied here, and these buffers are
  // given back once nothing is cut, so a stream between events holds none
  // (and carries 8 bytes here, not two strings).
  struct Cut {
    std::string line;  // the current, incomplete line
    std::string data;  // data: lines of the current event, joined by '\n'
  };
  Cut& cut() {
    if (!cut_) cut_ = std::make_unique<Cut>();
    return *cut_;
  }
  bool lineCut() const { return cut_ && !cut_->line.empty(); }
  std::string_view heldData() const { return cut_ ? std::string_view(cut_->data) : std::string_view(); }
  std::unique_ptr<Cut> cut_;
  std::string_view dataInPlace_;  // the event's one data line, still in the piece
  simdjson::ondemand::parser* parser_ = nullptr;  // during feed()
  quality::CapturedOutput* capture_ = nullptr;
  SseObservation observation_;
  // (The count and flags together: every open stream's usage filter keeps a
  // tap. An event is at most kMaxEventBytes, so its lines fit 32 bits.)
  std::uint32_t dataLines_ = 0;  // data: lines of the current event
  bool dataIsInPlace_ = false;
  bool skipping_ = false;  // the current line is too long: ignore it
  bool eventTooLarge_ = false;  // the current event passed kMaxEventBytes: ignore it
};

template <class OnContent>
void SseTap::feed(std::string_view piece, simdjson::ondemand::parser& parser, OnContent&& onContent) {
  parser_ = &parser;
  while (!piece.empty()) {
    const auto nl = piece.find('\n');
    if (nl == std::string_view::npos) {
      holdPartialLine(piece);
      break;
    }
    const std::string_view chunk = piece.substr(0, nl);
    piece.remove_prefix(nl + 1);
    if (skipping_) {
      // The end of a line too long to keep: a line of the event was lost.
      skipping_ = false;
      eventTooLarge_ = true;
      if (cut_) cut_->line.clear();
      continue;
    }
    if (!lineCut()) {
      onLine(chunk, /*inPlace=*/true, onContent);
      continue;
    }
    holdPartialLine(chunk);
    if (skipping_) {
      skipping_ = false;
      eventTooLarge_ = true;
      cut_->line.clear();
      continue;
    }
    onLine(cut_->line, /*inPlace=*/false, onContent);
    cut_->line.clear();
  }
  endPiece();
}

template <class OnContent>
void SseTap::onLine(std::string_view line, bool inPlace, OnContent& onContent) {
  if (line.size() > kMaxEventBytes) {
    eventTooLarge_ = true;
    return;
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    const std::string_view data = dataIsInPlace_ ? dataInPlace_ : heldData();
    if (!eventTooLarge_ && !data.empty() && inspectEvent(data)) onContent();
    endEvent();
  } else if (line.starts_with("data:")) {
    line.remove_prefix(5);
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    appendData(line, inPlace);
  }
}

}  // namespace infergate
