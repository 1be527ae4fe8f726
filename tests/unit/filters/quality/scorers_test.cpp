// Each heuristic scorer on hand-written answers that should and should not raise it.
#include "filters/quality/scorers.hpp"

#include <gtest/gtest.h>

#include <string>

namespace infergate::quality {
namespace {

const std::string kGoodAnswer =
    "The capital of France is Paris. It has been the seat of government since the tenth century, apart from a few "
    "short periods, and today it is home to about two million people within the city limits. Paris is known for its "
    "museums, such as the Louvre and the Musee d'Orsay, for its cafes and for the river Seine that divides it into a "
    "left bank and a right bank. Most visitors arrive by train at one of its six large stations.";

QualityReport score(ScorerInput in) { return scoreOutput(in, ScorerSettings{}); }

ScorerInput answer(std::string_view text) {
  ScorerInput in;
  in.text = text;
  in.finishReason = "stop";
  return in;
}

TEST(Scorers, AGoodAnswerRaisesNothing) {
  const auto r = score(answer(kGoodAnswer));
  EXPECT_EQ(r.flags, 0u);
  EXPECT_GT(r.score, 0.5);
  EXPECT_GT(r.compressionRatio, 1.0);
  EXPECT_LT(r.compressionRatio, 2.5);
}

TEST(Scorers, Empty) {
  EXPECT_TRUE(score(answer("")).has(OutputFlag::Empty));
  EXPECT_TRUE(score(answer(" \n\t ")).has(OutputFlag::Empty));
  EXPECT_EQ(score(answer("")).score, 0.0);
  EXPECT_FALSE(score(answer("ok")).has(OutputFlag::Empty));
  auto tool = answer("");
  tool.toolCalls = "get_weather({\"city\":\"Paris\"})";
  EXPECT_FALSE(score(tool).has(OutputFlag::Empty));
}

TEST(Scorers, Truncated) {
  auto in = answer(kGoodAnswer);
  in.finishReason = "length";
  EXPECT_TRUE(score(in).has(OutputFlag::Truncated));
  in.finishReason = "";
  in.streamed = true;
  in.streamFinished = false;
  EXPECT_TRUE(score(in).has(OutputFlag::Truncated));
  in.streamFinished = true;
  EXPECT_FALSE(score(in).has(OutputFlag::Truncated));
  in.finishReason = "stop";
  in.streamFinished = false;  // finish_reason seen, [DONE] missing: the answer is whole
  EXPECT_FALSE(score(in).has(OutputFlag::Truncated));
}

TEST(Scorers, ContentFiltered) {
  auto in = answer("");
  in.finishReason = "content_filter";
  EXPECT_TRUE(score(in).has(OutputFlag::ContentFiltered));
  EXPECT_FALSE(score(answer(kGoodAnswer)).has(OutputFlag::ContentFiltered));
}

TEST(Scorers, RefusalNearTheStartInEnglishAndChinese) {
  EXPECT_TRUE(score(answer("I'm sorry, but I can't help with that request.")).has(OutputFlag::Refusal));
  EXPECT_TRUE(score(answer("I\xE2\x80\x99m sorry, but I cannot do that.")).has(OutputFlag::Refusal));  // ’
  EXPECT_TRUE(score(answer("  **As an AI language model**, I do not have opinions.")).has(OutputFlag::Refusal));
  EXPECT_TRUE(score(answer("抱歉，我无法提供这方面的帮助。")).has(OutputFlag::Refusal));
  EXPECT_TRUE(score(answer("很抱歉，我不能回答这个问题。")).has(OutputFlag::Refusal));
  // Not refusals: the phrase is late, or only similar.
  EXPECT_FALSE(score(answer(kGoodAnswer + " If you ask I'm unable to say more.")).has(OutputFlag::Refusal));
  EXPECT_FALSE(score(answer("Sorry for the wait! Here is the list you asked for.")).has(OutputFlag::Refusal));
  EXPECT_FALSE(score(answer("巴黎是法国的首都。")).has(OutputFlag::Refusal));
}

TEST(Scorers, ConfiguredRefusalPhrases) {
  ScorerSettings settings;
  // One list for every language (sampling.scorers.refusal_phrases as a list):
  // the operator's phrases and nothing else, as the quality pipeline sets it.
  settings.refusalPhrases = RefusalPhrases({foldForMatch("Computer Says No")}).withoutGrammar();
  ScorerInput in = answer("computer says no.");
  EXPECT_TRUE(scoreOutput(in, settings).has(OutputFlag::Refusal));
  in.text = "I'm sorry, but I can't.";
  EXPECT_FALSE(scoreOutput(in, settings).has(OutputFlag::Refusal));
}

TEST(Scorers, RepetitionOfLines) {
  std::string loop;
  for (int i = 0; i < 12; ++i) loop += "The answer is forty-two.\n";
  const auto r = score(answer(loop));
  EXPECT_TRUE(r.has(OutputFlag::Repetition));
  EXPECT_LE(r.score, 0.5);
  // A list whose lines differ is fine.
  const std::string list =
      "1. Preheat the oven to 200 degrees.\n2. Whisk two eggs with a cup of milk.\n3. Fold in the flour slowly.\n"
      "4. Pour the batter into a buttered dish.\n5. Bake for twenty minutes until golden.\n"
      "6. Let it cool before slicing and serving with jam.\n";
  EXPECT_FALSE(score(answer(list)).has(OutputFlag::Repetition));
}

TEST(Scorers, RepetitionOfNgramsWithinOneLine) {
  std::string text = "Let me think about it. ";
  for (int i = 0; i < 10; ++i) text += "I think that the best answer would be to wait and see ";
  EXPECT_TRUE(score(answer(text)).has(OutputFlag::Repetition));
  EXPECT_FALSE(score(answer(kGoodAnswer)).has(OutputFlag::Repetition));
}

TEST(Scorers, RepetitionStatisticsMatchHandCounts) {
  // 4 lines, 2 of them repeats: duplicate line fraction 2/4, characters 2*3/(3+3+3+5).
  const auto s = repetitionStats("abc\nabc\nabc\nabcde\n");
  EXPECT_EQ(s.lines, 4u);
  EXPECT_DOUBLE_EQ(s.duplicateLineFraction, 0.5);
  EXPECT_DOUBLE_EQ(s.duplicateLineCharFraction, 6.0 / 14.0);
  // "a b a b a b": bigram "a b" occurs 3 times, 2 characters each: 6 of 6 word characters.
  const auto g = repetitionStats("a b a b a b");
  EXPECT_DOUBLE_EQ(g.topNgramCharFraction[0], 1.0);
}

TEST(Scorers, CompressionRatioOfLoopingText) {
  std::string loop;
  for (int i = 0; i < 40; ++i) loop += "blah blah ";
  EXPECT_GT(compressionRatio(loop), 4.0);
  const auto r = score(answer(loop));
  EXPECT_TRUE(r.has(OutputFlag::Compressible));
  EXPECT_FALSE(score(answer(kGoodAnswer)).has(OutputFlag::Compressible));
  // Under 256 bytes nothing is measured.
  EXPECT_EQ(score(answer("blah blah blah blah blah blah")).compressionRatio, 0.0);
}

TEST(Scorers, InvalidJsonOnlyWhenJsonWasRequested) {
  auto in = answer("{\"city\": \"Paris\", \"population\": 2100000}");
  in.jsonRequested = true;
  EXPECT_FALSE(score(in).has(OutputFlag::InvalidJson));
  in.text = "  [1, 2, 3]\n";
  EXPECT_FALSE(score(in).has(OutputFlag::InvalidJson));
  in.text = "{\"city\": \"Paris\", \"population\": ";
  EXPECT_TRUE(score(in).has(OutputFlag::InvalidJson));
  in.text = "```json\n{\"a\": 1}\n```";
  EXPECT_TRUE(score(in).has(OutputFlag::InvalidJson));
  in.text = "Sure! Here is the JSON: {\"a\": 1}";
  EXPECT_TRUE(score(in).has(OutputFlag::InvalidJson));
  in.jsonRequested = false;
  EXPECT_FALSE(score(in).has(OutputFlag::InvalidJson));
  in.jsonRequested = true;
  in.captureCut = true;  // the capture, not the model, cut it
  in.text = "{\"a\": ";
  EXPECT_FALSE(score(in).has(OutputFlag::InvalidJson));
}

TEST(Scorers, GarbledText) {
  EXPECT_TRUE(score(answer("Paris \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD is the capital")).has(OutputFlag::Garbled));
  EXPECT_TRUE(score(answer("Paris\x01\x02\x03 is the capital")).has(OutputFlag::Garbled));
  EXPECT_TRUE(score(answer("Paris \xC3\x28\xC3\x28\xFF is the capital")).has(OutputFlag::Garbled));
  EXPECT_FALSE(score(answer("Paris,\tFrance\r\nCafé, naïve, 東京")).has(OutputFlag::Garbled));
  // One broken character in a long answer is below both limits.
  EXPECT_FALSE(score(answer(kGoodAnswer + "\xEF\xBF\xBD")).has(OutputFlag::Garbled));
}

TEST(Scorers, ScriptMismatch) {
  auto in = answer(kGoodAnswer);
  in.promptScript = Script::Cjk;
  EXPECT_TRUE(score(in).has(OutputFlag::ScriptMismatch));
  in.promptScript = Script::Latin;
  EXPECT_FALSE(score(in).has(OutputFlag::ScriptMismatch));
  in.text = "巴黎是法国的首都，也是法国最大的城市，位于塞纳河畔，拥有卢浮宫等许多著名的博物馆。";
  EXPECT_TRUE(score(in).has(OutputFlag::ScriptMismatch));
  in.promptScript = Script::Cjk;
  EXPECT_FALSE(score(in).has(OutputFlag::ScriptMismatch));
  // Too few letters to tell.
  in.promptScript = Script::Cyrillic;
  in.text = "OK, 42.";
  EXPECT_FALSE(score(in).has(OutputFlag::ScriptMismatch));
}

TEST(Scorers, LengthAgainstMaxTokens) {
  auto in = answer(kGoodAnswer);
  in.maxTokens = 100;
  in.completionTokens = 100;
  EXPECT_TRUE(score(in).has(OutputFlag::Length));
  in.completionTokens = 60;
  EXPECT_FALSE(score(in).has(OutputFlag::Length));
  in.maxTokens.reset();
  in.completionTokens = 5000;
  EXPECT_FALSE(score(in).has(OutputFlag::Length));
}

TEST(Scorers, OverallScoreIsTheLowest) {
  auto in = answer("I'm sorry, but I can't help with that.");
  in.finishReason = "length";
  const auto r = score(in);
  EXPECT_TRUE(r.has(OutputFlag::Refusal));
  EXPECT_TRUE(r.has(OutputFlag::Truncated));
  EXPECT_DOUBLE_EQ(r.score, 0.1);
}

TEST(TextStats, CountsScriptsAndBrokenCharacters) {
  const auto s = textStats("abc Привет 你好 \xEF\xBF\xBD\x01\xFF");
  EXPECT_EQ(s.latin, 3u);
  EXPECT_EQ(s.cyrillic, 6u);
  EXPECT_EQ(s.cjk, 2u);
  EXPECT_EQ(s.replacement, 1u);
  EXPECT_EQ(s.control, 1u);
  EXPECT_EQ(s.invalidBytes, 1u);
  EXPECT_EQ(s.dominant(), Script::Cyrillic);
  EXPECT_EQ(validUtf8("a\xFF" "b\xC3"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_EQ(validUtf8("東京"), "東京");
}

}  // namespace
}  // namespace infergate::quality
