#include "filters/core/request_facts.hpp"

#include <gtest/gtest.h>

#include "filters/validation/input_limits.hpp"

using namespace infergate;

namespace {
RequestFacts parse(std::string body, ApiKind api = ApiKind::Chat) {
  simdjson::ondemand::parser parser;
  RequestFacts facts;
  extractRequestFacts(parser, body, facts, api);
  return facts;
}
const std::string kMsgs = R"("messages":[{"role":"user","content":"hi"}])";
}  // namespace

TEST(RequestFacts, FindsModelStreamAndModelPosition) {
  std::string body = R"({"messages":[{"role":"user","content":"x"}], "model" : "gpt-\"4\"" ,"stream":true})";
  simdjson::ondemand::parser parser;
  RequestFacts f;
  extractRequestFacts(parser, body, f);
  ASSERT_TRUE(f.isJson) << f.error;
  EXPECT_EQ(f.violation, InputViolation::None) << f.error;
  EXPECT_EQ(f.model, "gpt-\"4\"");
  EXPECT_TRUE(f.stream);
  EXPECT_EQ(body.substr(f.modelTokenOffset, f.modelTokenLength), R"("gpt-\"4\"")");
}

TEST(RequestFacts, CountsPromptShape) {
  std::string body = R"({"model":"m","max_tokens":512,"messages":[{"role":"system","content":"héllo"},)"
                     R"({"role":"user","content":[{"type":"text","text":"日本"},{"type":"image_url","image_url":{"url":"x"}}]},)"
                     R"({"role":"assistant","content":null,"tool_calls":[]}]})";
  simdjson::ondemand::parser parser;
  RequestFacts f;
  extractRequestFacts(parser, body, f);
  EXPECT_EQ(f.violation, InputViolation::None) << f.error;
  EXPECT_EQ(f.messages, 3u);
  EXPECT_EQ(f.promptChars, 7u);  // code points, not bytes
  EXPECT_TRUE(f.hasMaxTokens);
  EXPECT_EQ(f.maxTokens, 512u);
  const auto& limit = f.tokenLimits[kMaxTokensKey];
  EXPECT_EQ(body.substr(limit.tokenOffset, limit.tokenLength), "512");
  EXPECT_FALSE(f.tokenLimits[kMaxCompletionTokensKey].present);
}

// Every rule: the body, the violation it must record, and the parameter named.
struct RuleCase {
  const char* name;
  std::string body;
  InputViolation violation;
  const char* param;
};

// Test names and failure messages show the case's body, not its bytes.
void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.body; }

class ValidationRules : public ::testing::TestWithParam<RuleCase> {};

TEST_P(ValidationRules, RecordTheRuleAndParam) {
  const auto& c = GetParam();
  auto f = parse(c.body);
  EXPECT_EQ(violationName(f.violation), violationName(c.violation)) << c.body << " -> " << f.error;
  EXPECT_EQ(f.errorParam, std::string_view(c.param));
  if (c.violation != InputViolation::None) {
    EXPECT_FALSE(f.error.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    OpenAiRules, ValidationRules,
    ::testing::Values(
        RuleCase{"valid", R"({"model":"m",)" + kMsgs + "}", InputViolation::None, ""},
        RuleCase{"all_optional_valid",
                 R"({"model":"m",)" + kMsgs +
                     R"(,"temperature":2,"top_p":0,"n":2,"stream":false,"stop":["a","b"],"tools":[],"response_format":{"type":"json_object"},"max_completion_tokens":5})",
                 InputViolation::None, ""},
        RuleCase{"nulls_mean_defaults", R"({"model":"m",)" + kMsgs + R"(,"temperature":null,"max_tokens":null,"stop":null})",
                 InputViolation::None, ""},
        RuleCase{"missing_model", "{" + kMsgs + "}", InputViolation::MissingModel, "model"},
        RuleCase{"model_number", R"({"model":5,)" + kMsgs + "}", InputViolation::InvalidModel, "model"},
        RuleCase{"model_empty", R"({"model":"",)" + kMsgs + "}", InputViolation::InvalidModel, "model"},
        RuleCase{"messages_missing", R"({"model":"m"})", InputViolation::InvalidMessages, "messages"},
        RuleCase{"messages_empty", R"({"model":"m","messages":[]})", InputViolation::InvalidMessages, "messages"},
        RuleCase{"messages_object", R"({"model":"m","messages":{}})", InputViolation::InvalidMessages, "messages"},
        RuleCase{"message_not_object", R"({"model":"m","messages":["hi"]})", InputViolation::InvalidMessages, "messages"},
        RuleCase{"role_unknown", R"({"model":"m","messages":[{"role":"robot","content":"x"}]})", InputViolation::InvalidRole, "messages"},
        RuleCase{"role_missing", R"({"model":"m","messages":[{"content":"x"}]})", InputViolation::InvalidRole, "messages"},
        RuleCase{"content_number", R"({"model":"m","messages":[{"role":"user","content":5}]})", InputViolation::InvalidContent, "messages"},
        RuleCase{"content_null_for_user", R"({"model":"m","messages":[{"role":"user","content":null}]})", InputViolation::InvalidContent, "messages"},
        RuleCase{"content_part_untyped", R"({"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}]})", InputViolation::InvalidContent, "messages"},
        RuleCase{"max_tokens_zero", R"({"model":"m",)" + kMsgs + R"(,"max_tokens":0})", InputViolation::InvalidMaxTokens, "max_tokens"},
        RuleCase{"max_tokens_fraction", R"({"model":"m",)" + kMsgs + R"(,"max_tokens":1.5})", InputViolation::InvalidMaxTokens, "max_tokens"},
        RuleCase{"max_tokens_huge", R"({"model":"m",)" + kMsgs + R"(,"max_tokens":123456789012345678901234567890})", InputViolation::InvalidMaxTokens, "max_tokens"},
        RuleCase{"max_completion_tokens_string", R"({"model":"m",)" + kMsgs + R"(,"max_completion_tokens":"5"})", InputViolation::InvalidMaxTokens, "max_completion_tokens"},
        RuleCase{"temperature_high", R"({"model":"m",)" + kMsgs + R"(,"temperature":2.5})", InputViolation::InvalidTemperature, "temperature"},
        RuleCase{"temperature_negative", R"({"model":"m",)" + kMsgs + R"(,"temperature":-0.1})", InputViolation::InvalidTemperature, "temperature"},
        RuleCase{"top_p_high", R"({"model":"m",)" + kMsgs + R"(,"top_p":1.01})", InputViolation::InvalidTopP, "top_p"},
        RuleCase{"n_zero", R"({"model":"m",)" + kMsgs + R"(,"n":0})", InputViolation::InvalidN, "n"},
        RuleCase{"stream_string", R"({"model":"m",)" + kMsgs + R"(,"stream":"yes"})", InputViolation::InvalidStream, "stream"},
        RuleCase{"stop_five", R"({"model":"m",)" + kMsgs + R"(,"stop":["a","b","c","d","e"]})", InputViolation::InvalidStop, "stop"},
        RuleCase{"stop_number", R"({"model":"m",)" + kMsgs + R"(,"stop":[1]})", InputViolation::InvalidStop, "stop"},
        RuleCase{"tools_object", R"({"model":"m",)" + kMsgs + R"(,"tools":{}})", InputViolation::InvalidTools, "tools"},
        RuleCase{"response_format_unknown", R"({"model":"m",)" + kMsgs + R"(,"response_format":{"type":"xml"}})", InputViolation::InvalidResponseFormat, "response_format"}),
    [](const ::testing::TestParamInfo<RuleCase>& info) { return std::string(info.param.name); });

TEST(RequestFacts, MalformedBodiesAreUnparseableNotCrashes) {
  struct Bad {
    std::string body;
    InputViolation violation;
  };
  std::string deep(10000, '[');
  deep = R"({"model":"m","x":)" + deep + std::string(10000, ']') + "}";
  for (const auto& [body, violation] : {
           Bad{R"({"model":)", InputViolation::InvalidJson},
           Bad{R"({"model":"m", "messages":[{"role":"user","content":"x"}])", InputViolation::InvalidJson},
           Bad{"", InputViolation::InvalidJson},
           Bad{"[1,2]", InputViolation::InvalidJson},
           Bad{R"({"model":"a"} trailing)", InputViolation::InvalidJson},
           Bad{"{\"model\":\"\xff\xfe\"}", InputViolation::InvalidUtf8},
           Bad{"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\x28\"}]}", InputViolation::InvalidUtf8},
           Bad{deep, InputViolation::InvalidJson},
       }) {
    auto f = parse(body);
    EXPECT_FALSE(f.isJson) << body.substr(0, 60);
    EXPECT_EQ(violationName(f.violation), violationName(violation)) << body.substr(0, 60);
  }
}

TEST(RouteLimits, PromptMessagesAndMaxTokensCap) {
  config::ValidationConfig limits;
  limits.max_prompt_chars = 5;
  auto f = parse(R"({"model":"m","messages":[{"role":"user","content":"123456"}]})");
  TokenLimitRewrite rewrite;
  applyRouteLimits(limits, ApiKind::Chat, f, rewrite);
  EXPECT_EQ(f.violation, InputViolation::PromptTooLong);

  limits = {};
  limits.max_messages = 1;
  f = parse(R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]})");
  applyRouteLimits(limits, ApiKind::Chat, f, rewrite);
  EXPECT_EQ(f.violation, InputViolation::TooManyMessages);

  limits = {};
  limits.max_tokens_cap = 100;
  f = parse(R"({"model":"m",)" + kMsgs + R"(,"max_tokens":101})");
  applyRouteLimits(limits, ApiKind::Chat, f, rewrite);
  EXPECT_EQ(f.violation, InputViolation::MaxTokensTooLarge);
  EXPECT_EQ(f.errorParam, "max_tokens");
  limits.clamp_max_tokens = true;
  f = parse(R"({"model":"m",)" + kMsgs + R"(,"max_tokens":101})");
  applyRouteLimits(limits, ApiKind::Chat, f, rewrite);
  EXPECT_EQ(f.violation, InputViolation::None);
  EXPECT_EQ(rewrite.cap, 100u);
  EXPECT_TRUE(rewrite.clamp[kMaxTokensKey]);
  EXPECT_FALSE(rewrite.clamp[kMaxCompletionTokensKey]);
  EXPECT_FALSE(rewrite.insert);
}

// Servers differ in which limit they read when both are sent: the cap holds
// for each, in both modes, whichever is the larger.
TEST(RouteLimits, CapAppliesToEveryTokenLimitKey) {
  config::ValidationConfig limits;
  limits.max_tokens_cap = 100;
  const std::string both = R"({"model":"m",)" + kMsgs + R"(,"max_completion_tokens":100000,"max_tokens":5})";
  auto f = parse(both);
  EXPECT_EQ(f.maxTokens, 100000u);  // the profile sees the larger
  TokenLimitRewrite rewrite;
  applyRouteLimits(limits, ApiKind::Chat, f, rewrite);
  EXPECT_EQ(f.violation, InputViolation::MaxTokensTooLarge);
  EXPECT_EQ(f.errorParam, "max_completion_tokens");

  limits.clamp_max_tokens = true;
  f = parse(both);
  applyRouteLimits(limits, ApiKind::Chat, f, rewrite);
  EXPECT_EQ(f.violation, InputViolation::None);
  EXPECT_TRUE(rewrite.clamp[kMaxCompletionTokensKey]);
  EXPECT_FALSE(rewrite.clamp[kMaxTokensKey]);  // 5 is within the cap
  EXPECT_EQ(both.substr(f.tokenLimits[kMaxCompletionTokensKey].tokenOffset,
                        f.tokenLimits[kMaxCompletionTokensKey].tokenLength),
            "100000");
}

// Observe mode forwards a body with an unreadable limit: it goes out as the
// cap, never as each server would read "5.5" or "9".
TEST(RouteLimits, UnreadableLimitsAreForwardedAsTheCap) {
  config::ValidationConfig limits;
  limits.max_tokens_cap = 100;
  auto f = parse(R"({"model":"m",)" + kMsgs + R"(,"max_tokens":5.5,"max_completion_tokens":"9"})");
  EXPECT_EQ(f.violation, InputViolation::InvalidMaxTokens);
  TokenLimitRewrite rewrite;
  applyRouteLimits(limits, ApiKind::Chat, f, rewrite);
  EXPECT_TRUE(rewrite.clamp[kMaxTokensKey]);
  EXPECT_TRUE(rewrite.clamp[kMaxCompletionTokensKey]);
  EXPECT_FALSE(rewrite.insert);
}

TEST(RouteLimits, AbsentLimitGetsTheCapUnlessAllowed) {
  config::ValidationConfig limits;
  limits.max_tokens_cap = 100;
  auto f = parse(R"({"model":"m",)" + kMsgs + "}");
  TokenLimitRewrite rewrite;
  applyRouteLimits(limits, ApiKind::Chat, f, rewrite);
  EXPECT_TRUE(rewrite.insert);
  EXPECT_EQ(rewrite.cap, 100u);
  // null is the server's default: it becomes the cap in place, not a second key.
  f = parse(R"({"model":"m",)" + kMsgs + R"(,"max_tokens":null})");
  applyRouteLimits(limits, ApiKind::Chat, f, rewrite);
  EXPECT_FALSE(rewrite.insert);
  EXPECT_TRUE(rewrite.clamp[kMaxTokensKey]);
  // Embeddings generate no tokens.
  f = parse(R"({"model":"m","input":"x"})", ApiKind::Embedding);
  applyRouteLimits(limits, ApiKind::Embedding, f, rewrite);
  EXPECT_FALSE(rewrite.any());
  limits.insert_max_tokens_when_absent = false;
  f = parse(R"({"model":"m",)" + kMsgs + "}");
  applyRouteLimits(limits, ApiKind::Chat, f, rewrite);
  EXPECT_FALSE(rewrite.any());
}

// A body must be RFC 8259 JSON in every byte, including values the gateway
// never reads: each of these reached the backend before.
TEST(RequestFacts, NonJsonAnywhereIsRefused) {
  for (const std::string tail : {R"("temperature":NaN)", R"("temperature":Infinity)", R"("top_p":NaN)",
                                 R"("temperature":-Infinity)", R"("x":tru)", R"("x":{"a":nul})", R"("x":01)",
                                 R"("x":[1 2])", R"("x":{"a" "b"})", R"("x":"\q")", R"("x":1.)", R"("x":-)",
                                 R"("x":.5)", R"("x":+1)", R"("x":"\ud800")", R"("x":[1,])", R"("x":{"a":1,})",
                                 R"("x":'a')", R"("x":truex)", R"("x":nulll)", R"("x":0x10)", R"("x":1e400)",
                                 R"("x\q":1)", "\"x\":\"a\tb\"", R"("x":[[1],[2 3]])", R"("x":{"a":{"b":[nul]}})",
                                 // A value followed by neither a comma nor its closing bracket: simdjson's
                                 // loops end there without an error (found by fuzz_request_facts).
                                 R"("x":{"a":"b":]})", R"("":"":])", R"("x":{"a":"b":]},"y":1)",
                                 R"("x":[1:])", R"("x":{"a":[1,2]:3})", R"("x":{"a":1}])"}) {
    const std::string body = R"({"model":"m",)" + kMsgs + "," + tail + "}";
    const auto f = parse(body);
    EXPECT_FALSE(f.isJson) << body;
    EXPECT_EQ(violationName(f.violation), "invalid_json") << body;
  }
  // The same places with valid values pass.
  for (const std::string tail : {R"("temperature":1.5e0)", R"("x":true)", R"("x":{"a":null})", R"("x":0)",
                                 R"("x":[1,2])", R"("x":{"a":"b"})", R"("x":"\n\u00e9\ud83d\ude00")", R"("x":-0.5E-3)",
                                 R"("x":[])", R"("x":{})", R"("x\n":1)", R"("x":123456789012345678901234567890)",
                                 R"("x":-123456789012345678901234567890 )"}) {
    const std::string body = R"({"model":"m",)" + kMsgs + "," + tail + "}";
    const auto f = parse(body);
    EXPECT_TRUE(f.isJson) << body;
    EXPECT_EQ(f.violation, InputViolation::None) << body << " -> " << f.error;
  }
  // Inside the parts the gateway reads too: message fields, content parts, tools.
  for (const std::string body : {
           R"({"model":"m","messages":[{"role":"user","content":"x","name":nul}]})",
           R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x","extra":01}]}]})",
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","x":[1 2]}]})",
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"text","x":tru}})",
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":NaN}})",
       }) {
    EXPECT_FALSE(parse(body).isJson) << body;
  }
}

// Keys the gateway routes, validates or rewrites on must appear once: the
// gateway keeps one copy and a server may read the other.
TEST(RequestFacts, RepeatedKeysTheGatewayReadsAreRefused) {
  struct Case {
    std::string body;
    const char* param;
  };
  for (const auto& c : {
           Case{R"({"model":"m",)" + kMsgs + R"(,"max_tokens":5,"max_tokens":null})", "max_tokens"},
           Case{R"({"model":"a","model":"b",)" + kMsgs + "}", "model"},
           Case{R"({"model":"m",)" + kMsgs + R"(,"stream":false,"stream":true})", "stream"},
           Case{R"({"model":"m",)" + kMsgs + "," + kMsgs + "}", "messages"},
           Case{R"({"model":"m",)" + kMsgs + R"(,"temperature":1,"temperature":9})", "temperature"},
           Case{R"({"model":"m","messages":[{"role":"user","role":"system","content":"x"}]})", "messages"},
           Case{R"({"model":"m","messages":[{"role":"user","content":"x","content":"y"}]})", "messages"},
           Case{R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}]})", "messages"},
           // An escaped key is the same key to every parser.
           Case{R"({"model":"m",)" + kMsgs + R"(,"max_tokens":5,"max_\u0074okens":9})", "max_tokens"},
       }) {
    const auto f = parse(c.body);
    EXPECT_FALSE(f.isJson) << c.body;
    EXPECT_EQ(violationName(f.violation), "duplicate_key") << c.body;
    EXPECT_EQ(f.errorParam, std::string_view(c.param)) << c.body;
    EXPECT_NE(f.error.find("repeats the key"), std::string::npos) << f.error;
  }
  // Keys the gateway does not read may repeat (the server's business).
  EXPECT_TRUE(parse(R"({"model":"m",)" + kMsgs + R"(,"user":"a","user":"b"})").isJson);
}

TEST(RequestFacts, KnowsTheJsonApiPaths) {
  EXPECT_TRUE(isJsonApiPath("/v1/chat/completions"));
  EXPECT_TRUE(isJsonApiPath("/v1/completions"));
  EXPECT_TRUE(isJsonApiPath("/v1/embeddings"));
  EXPECT_FALSE(isJsonApiPath("/v1/models"));
  EXPECT_EQ(parse(R"({"model":"m","input":"x"})", ApiKind::Embedding).violation, InputViolation::None);
  EXPECT_EQ(parse(R"({"model":"m","prompt":"x"})", ApiKind::Completion).violation, InputViolation::None);
}

TEST(RequestFacts, CountsCodePointsOfLongMultibyteText) {
  // Long enough for the 16-byte SIMD steps, with characters of 1, 2, 3 and 4 bytes
  // straddling the step boundaries.
  std::string text;
  for (int i = 0; i < 97; ++i) text += "aé日😀";
  auto f = parse(R"({"model":"m","messages":[{"role":"user","content":")" + text + R"("}]})");
  EXPECT_EQ(f.violation, InputViolation::None);
  EXPECT_EQ(f.promptChars, 97u * 4);
}

// The profile's script sample: every code point of the first 2 KiB, letters by
// script as scriptOf classifies them, ASCII runs and multibyte characters mixed.
TEST(RequestFacts, SamplesScriptsOfMixedText) {
  const std::string text = "Hello, мир! 日本語 and مرحبا 123 Ωmega ÀÉ";
  auto f = parse(R"({"model":"m","messages":[{"role":"user","content":")" + text + R"("}]})");
  ASSERT_EQ(f.violation, InputViolation::None) << f.error;
  // Hello(5) and(3) mega(4) ÀÉ(2) | мир(3) | 日本語(3) | مرحبا(5) | Ω is Greek: another script.
  EXPECT_EQ(f.scriptLatin, 14u);
  EXPECT_EQ(f.scriptCyrillic, 3u);
  EXPECT_EQ(f.scriptCjk, 3u);
  EXPECT_EQ(f.scriptArabic, 5u);
  EXPECT_EQ(f.sampledCodePoints, f.promptChars);
  EXPECT_EQ(f.sampledNonAscii, 3u + 3 + 5 + 1 + 2);

  // Only the first 2 KiB are sampled; a character cut by the bound is left out.
  std::string longText(2047, 'a');
  longText += "日";  // bytes 2047-2049: cut
  auto g = parse(R"({"model":"m","messages":[{"role":"user","content":")" + longText + R"("}]})");
  EXPECT_EQ(g.sampledCodePoints, 2047u);
  EXPECT_EQ(g.scriptLatin, 2047u);
  EXPECT_EQ(g.scriptCjk, 0u);
  EXPECT_EQ(g.promptChars, 2048u);
}

// Nesting is checked once parsed, outside the long prompt strings read (they
// hold no structure, whatever brackets their text has): real nesting before,
// between or after them is found; brackets inside them never count.
TEST(RequestFacts, NestingIsCheckedOutsideTheLongPromptStrings) {
  const std::string brackets(300, '[');  // text, not structure
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  auto chat = [&](const std::string& before, const std::string& after) {
    return R"({"model":"m",)" + before + R"("messages":[{"role":"user","content":")" + brackets +
           R"("},{"role":"user","content":[{"type":"text","text":")" + brackets + R"("}]}])" + after + "}";
  };
  EXPECT_EQ(parse(chat("", "")).violation, InputViolation::None);
  EXPECT_EQ(parse(chat("", R"(,"x":)" + nested(120))).violation, InputViolation::None);
  for (const auto& body : {chat(R"("x":)" + nested(130) + ",", ""), chat("", R"(,"x":)" + nested(130))}) {
    const auto f = parse(body);
    EXPECT_EQ(f.violation, InputViolation::InvalidJson);
    EXPECT_EQ(f.error, "The JSON body is nested too deeply.");
  }
  // Nesting inside messages is what is reported, not the element's shape.
  const auto inMessages = parse(R"({"model":"m","messages":[{"role":"user","content":")" + brackets + R"("},)" +
                                nested(200) + "]}");
  EXPECT_EQ(inMessages.error, "The JSON body is nested too deeply.");
  // A completions prompt is a long string too.
  const auto completion = parse(R"({"model":"m","prompt":")" + brackets + R"(","x":)" + nested(130) + "}",
                                ApiKind::Completion);
  EXPECT_EQ(completion.error, "The JSON body is nested too deeply.");
  EXPECT_EQ(parse(R"({"model":"m","prompt":")" + brackets + R"("})", ApiKind::Completion).violation, InputViolation::None);
}

// The opening (the first two messages) is hashed for prefix affinity: later
// turns do not change it, the system prompt or the first turn does.
TEST(RequestFacts, TheOpeningIsHashedForPrefixAffinity) {
  const auto chat = [](const std::string& system, const std::string& first, const std::string& later) {
    return parse(R"({"model":"m","messages":[{"role":"system","content":")" + system +
                 R"("},{"role":"user","content":")" + first + R"("},{"role":"user","content":")" + later + R"("}]})")
        .prefixHash;
  };
  const std::string longSystem(3000, 'x');  // read escaped, past kNotedStringBytes
  EXPECT_NE(chat("be brief", "hi", "a"), 0u);
  EXPECT_EQ(chat("be brief", "hi", "a"), chat("be brief", "hi", "something else entirely"));
  EXPECT_NE(chat("be brief", "hi", "a"), chat("be long", "hi", "a"));
  EXPECT_NE(chat("be brief", "hi", "a"), chat("be brief", "hello", "a"));
  EXPECT_EQ(chat(longSystem, "hi", "a"), chat(longSystem, "hi", "b"));
  EXPECT_NE(chat(longSystem, "hi", "a"), chat(longSystem + "y", "hi", "a"));  // the length counts past the sampled bytes
  EXPECT_EQ(parse(R"({"model":"m","prompt":"hello"})", ApiKind::Completion).prefixHash, 0u);
}
