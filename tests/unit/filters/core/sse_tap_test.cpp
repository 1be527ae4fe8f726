#include "filters/core/sse_tap.hpp"

#include <gtest/gtest.h>

using namespace infergate;

namespace {
// The worker's parser, which taps borrow while they read an event.
simdjson::ondemand::parser json;

const std::string kStream =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\r\n\r\n"
    ": a comment\n\n"
    "event: ping\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\n"
    "data: [DONE]\n\n";

int feedInPieces(SseTap& tap, const std::string& stream, std::size_t pieceSize) {
  int content = 0;
  for (std::size_t i = 0; i < stream.size(); i += pieceSize)
    tap.feed(std::string_view(stream).substr(i, pieceSize), json, [&] { ++content; });
  return content;
}
}  // namespace

TEST(SseTap, FindsContentUsageFinishAndDoneWhateverThePieceBoundaries) {
  for (std::size_t piece : {1u, 2u, 7u, 64u, 4096u}) {
    SseTap tap;
    quality::CapturedOutput capture;  // where a sampled answer's finish_reason text goes
    tap.setCapture(&capture);
    EXPECT_EQ(feedInPieces(tap, kStream, piece), 3) << piece;  // the empty first delta is not content
    const auto& seen = tap.observation();
    EXPECT_EQ(seen.contentEvents, 3u);
    EXPECT_TRUE(seen.done);
    EXPECT_TRUE(seen.hasUsage);
    EXPECT_EQ(seen.promptTokens, 12u);
    EXPECT_EQ(seen.completionTokens, 3u);
    EXPECT_TRUE(seen.finished);
    EXPECT_EQ(capture.finishReason, "stop") << piece;
  }
}

TEST(SseTap, TextCompletionsAndMultiLineDataAndGarbage) {
  SseTap tap;
  int content = 0;
  tap.feed("data: {\"choices\":[{\"text\":\"hi\"}]}\n\ndata: not json\n\ndata: {\"choices\":\ndata: [{\"text\":\"x\"}]}\n\n",
           json, [&] { ++content; });
  EXPECT_EQ(content, 2);
  EXPECT_FALSE(tap.observation().done);
  tap.reset();
  EXPECT_EQ(tap.observation().contentEvents, 0u);
}

namespace {

// A stream of many deltas (escapes, UTF-8, a tool call in pieces, a second
// choice that must not leak into the answer) and the answer they spell.
std::string reassemblyStream(std::string& expectedText, std::string& expectedTools) {
  const std::vector<std::string> deltas = {"The ", "caf\\u00e9 ", "\\\"quote\\\" ", "東京 ", "line\\nbreak", "."};
  expectedText = "The café \"quote\" 東京 line\nbreak.";
  std::string s;
  for (const auto& d : deltas) {
    s += "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + d + "\"}}]}\n\n";
    s += "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"OTHER\"}}]}\n\n";
  }
  s += "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"get_weather\","
       "\"arguments\":\"\"}}]}}]}\n\n";
  s += "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
       "\"{\\\"city\\\":\"}}]}}]}\n\n";
  s += "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
       "\"\\\"Paris\\\"}\"}}]}}]}\n\n";
  s += "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n";
  s += "data: [DONE]\n\n";
  expectedTools = "get_weather: {\"city\":\"Paris\"}";
  return s;
}

}  // namespace

TEST(SseTap, ReassemblesTheAnswerAcrossAnyPieceBoundaries) {
  std::string text, tools;
  const auto stream = reassemblyStream(text, tools);
  // One byte at a time (an event split over many reads), odd sizes, and all at once (many events per read).
  for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{61}, stream.size()}) {
    SseTap tap;
    quality::CapturedOutput capture;
    tap.setCapture(&capture);
    feedInPieces(tap, stream, piece);
    EXPECT_EQ(capture.text, text) << piece;
    EXPECT_EQ(capture.toolCalls, tools) << piece;
    EXPECT_EQ(capture.finishReason, "tool_calls") << piece;
    EXPECT_FALSE(capture.cut);
    EXPECT_TRUE(tap.observation().done);
  }
}

TEST(SseTap, CaptureStopsAtItsCapAndContentIsCountedWithoutOne) {
  std::string text, tools;
  const auto stream = reassemblyStream(text, tools);
  SseTap tap;
  quality::CapturedOutput capture;
  capture.capBytes = 10;
  tap.setCapture(&capture);
  feedInPieces(tap, stream, 5);
  EXPECT_EQ(capture.text, text.substr(0, 10));
  EXPECT_TRUE(capture.cut);
  EXPECT_TRUE(capture.toolCalls.empty());

  SseTap plain;  // no capture: still counts content
  EXPECT_GT(feedInPieces(plain, stream, 5), 0);
}

// A stream is finished by a choice's finish_reason string, not by a null or
// empty one (sent with every delta by some servers). The observation keeps only
// that; a sampled answer's capture keeps the reason, cut at its cap whatever
// length the upstream sends.
TEST(SseTap, FinishIsSeenFromAReasonAndTheCapturedReasonIsCapped) {
  const std::string unfinished =
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"},\"finish_reason\":\"\"}]}\n\n";
  SseTap open;
  quality::CapturedOutput openCapture;
  open.setCapture(&openCapture);
  feedInPieces(open, unfinished, 3);
  EXPECT_FALSE(open.observation().finished);
  EXPECT_TRUE(openCapture.finishReason.empty());

  const std::string longReason(10000, 'x');
  const std::string finished =
      unfinished + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"" + longReason + "\"}]}\n\n";
  for (std::size_t piece : {std::size_t{7}, finished.size()}) {
    SseTap tap;
    quality::CapturedOutput capture;
    tap.setCapture(&capture);
    feedInPieces(tap, finished, piece);
    EXPECT_TRUE(tap.observation().finished) << piece;
    EXPECT_EQ(capture.finishReason, longReason.substr(0, quality::CapturedOutput::kMaxFinishReason)) << piece;
    EXPECT_EQ(capture.text, "ab") << piece;
  }
}

// An event grows by its data lines and the newlines between them: empty data
// lines cannot grow it past the cap (they once added 4 MiB of newlines per
// 24 MiB of input, all parsed at the end). After a large event the tap gives
// its memory back, and the next event is read as usual.
TEST(SseTap, EventSizeIsBoundedCountingSeparatorsAndMemoryIsGivenBack) {
  SseTap tap;
  int content = 0;
  auto onContent = [&] { ++content; };
  tap.feed("data: x\n", json, onContent);
  std::string emptyLines;
  for (int i = 0; i < 64 * 1024; ++i) emptyLines += "data:\n";
  std::size_t peak = 0;
  for (int round = 0; round < 64; ++round) {  // 24 MiB of input, 4 M data lines
    tap.feed(emptyLines, json, onContent);
    peak = std::max(peak, tap.retainedBytes());
  }
  EXPECT_LE(peak, 2 * SseTap::kMaxEventBytes + 4096);
  tap.feed("\n", json, onContent);  // the event ends: too large, skipped
  EXPECT_EQ(content, 0);
  EXPECT_LE(tap.retainedBytes(), 3 * SseTap::kRetainedBytes);

  // A large but allowed event is parsed, then its buffers and parser memory go.
  std::string big = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + std::string(900 * 1024, 'a') + "\"}}]}\n\n";
  tap.feed(big, json, onContent);
  EXPECT_EQ(content, 1);
  EXPECT_LE(tap.retainedBytes(), 3 * SseTap::kRetainedBytes);
  tap.feed(kStream, json, onContent);
  EXPECT_EQ(content, 4);
  EXPECT_TRUE(tap.observation().done);
}

TEST(SseTap, ReleasedBuffersHoldNothingAndTheTapStillReads) {
  SseTap tap;
  int content = 0;
  tap.feed("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"" +
               std::string(300, 'a'),
           json, [&] { ++content; });
  EXPECT_EQ(content, 1);
  EXPECT_GT(tap.retainedBytes(), 300u);  // the cut event is held
  tap.releaseBuffers();
  EXPECT_LE(tap.retainedBytes(), 2 * std::string().capacity());  // two empty strings: no heap
  tap.reset();
  EXPECT_EQ(feedInPieces(tap, kStream, 7), 3);
}

// A model server writes an event at a time: such events are read where they
// lie, and a stream waiting for its next event holds no buffer. Only an event
// cut by a piece boundary is copied, and only until it completes.
TEST(SseTap, WholeEventsAreReadInPlaceAndACutEventIsHeldOnlyUntilItEnds) {
  SseTap tap;
  int content = 0;
  auto onContent = [&] { ++content; };
  const std::string event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + std::string(200, 'w') + "\"}}]}\n\n";
  for (int i = 0; i < 3; ++i) {
    tap.feed(event, json, onContent);
    EXPECT_LE(tap.retainedBytes(), 2 * std::string().capacity()) << i;
  }
  EXPECT_EQ(content, 3);

  // Cut inside the data line, then inside the blank line that ends it.
  tap.feed(std::string_view(event).substr(0, 100), json, onContent);
  EXPECT_GE(tap.retainedBytes(), 100u);
  tap.feed(std::string_view(event).substr(100, event.size() - 101), json, onContent);
  EXPECT_EQ(content, 3);
  EXPECT_GE(tap.retainedBytes(), event.size() - 8);  // the whole data line, waiting for its blank line
  tap.feed("\n", json, onContent);
  EXPECT_EQ(content, 4);
  EXPECT_LE(tap.retainedBytes(), 2 * std::string().capacity());

  // A data line whole in one piece, its event ended in the next: the line
  // outlives the piece it came in (the piece's memory is reused at once).
  std::string piece = event.substr(0, event.size() - 1);
  tap.feed(piece, json, onContent);
  std::fill(piece.begin(), piece.end(), 'z');
  tap.feed("\n", json, onContent);
  EXPECT_EQ(content, 5);
  EXPECT_EQ(tap.observation().contentEvents, 5u);

  // Two data lines of one event, both whole in one piece, are joined.
  tap.feed("data: {\"choices\":\ndata: [{\"text\":\"x\"}]}\n\n", json, onContent);
  EXPECT_EQ(content, 6);
  EXPECT_LE(tap.retainedBytes(), 2 * std::string().capacity());
}
