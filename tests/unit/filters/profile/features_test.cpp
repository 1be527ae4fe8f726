#include "filters/profile/features.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace infergate;
using namespace infergate::profile;

namespace {
RequestFacts facts(std::string body) {
  simdjson::ondemand::parser parser;
  RequestFacts f;
  extractRequestFacts(parser, body, f);
  EXPECT_EQ(f.violation, InputViolation::None) << f.error;
  return f;
}
std::string_view bin(const FeatureBins& bins, Feature f) { return binLabel(f, bins[static_cast<std::size_t>(f)]); }
}  // namespace

TEST(ProfileFeatures, Log2BinsAreBoundedAndMonotonic) {
  EXPECT_EQ(log2Bin(0), 0u);
  EXPECT_EQ(log2Bin(1), 1u);
  EXPECT_EQ(log2Bin(2), 2u);
  EXPECT_EQ(log2Bin(3), 2u);
  EXPECT_EQ(log2Bin(4), 3u);
  EXPECT_EQ(log2Bin(1000), 10u);  // "512": 512-1023
  EXPECT_EQ(log2Bin(~0ull), kMaxBins - 1);
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    const auto feature = static_cast<Feature>(f);
    EXPECT_LE(binCount(feature), kMaxBins) << featureName(feature);
    std::set<std::string_view> labels;
    for (std::size_t b = 0; b < binCount(feature); ++b) labels.insert(binLabel(feature, b));
    EXPECT_EQ(labels.size(), binCount(feature)) << featureName(feature) << ": labels must be distinct";
  }
}

TEST(ProfileFeatures, BinsOfATypicalChatRequest) {
  auto bins = binsOf(facts(
      R"({"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there, how are you?"}],)"
      R"("max_tokens":300,"temperature":0.7,"top_p":0.95,"stream":true,"tools":[{},{}],"response_format":{"type":"json_object"}})"));
  EXPECT_EQ(bin(bins, Feature::PromptChars), "32");      // 34 code points
  EXPECT_EQ(bin(bins, Feature::LastUserChars), "16");    // 25
  EXPECT_EQ(bin(bins, Feature::SystemChars), "8");       // 9
  EXPECT_EQ(bin(bins, Feature::Messages), "2");
  EXPECT_EQ(bin(bins, Feature::Roles), "system_user");
  EXPECT_EQ(bin(bins, Feature::MaxTokens), "256");
  EXPECT_EQ(bin(bins, Feature::Temperature), "0.5-0.75");
  EXPECT_EQ(bin(bins, Feature::TopP), "0.9-1");
  EXPECT_EQ(bin(bins, Feature::N), "1");
  EXPECT_EQ(bin(bins, Feature::Tools), "2-4");
  EXPECT_EQ(bin(bins, Feature::ResponseFormat), "json_object");
  EXPECT_EQ(bin(bins, Feature::Stream), "true");
  EXPECT_EQ(bin(bins, Feature::NonAsciiShare), "0");
  EXPECT_EQ(bin(bins, Feature::Script), "latin");
}

TEST(ProfileFeatures, AbsentParametersAndScripts) {
  auto cjk = binsOf(facts(R"({"model":"m","messages":[{"role":"user","content":"今日は良い天気ですね"}]})"));
  EXPECT_EQ(bin(cjk, Feature::MaxTokens), "absent");
  EXPECT_EQ(bin(cjk, Feature::Temperature), "absent");
  EXPECT_EQ(bin(cjk, Feature::Script), "cjk");
  EXPECT_EQ(bin(cjk, Feature::NonAsciiShare), "0.9-1");
  auto ru = binsOf(facts(R"({"model":"m","messages":[{"role":"user","content":"Привет, как дела?"}],"temperature":0})"));
  EXPECT_EQ(bin(ru, Feature::Script), "cyrillic");
  EXPECT_EQ(bin(ru, Feature::Temperature), "0");
  auto ar = binsOf(facts(R"({"model":"m","messages":[{"role":"user","content":"مرحبا"}],"temperature":2})"));
  EXPECT_EQ(bin(ar, Feature::Script), "arabic");
  EXPECT_EQ(bin(ar, Feature::Temperature), "1.75-2");
  auto digits = binsOf(facts(R"({"model":"m","messages":[{"role":"user","content":"12345"}]})"));
  EXPECT_EQ(bin(digits, Feature::Script), "other");
}

TEST(ProfileFeatures, CustomBoundsFromConfigReplaceLog2Bins) {
  config::ProfileConfig config;
  config.bins["prompt_chars"] = {100, 1000, 10000};
  config.bins["max_tokens"] = {256, 1024};
  BinSpec spec(config);
  EXPECT_TRUE(spec.custom(Feature::PromptChars));
  EXPECT_FALSE(spec.custom(Feature::Messages));
  EXPECT_EQ(spec.binCount(Feature::PromptChars), 4u);
  EXPECT_EQ(spec.binLabel(Feature::PromptChars, 0), "<=100");
  EXPECT_EQ(spec.binLabel(Feature::PromptChars, 3), ">10000");
  EXPECT_EQ(spec.binCount(Feature::MaxTokens), 4u);  // absent, <=256, <=1024, >1024
  auto f = facts(R"({"model":"m","max_tokens":300,"messages":[{"role":"user","content":"Hello there, how are you?"}]})");
  auto bins = binsOf(f, spec);
  EXPECT_EQ(spec.binLabel(Feature::PromptChars, bins[static_cast<std::size_t>(Feature::PromptChars)]), "<=100");
  EXPECT_EQ(spec.binLabel(Feature::MaxTokens, bins[static_cast<std::size_t>(Feature::MaxTokens)]), "<=1024");
  EXPECT_EQ(spec.binLabel(Feature::Messages, bins[static_cast<std::size_t>(Feature::Messages)]), "1");  // default log2
  f.promptChars = 100;
  EXPECT_EQ(binsOf(f, spec)[0], 0u);  // bounds are inclusive
  f.promptChars = 50000;
  EXPECT_EQ(binsOf(f, spec)[0], 3u);
}
