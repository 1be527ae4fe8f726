#include "filters/quality/answer_extraction.hpp"

#include <gtest/gtest.h>

using namespace infergate;
using namespace infergate::quality;

namespace {
simdjson::ondemand::parser parser;
}

TEST(ExtractAnswer, ChatContentToolCallsFinishReasonAndUsage) {
  const std::string body =
      R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hi \"there\"",)"
      R"("tool_calls":[{"function":{"name":"get","arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"},)"
      R"({"index":1,"message":{"content":"second choice"}}],)"
      R"("usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}})";
  CapturedOutput out;
  ResponseUsage usage;
  ASSERT_TRUE(extractAnswer(parser, body, out, usage));
  EXPECT_EQ(out.text, "Hi \"there\"");  // the first choice only
  EXPECT_EQ(out.toolCalls, "get({\"a\":1})\n");
  EXPECT_EQ(out.finishReason, "tool_calls");
  EXPECT_TRUE(usage.found);
  EXPECT_EQ(usage.promptTokens, 12u);
  EXPECT_EQ(usage.completionTokens, 7u);
}

TEST(ExtractAnswer, CompletionTextAndNoUsage) {
  CapturedOutput out;
  ResponseUsage usage;
  ASSERT_TRUE(extractAnswer(parser, R"({"choices":[{"text":"plain completion","finish_reason":"length"}]})", out, usage));
  EXPECT_EQ(out.text, "plain completion");
  EXPECT_EQ(out.finishReason, "length");
  EXPECT_FALSE(usage.found);
}

TEST(ExtractAnswer, ContentPartsContributeTheirText) {
  CapturedOutput out;
  ResponseUsage usage;
  ASSERT_TRUE(extractAnswer(
      parser, R"({"choices":[{"message":{"content":[{"type":"text","text":"one "},{"type":"image_url"},{"type":"text","text":"two"}]}}]})",
      out, usage));
  EXPECT_EQ(out.text, "one two");
  EXPECT_FALSE(out.cut);
}

TEST(ExtractAnswer, NotAnAnswerIsFalse) {
  CapturedOutput out;
  ResponseUsage usage;
  EXPECT_FALSE(extractAnswer(parser, R"({"error":{"message":"overloaded"}})", out, usage));
  EXPECT_FALSE(extractAnswer(parser, "<html>502</html>", out, usage));
  EXPECT_FALSE(extractAnswer(parser, R"({"choices":[{"message":{"content":"cut)", out, usage));
}

TEST(ExtractAnswer, TextIsBoundedByTheCap) {
  CapturedOutput out;
  out.capBytes = 5;
  ResponseUsage usage;
  ASSERT_TRUE(extractAnswer(parser, R"({"choices":[{"message":{"content":"abcdefgh"}}]})", out, usage));
  EXPECT_EQ(out.text, "abcde");
  EXPECT_TRUE(out.cut);  // the sample must say its answer is incomplete
}

TEST(ExtractPrompt, ChatMessagesOnePerLineWithTheirRoles) {
  const std::string body =
      R"({"model":"m","messages":[{"role":"system","content":"Be terse."},)"
      R"({"role":"user","content":[{"type":"text","text":"Hello "},{"type":"text","text":"there"}]}]})";
  EXPECT_EQ(extractPrompt(parser, body, 1000), "system: Be terse.\nuser: Hello there");
  EXPECT_EQ(extractPrompt(parser, body, 10), "system: Be");
}

TEST(ExtractPrompt, CompletionsPromptAndEmbeddingsInput) {
  EXPECT_EQ(extractPrompt(parser, R"({"model":"m","prompt":"Once upon"})", 1000), "Once upon");
  EXPECT_EQ(extractPrompt(parser, R"({"model":"m","input":"embed me"})", 4), "embe");
  EXPECT_EQ(extractPrompt(parser, "not json", 100), "");
}
