// The SSE tap fed a response whole and the same bytes in arbitrary pieces:
// everything it observes (content events and their count, usage, finish
// reason, [DONE], the captured answer) must agree, and what it holds stays
// bounded whatever the stream.
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "filters/core/sse_tap.hpp"

using namespace infergate;

namespace {
simdjson::ondemand::parser json;  // the worker's, borrowed by the tap
struct Seen {
  int contentCallbacks = 0;
  SseObservation observation;
  quality::CapturedOutput capture;
};

template <class Split>
void run(std::string_view stream, Split&& nextPiece, Seen& seen) {
  SseTap tap;
  seen.capture.capBytes = 4096;
  tap.setCapture(&seen.capture);
  while (!stream.empty()) {
    const auto n = std::min(stream.size(), nextPiece());
    tap.feed(stream.substr(0, n), json, [&] { ++seen.contentCallbacks; });
    FUZZ_CHECK(tap.retainedBytes() <= 2 * SseTap::kMaxEventBytes + (1u << 22), "the tap holds %zu bytes",
               tap.retainedBytes());
    stream.remove_prefix(n);
  }
  seen.observation = tap.observation();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  std::uint32_t seed = data[0] | data[1] << 8 | data[2] << 16 | static_cast<std::uint32_t>(data[3]) << 24;
  const std::string_view stream(reinterpret_cast<const char*>(data + 4), size - 4);
  Seen whole, pieces;
  run(stream, [&] { return stream.size(); }, whole);
  run(stream, [&] {
    seed = seed * 1664525u + 1013904223u;  // piece sizes 1..64 from the input's own seed
    return static_cast<std::size_t>(1 + (seed >> 24) % 64);
  }, pieces);
  FUZZ_CHECK(whole.contentCallbacks == pieces.contentCallbacks, "content events %d vs %d", whole.contentCallbacks,
             pieces.contentCallbacks);
  const auto& a = whole.observation;
  const auto& b = pieces.observation;
  FUZZ_CHECK(a.contentEvents == b.contentEvents && a.done == b.done && a.hasUsage == b.hasUsage &&
                 a.promptTokens == b.promptTokens && a.completionTokens == b.completionTokens &&
                 a.finished == b.finished,
             "observations differ with the piece boundaries");
  FUZZ_CHECK(whole.capture.text == pieces.capture.text && whole.capture.toolCalls == pieces.capture.toolCalls &&
                 whole.capture.cut == pieces.capture.cut && whole.capture.finishReason == pieces.capture.finishReason,
             "captured answers differ with the piece boundaries");
  FUZZ_CHECK(whole.capture.text.size() <= whole.capture.capBytes, "capture over its cap");
  FUZZ_CHECK(whole.capture.finishReason.size() <= quality::CapturedOutput::kMaxFinishReason, "finish reason over its cap");
  return 0;
}
