#include "filters/core/prompt_text.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

using namespace infergate;

namespace {

// What simdjson's own unescaping makes of `raw` (a JSON string's inside), or
// nullopt when it refuses it.
std::optional<std::string> unescaped(const std::string& raw) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string json("[\"" + raw + "\"]");
  simdjson::ondemand::document doc;
  std::string_view text;
  if (parser.iterate(json).get(doc)) return std::nullopt;
  simdjson::ondemand::array array;
  if (doc.get_array().get(array)) return std::nullopt;
  for (auto value : array) {
    if (value.get_string().get(text)) return std::nullopt;
    return std::string(text);
  }
  return std::nullopt;
}

void expectSameFacts(const std::string& raw) {
  const auto text = unescaped(raw);
  ASSERT_TRUE(text) << raw;
  RequestFacts fromText, fromRaw;
  const auto expected = promptText(*text, fromText);
  std::uint64_t chars = 0;
  ASSERT_TRUE(promptRawText(raw, fromRaw, chars)) << raw;
  EXPECT_EQ(chars, expected) << raw;
  EXPECT_EQ(fromRaw.promptChars, fromText.promptChars);
  EXPECT_EQ(fromRaw.sampledCodePoints, fromText.sampledCodePoints) << raw.substr(0, 80);
  EXPECT_EQ(fromRaw.sampledNonAscii, fromText.sampledNonAscii);
  EXPECT_EQ(fromRaw.scriptLatin, fromText.scriptLatin);
  EXPECT_EQ(fromRaw.scriptCyrillic, fromText.scriptCyrillic);
  EXPECT_EQ(fromRaw.scriptCjk, fromText.scriptCjk);
  EXPECT_EQ(fromRaw.scriptArabic, fromText.scriptArabic);
}

std::string repeat(const std::string& piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

}  // namespace

// A long prompt read escaped counts and samples exactly what its unescaped
// text gives, escapes of every kind included, and across the sample's bound.
TEST(PromptRawText, CountsAndSamplesAsTheUnescapedText) {
  expectSameFacts(repeat("plain words ", 50));
  expectSameFacts(repeat("line\\nwith \\\"quotes\\\" and \\\\ slash\\/ \\t\\b\\f\\r", 40));
  expectSameFacts(repeat("\\u043f\\u0440\\u0438\\u0432\\u0435\\u0442 ", 200));     // Cyrillic, escaped
  expectSameFacts(repeat("привет мир ", 300));                                        // Cyrillic, literal
  expectSameFacts(repeat("emoji \\ud83d\\ude00 and \\u4e2d\\u6587 ", 120));           // a pair, CJK
  expectSameFacts(repeat("x", 2045) + "\\u0430\\u0431" + repeat("y", 500));           // an escape at the bound
  expectSameFacts(repeat("x", 2047) + "\\ud83d\\ude00" + repeat("y", 10));            // a 4-byte one cut by it
  expectSameFacts(repeat("é", 1023) + "\\n" + repeat("z", 300));
  // Past 63 steps of 128 bytes, where the vector scan folds its byte counts.
  expectSameFacts(repeat("é\\n中 word \\u0430", 3000));
  expectSameFacts(repeat("ж", 20000) + "\\t");
}

TEST(PromptRawText, RefusesWhatSimdjsonRefuses) {
  for (const std::string bad : {"a\\x", "\\u12", "\\u12G4", "\\ud800", "\\ud800 x", "\\udc00", "\\ud800\\u0041",
                                "\\ud800\\n", "ends with \\"}) {
    EXPECT_FALSE(unescaped(bad)) << bad;  // the reference refuses it too
    RequestFacts facts;
    std::uint64_t chars = 0;
    EXPECT_FALSE(promptRawText(bad, facts, chars)) << bad;
  }
}

// Random strings built from every kind of piece (ASCII, 2- to 4-byte UTF-8,
// each escape, surrogate pairs, broken escapes): promptRawText accepts exactly
// what simdjson's unescaping accepts, and counts and samples the same.
TEST(PromptRawText, AgreesWithSimdjsonOnRandomStrings) {
  const char* pieces[] = {"a", "word ", "é", "ж", "中", "😀", "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\u0041",
                          "\\u00e9", "\\u4e2d", "\\ud83d\\ude00", "\\u0000", "\\x", "\\u12", "\\ud800", "\\udc00",
                          "\\uD83D\\uDE00", "\\uABCD", "\\uabcg"};
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  };
  int accepted = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string raw;
    const bool allowBroken = round % 4 == 0;
    while (raw.size() < 256 + next() % 3000) {
      const auto k = next() % (sizeof pieces / sizeof *pieces);
      if (!allowBroken && ((k >= 16 && k <= 19) || k == 22)) continue;
      raw += pieces[k];
    }
    const auto reference = unescaped(raw);
    RequestFacts facts;
    std::uint64_t chars = 0;
    ASSERT_EQ(promptRawText(raw, facts, chars), reference.has_value()) << raw;
    if (!reference) {
      ++refused;
      continue;
    }
    ++accepted;
    expectSameFacts(raw);
  }
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(refused, 100);
}
