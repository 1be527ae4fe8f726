#include "filters/quality/judge_score.hpp"

#include <gtest/gtest.h>

namespace infergate::quality {
namespace {

TEST(JudgeScore, TheFirstIntegerFromOneToFive) {
  EXPECT_EQ(parseJudgeScore("4"), 4);
  EXPECT_EQ(parseJudgeScore(" 5\n"), 5);
  EXPECT_EQ(parseJudgeScore("Score: 2"), 2);
  EXPECT_EQ(parseJudgeScore("**3**/5"), 3);
  EXPECT_EQ(parseJudgeScore("1 - useless"), 1);
}

TEST(JudgeScore, AnythingElseIsAParseFailure) {
  EXPECT_FALSE(parseJudgeScore(""));
  EXPECT_FALSE(parseJudgeScore("The answer looks fine."));
  EXPECT_FALSE(parseJudgeScore("0"));
  EXPECT_FALSE(parseJudgeScore("10"));
  EXPECT_FALSE(parseJudgeScore("4.5"));
  EXPECT_FALSE(parseJudgeScore("-3"));
  EXPECT_FALSE(parseJudgeScore("99999999999999999999"));
}

}  // namespace
}  // namespace infergate::quality
