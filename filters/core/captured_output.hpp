#pragma once
// The answer of one sampled request as the gateway saw it: for a stream, the
// concatenated delta.content and tool calls (filled by the SSE tap as events
// pass); for a JSON body, extracted after the fact. Bounded by `capBytes`.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace infergate::quality {

struct CapturedOutput {
  std::string text;          // message content / delta.content / completion text
  std::string toolCalls;     // "name(arguments)" per call, arguments concatenated across deltas
  std::string finishReason;  // the first choice's, if any: at most kMaxFinishReason bytes
  bool cut = false;          // the cap was reached: text or toolCalls is incomplete
  std::size_t capBytes = 64 * 1024;

  // The reasons models give are short words ("stop", "length", "tool_calls",
  // "content_filter"); a longer one is kept cut, never whole (an upstream
  // could send a megabyte).
  static constexpr std::size_t kMaxFinishReason = 64;
  void setFinishReason(std::string_view reason) { finishReason.assign(reason.substr(0, kMaxFinishReason)); }
  void appendText(std::string_view piece) { append(text, piece); }
  void appendToolCall(std::string_view piece) { append(toolCalls, piece); }
  void clear() {
    text.clear();
    toolCalls.clear();
    finishReason.clear();
    cut = false;
  }

 private:
  void append(std::string& to, std::string_view piece) {
    const auto used = text.size() + toolCalls.size();
    if (used + piece.size() > capBytes) {
      to.append(piece.substr(0, capBytes > used ? capBytes - used : 0));
      cut = true;
    } else {
      to.append(piece);
    }
  }
};

}  // namespace infergate::quality
