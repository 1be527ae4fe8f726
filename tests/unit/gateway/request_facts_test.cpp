#include "gateway/request_facts.hpp"

#include <gtest/gtest.h>

using namespace infergate;

namespace {
RequestFacts parse(std::string body) {
  simdjson::ondemand::parser parser;
  RequestFacts facts;
  extractRequestFacts(parser, body, facts);
  return facts;
}
}  // namespace

TEST(RequestFacts, FindsModelStreamAndModelPosition) {
  std::string body = R"({"messages":[{"role":"user","content":"x"}], "model" : "gpt-\"4\"" ,"stream":true})";
  simdjson::ondemand::parser parser;
  RequestFacts f;
  extractRequestFacts(parser, body, f);
  ASSERT_TRUE(f.isJson) << f.error;
  EXPECT_TRUE(f.hasModel);
  EXPECT_EQ(f.model, "gpt-\"4\"");
  EXPECT_TRUE(f.stream);
  EXPECT_EQ(body.substr(f.modelTokenOffset, f.modelTokenLength), R"("gpt-\"4\"")");
}

TEST(RequestFacts, ModelIsOptional) {
  auto f = parse(R"({"input":"x"})");
  EXPECT_TRUE(f.isJson);
  EXPECT_FALSE(f.hasModel);
  EXPECT_FALSE(f.stream);
}

TEST(RequestFacts, RejectsMalformedBodies) {
  EXPECT_FALSE(parse(R"({"model":)").isJson);
  EXPECT_FALSE(parse("").isJson);
  EXPECT_FALSE(parse("[1,2]").isJson);
  EXPECT_FALSE(parse(R"({"model":"a"} trailing)").isJson);
  auto f = parse(R"({"model":5})");
  EXPECT_FALSE(f.isJson);
  EXPECT_EQ(f.errorParam, "model");
  auto s = parse(R"({"model":"a","stream":"yes"})");
  EXPECT_FALSE(s.isJson);
  EXPECT_EQ(s.errorParam, "stream");
}

TEST(RequestFacts, KnowsTheJsonApiPaths) {
  EXPECT_TRUE(isJsonApiPath("/v1/chat/completions"));
  EXPECT_TRUE(isJsonApiPath("/v1/completions"));
  EXPECT_TRUE(isJsonApiPath("/v1/embeddings"));
  EXPECT_FALSE(isJsonApiPath("/v1/models"));
}
