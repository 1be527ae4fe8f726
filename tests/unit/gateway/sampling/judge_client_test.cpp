// What the judge is sent: the configured model and rubric, temperature 0, a
// bounded answer length, and the pair, all as valid JSON.
#include "gateway/sampling/judge_client.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

using namespace infergate;

TEST(JudgeClient, RequestCarriesRubricTemperatureZeroAndThePair) {
  config::JudgeConfig judge;
  judge.model = "judge-model";
  judge.rubric = "Grade it \"strictly\" from 1 to 5.";
  judge.max_tokens = 4;
  const auto body = boost::json::parse(JudgeClient::requestBody(judge, "What is 2+2?", "It is \"4\".\nDone")).as_object();
  EXPECT_EQ(body.at("model").as_string(), "judge-model");
  EXPECT_EQ(body.at("temperature").as_int64(), 0);
  EXPECT_EQ(body.at("max_tokens").as_int64(), 4);
  EXPECT_FALSE(body.at("stream").as_bool());
  const auto& messages = body.at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].at("role").as_string(), "system");
  EXPECT_EQ(messages[0].at("content").as_string(), judge.rubric);
  const std::string user(messages[1].at("content").as_string());
  EXPECT_NE(user.find("What is 2+2?"), std::string::npos);
  EXPECT_NE(user.find("It is \"4\".\nDone"), std::string::npos);
}
