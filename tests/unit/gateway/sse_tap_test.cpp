#include "gateway/sse_tap.hpp"

#include <gtest/gtest.h>

using namespace infergate;

namespace {
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
    tap.feed(std::string_view(stream).substr(i, pieceSize), [&] { ++content; });
  return content;
}
}  // namespace

TEST(SseTap, FindsContentUsageFinishAndDoneWhateverThePieceBoundaries) {
  for (std::size_t piece : {1u, 2u, 7u, 64u, 4096u}) {
    SseTap tap;
    EXPECT_EQ(feedInPieces(tap, kStream, piece), 3) << piece;  // the empty first delta is not content
    const auto& seen = tap.observation();
    EXPECT_EQ(seen.contentEvents, 3u);
    EXPECT_TRUE(seen.done);
    EXPECT_TRUE(seen.hasUsage);
    EXPECT_EQ(seen.promptTokens, 12u);
    EXPECT_EQ(seen.completionTokens, 3u);
    EXPECT_EQ(seen.finishReason, "stop");
  }
}

TEST(SseTap, TextCompletionsAndMultiLineDataAndGarbage) {
  SseTap tap;
  int content = 0;
  tap.feed("data: {\"choices\":[{\"text\":\"hi\"}]}\n\ndata: not json\n\ndata: {\"choices\":\ndata: [{\"text\":\"x\"}]}\n\n",
           [&] { ++content; });
  EXPECT_EQ(content, 2);
  EXPECT_FALSE(tap.observation().done);
  tap.reset();
  EXPECT_EQ(tap.observation().contentEvents, 0u);
}
