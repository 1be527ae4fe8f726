#include "gateway/upstream/body_edits.hpp"

#include <gtest/gtest.h>

using namespace infergate;

namespace {
std::string edited(std::string body, bool injectUsage, std::string_view rename, bool clamp = true) {
  simdjson::ondemand::parser parser;
  RequestFacts facts;
  extractRequestFacts(parser, body, facts);
  config::ValidationConfig limits;
  limits.max_tokens_cap = 64;
  limits.clamp_max_tokens = clamp;
  TokenLimitRewrite rewrite;
  applyRouteLimits(limits, ApiKind::Chat, facts, rewrite);
  BodyEdits edits;
  edits.plan(facts, injectUsage, rename, rewrite);
  const auto out = edits.apply(body);
  EXPECT_EQ(out.size(), edits.editedSize(body.size()));
  return out;
}
const std::string kMsgs = R"("messages":[{"role":"user","content":"x"}])";
}  // namespace

TEST(BodyEdits, EveryEditInOneBody) {
  EXPECT_EQ(edited(R"({"model":"m","stream":true,"max_tokens":1000,)" + kMsgs + "}", true, "real/model"),
            R"({"stream_options":{"include_usage":true},"model":"real/model","stream":true,"max_tokens":64,)" + kMsgs + "}");
}

// A limit the gateway cannot read goes out as the cap, whatever its shape
// (observe mode forwards such bodies): the whole value is replaced.
TEST(BodyEdits, UnreadableLimitsOfAnyShapeBecomeTheCap) {
  EXPECT_EQ(edited(R"({"model":"m","max_tokens":[1,{"a":"]}"}],)" + kMsgs + "}", false, ""),
            R"({"model":"m","max_tokens":64,)" + kMsgs + "}");
  EXPECT_EQ(edited(R"({"model":"m","max_completion_tokens":"9",)" + kMsgs + "}", false, ""),
            R"({"model":"m","max_completion_tokens":64,)" + kMsgs + "}");
  EXPECT_EQ(edited(R"({"model":"m","max_tokens":5.5 ,)" + kMsgs + "}", false, ""),
            R"({"model":"m","max_tokens":64 ,)" + kMsgs + "}");
}

TEST(BodyEdits, NothingToEditLeavesTheBodyAlone) {
  const std::string body = R"({"model":"m","max_tokens":10,)" + kMsgs + "}";
  EXPECT_EQ(edited(body, true, ""), body);
}
