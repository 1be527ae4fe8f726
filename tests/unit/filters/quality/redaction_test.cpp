#include "filters/quality/redaction.hpp"

#include <gtest/gtest.h>

namespace infergate::quality {
namespace {

TEST(Redaction, ApiKeysAndBearerTokens) {
  Redactor r;
  EXPECT_EQ(r.redact("my key is sk-proj-abcdefghijklmnop1234 ok"), "my key is [REDACTED_KEY] ok");
  EXPECT_EQ(r.redact("Authorization: Bearer abc.def-ghi_jkl012"), "Authorization: Bearer [REDACTED_KEY]");
  EXPECT_EQ(r.redact("aws AKIAIOSFODNN7EXAMPLE!"), "aws [REDACTED_KEY]!");
  EXPECT_EQ(r.redact("token ghp_0123456789abcdefghijABCDEFGHIJ012345"), "token [REDACTED_KEY]");
  EXPECT_EQ(r.redact("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature_1 end"), "jwt [REDACTED_KEY] end");
  // Not keys: short, or an ordinary word.
  EXPECT_EQ(r.redact("sk-short and skeleton keys"), "sk-short and skeleton keys");
  EXPECT_EQ(r.redact("the bearer of news"), "the bearer of news");
}

TEST(Redaction, Emails) {
  Redactor r;
  EXPECT_EQ(r.redact("write to jane.doe+x@example.co.uk."), "write to [REDACTED_EMAIL].");
  EXPECT_EQ(r.redact("a@b is not an address, @home neither"), "a@b is not an address, @home neither");
}

TEST(Redaction, CardNumbersWithLuhn) {
  Redactor r;
  EXPECT_TRUE(luhnValid("4111111111111111"));
  EXPECT_FALSE(luhnValid("4111111111111112"));
  EXPECT_EQ(r.redact("card 4111 1111 1111 1111 exp 12/29"), "card [REDACTED_CARD] exp 12/29");
  EXPECT_EQ(r.redact("card 5500-0000-0000-0004."), "card [REDACTED_CARD].");
  // Luhn fails, or too short: a number, not a card.
  EXPECT_EQ(r.redact("order 4111 1111 1111 1112"), "order 4111 1111 1111 1112");
  EXPECT_EQ(r.redact("phone 555 0100"), "phone 555 0100");
}

TEST(Redaction, ConfiguredPatterns) {
  Redactor r({"SSN:? ?\\d{3}-\\d{2}-\\d{4}", "project-[a-z]+"});
  EXPECT_EQ(r.redact("SSN 123-45-6789 for project-apollo"), "[REDACTED] for [REDACTED]");
  std::string big(200'000, 'a');
  big += " project-zeus";
  const auto out = r.redact(big);
  EXPECT_NE(out.find("[REDACTED]"), std::string::npos);
  EXPECT_EQ(out.find("project-zeus"), std::string::npos);
}

// RE2 reads the whole text in linear time: a match longer than the 4 KiB
// segments the backtracking engine needed is found, and a pattern that
// backtracks exponentially elsewhere ((\w+\s?)+@corp took 33 s on 1 MB) runs
// over a megabyte like any other (its cost is in scorers_bench).
TEST(Redaction, ConfiguredPatternsSeeTheWholeTextWithoutBacktracking) {
  Redactor r({"BEGIN[a-z]+END", "(\\w+\\s?)+@corp"});
  const std::string longMatch = "x BEGIN" + std::string(10'000, 'q') + "END y";
  EXPECT_EQ(r.redact(longMatch), "x [REDACTED] y");
  std::string words;
  while (words.size() < 1'000'000) words += "word ";
  EXPECT_EQ(r.redact(words + "!"), words + "!");  // no match: every start tried, linearly
  EXPECT_EQ(r.redact("to alice@corp now"), "[REDACTED] now");  // (\\w+\\s?)+ takes "to alice" too
}

TEST(Redaction, InvalidPatternsAreReportedNotThrownLater) {
  EXPECT_EQ(patternError("ticket-[0-9]+"), "");
  EXPECT_NE(patternError("(unclosed"), "");
  EXPECT_NE(patternError("(a)\\1"), "");  // backreferences: not linear, not RE2
  EXPECT_THROW(Redactor({"(unclosed"}), std::invalid_argument);
}

}  // namespace
}  // namespace infergate::quality
