#include "filters/profile/half_space_forest.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace infergate;
using namespace infergate::profile;

namespace {

// Synthetic traffic of one model: three kinds of clients (chat, agents with
// tools, short questions), each with its own sizes and sampling settings.
struct Traffic {
  std::mt19937_64 rng{42};
  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); }
  std::uint64_t logUniform(double a, double b) { return static_cast<std::uint64_t>(std::exp(uniform(std::log(a), std::log(b)))); }

  RequestFacts chat() {
    RequestFacts f;
    f.systemChars = logUniform(50, 500);
    f.lastUserChars = logUniform(100, 1500);
    f.messages = static_cast<std::uint32_t>(uniform(2, 10));
    f.promptChars = f.systemChars + f.lastUserChars * std::max<std::uint32_t>(1, f.messages / 2);
    if (uniform(0, 1) < 0.7) {
      f.hasMaxTokens = true;
      f.maxTokens = logUniform(256, 1024);
    }
    f.hasTemperature = true;
    f.temperature = uniform(0.2, 1.0);
    return f;
  }
  RequestFacts agent() {
    RequestFacts f;
    f.systemChars = logUniform(1000, 5000);
    f.lastUserChars = logUniform(200, 4000);
    f.messages = static_cast<std::uint32_t>(uniform(5, 40));
    f.promptChars = f.systemChars + f.lastUserChars * (f.messages / 3 + 1);
    f.hasMaxTokens = true;
    f.maxTokens = logUniform(1024, 4096);
    f.hasTemperature = true;
    f.temperature = uniform(0, 0.3);
    f.tools = static_cast<std::uint32_t>(uniform(3, 12));
    return f;
  }
  RequestFacts question() {
    RequestFacts f;
    f.lastUserChars = logUniform(20, 200);
    f.promptChars = f.lastUserChars;
    f.messages = 1;
    return f;
  }
  RequestFacts clean() {
    const double r = uniform(0, 1);
    return r < 0.5 ? chat() : r < 0.8 ? agent() : question();
  }

  // Unusual in one feature: a value no client sends.
  RequestFacts univariate() {
    auto f = clean();
    switch (static_cast<int>(uniform(0, 4))) {
      case 0: f.promptChars = f.lastUserChars = logUniform(300'000, 2'000'000); break;
      case 1: f.hasTemperature = true; f.temperature = 2.0; break;
      case 2: f.tools = static_cast<std::uint32_t>(uniform(64, 128)); break;
      default: f.messages = static_cast<std::uint32_t>(uniform(500, 2000)); break;
    }
    return f;
  }
  // Usual in every feature, unusual together: one kind of client's input with
  // another kind's settings.
  RequestFacts combination() {
    if (uniform(0, 1) < 0.5) {  // a short question sent with an agent's tools and limits
      auto f = question();
      const auto a = agent();
      f.tools = a.tools;
      f.hasMaxTokens = true;
      f.maxTokens = a.maxTokens;
      f.hasTemperature = true;
      f.temperature = a.temperature;
      return f;
    }
    auto f = agent();  // an agent's long system prompt, as a single message without tools or limits
    f.messages = 1;
    f.promptChars = f.systemChars + f.lastUserChars;
    f.tools = 0;
    f.hasMaxTokens = false;
    f.hasTemperature = false;
    return f;
  }
};

struct Detection {
  double falsePositiveRate, univariateRecall, combinationRecall;
};

Detection measure(double threshold) {
  Traffic traffic;
  HalfSpaceForest forest(1);
  std::vector<FeatureVector> reference;
  for (int i = 0; i < 1000; ++i) reference.push_back(vectorOf(traffic.clean()));
  forest.learn(0, reference);
  int falsePositives = 0, univariate = 0, combination = 0;
  constexpr int kClean = 10'000, kAnomalies = 1'000;
  for (int i = 0; i < kClean; ++i) falsePositives += forest.anomalyScore(0, vectorOf(traffic.clean())) >= threshold;
  for (int i = 0; i < kAnomalies; ++i) univariate += forest.anomalyScore(0, vectorOf(traffic.univariate())) >= threshold;
  for (int i = 0; i < kAnomalies; ++i) combination += forest.anomalyScore(0, vectorOf(traffic.combination())) >= threshold;
  return {double(falsePositives) / kClean, double(univariate) / kAnomalies, double(combination) / kAnomalies};
}

}  // namespace

TEST(HalfSpaceForest, ScoresNothingBeforeItLearnt) {
  HalfSpaceForest forest(2);
  EXPECT_LT(forest.anomalyScore(1, vectorOf(RequestFacts{})), 0);
  EXPECT_FALSE(forest.ready(1));
}

TEST(HalfSpaceForest, VectorsStayInTheUnitCube) {
  RequestFacts f;
  f.promptChars = 1ull << 40;
  f.messages = 1u << 30;
  f.hasMaxTokens = true;
  f.maxTokens = 1ull << 50;
  f.hasTemperature = true;
  f.temperature = 7;
  f.tools = 1u << 20;
  for (float x : vectorOf(f)) {
    EXPECT_GE(x, 0.0f);
    EXPECT_LE(x, 1.0f);
  }
}

// Detection on synthetic traffic (numbers in docs/anomalies.md): at most
// about the threshold's complement of clean traffic is flagged, and both kinds
// of anomalies are found.
TEST(HalfSpaceForest, FindsUnivariateAndCombinationAnomaliesAtAStatedFalsePositiveRate) {
  struct Expect {
    double threshold, maxFalsePositives, minUnivariate, minCombination;
  };
  for (const auto& e : {Expect{0.99, 0.015, 0.97, 0.95}, Expect{0.995, 0.0075, 0.85, 0.85}}) {
    const double threshold = e.threshold;
    const auto d = measure(threshold);
    RecordProperty("fpr_" + std::to_string(threshold), std::to_string(d.falsePositiveRate));
    RecordProperty("univariate_recall_" + std::to_string(threshold), std::to_string(d.univariateRecall));
    RecordProperty("combination_recall_" + std::to_string(threshold), std::to_string(d.combinationRecall));
    EXPECT_LE(d.falsePositiveRate, e.maxFalsePositives) << threshold;
    EXPECT_GE(d.univariateRecall, e.minUnivariate) << threshold;
    EXPECT_GE(d.combinationRecall, e.minCombination) << threshold;
  }
}

// The same forest structure for every model: each model is judged by its own
// traffic only.
TEST(HalfSpaceForest, EachModelIsJudgedByItsOwnReference) {
  Traffic traffic;
  HalfSpaceForest forest(2);
  std::vector<FeatureVector> chats, agents;
  for (int i = 0; i < 1000; ++i) chats.push_back(vectorOf(traffic.chat()));
  for (int i = 0; i < 1000; ++i) agents.push_back(vectorOf(traffic.agent()));
  forest.learn(0, chats);
  forest.learn(1, agents);
  int agentAsChat = 0, agentAsAgent = 0;
  for (int i = 0; i < 500; ++i) {
    const auto v = vectorOf(traffic.agent());
    agentAsChat += forest.anomalyScore(0, v) >= 0.99;
    agentAsAgent += forest.anomalyScore(1, v) >= 0.99;
  }
  EXPECT_GT(agentAsChat, 450);
  EXPECT_LT(agentAsAgent, 25);
}
