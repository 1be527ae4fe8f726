#include "filters/core/strict_json.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace infergate;

namespace {
StrictJson check(std::string json, std::span<const std::string_view> checked = {}) {
  json.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(simdjson::padded_string_view(json.data(), json.size(), json.capacity())).get(doc))
    return StrictJson::Invalid;
  return checkStrictJson(doc, json, checked);
}
}  // namespace

TEST(StrictJson, SeparatorsAreCheckedWhereSimdjsonStopsSilently) {
  EXPECT_EQ(check(R"({"a":"b"})"), StrictJson::Valid);
  EXPECT_EQ(check(R"( { "a" : [ 1 , { } , [ ] ] } )"), StrictJson::Valid);
  for (const char* bad : {R"({"a":"b":]})", R"({"a":[1 2]})", R"({"a":1 "b":2})", R"({"a":{"b":1]})",
                          R"({"a":[1}})", R"({"a":1}x)", R"({"a":1}{})", R"({"a":[1,]})"})
    EXPECT_EQ(check(bad), StrictJson::Invalid) << bad;
}

TEST(StrictJson, DepthIsBoundedAndToldApart) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_EQ(check(R"({"x":)" + nested(127) + "}"), StrictJson::Valid);
  EXPECT_EQ(check(R"({"x":)" + nested(128) + "}"), StrictJson::TooDeep);
}

// A string the caller already unescaped is recognised by where it starts and
// not read again; any other string with escapes is.
TEST(StrictJson, StringsTheCallerCheckedAreNotReadAgain) {
  const std::string longBad = "\"" + std::string(300, 'a') + "\\q\"";
  std::string json = R"({"a":)" + longBad + "}";
  EXPECT_EQ(check(json), StrictJson::Invalid);
  json.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  ASSERT_FALSE(parser.iterate(simdjson::padded_string_view(json.data(), json.size(), json.capacity())).get(doc));
  const std::string_view token(json.data() + 5, longBad.size());  // as raw_json_token gives it
  const std::string_view checked[] = {token};
  EXPECT_EQ(checkStrictJson(doc, json, checked), StrictJson::Valid);
}
