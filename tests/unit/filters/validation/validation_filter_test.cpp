#include "filters/validation/validation_filter.hpp"

#include <gtest/gtest.h>

#include "tests/unit/filters/filter_fixture.hpp"

namespace infergate {
namespace {

using testing::FilterFixture;

FilterRegistration validation(bool count = true) {
  return testing::only("validation", [count](const FilterDependencies&, const RouteScope& s) {
    const auto label = s.route ? metrics::LabelSpace::routeIndex(s.index) : 0u;
    return std::make_unique<ValidationFilter>(s.route, label, count);
  });
}

TEST(ValidationFilter, EnforceModeAnswers400NamingTheParam) {
  FilterFixture fx;
  fx.build({validation()});
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1", 3));
  ASSERT_EQ(chain.onRequest(fx.ctx), FilterStatus::LocalReply);
  EXPECT_EQ(fx.ctx.reply.error.status, 400u);
  EXPECT_EQ(fx.ctx.reply.error.param, "messages");
  EXPECT_TRUE(fx.ctx.reply.body.empty());
  EXPECT_EQ(fx.rejected(1, InputViolation::TooManyMessages), 1u);
}

TEST(ValidationFilter, ObserveModeCountsAndForwards) {
  FilterFixture fx;
  fx.build({validation()});
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("o-1", 3), 1);
  EXPECT_EQ(chain.onRequest(fx.ctx), FilterStatus::Continue);
  EXPECT_EQ(fx.rejected(2, InputViolation::TooManyMessages), 1u);
}

TEST(ValidationFilter, UnreadableBodiesAreRefusedUnderNoRoute) {
  FilterFixture fx;
  fx.build({validation()});
  for (int route : {0, -1}) {
    const auto& chain = fx.request("/v1/chat/completions", "{\"model\":", route);
    ASSERT_EQ(chain.onRequest(fx.ctx), FilterStatus::LocalReply);
    EXPECT_EQ(fx.ctx.reply.error.status, 400u);
  }
  EXPECT_EQ(fx.rejected(0, InputViolation::InvalidJson), 2u);
}

TEST(ValidationFilter, UnroutedRequestWithAFieldErrorSaysWhatIsWrong) {
  FilterFixture fx;
  fx.build({validation()});
  const auto& chain = fx.request("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}]})", -1);
  ASSERT_EQ(chain.onRequest(fx.ctx), FilterStatus::LocalReply);
  EXPECT_EQ(fx.ctx.reply.error.param, "model");
  // A well-formed request no route takes is the session's 404, not validation's.
  const auto& again = fx.request("/v1/chat/completions", testing::chat("zzz"), -1);
  EXPECT_EQ(again.onRequest(fx.ctx), FilterStatus::Continue);
}

TEST(ValidationFilter, TokenCapBecomesABodyRewrite) {
  FilterFixture fx;
  fx.build({validation()});
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  EXPECT_EQ(chain.onRequest(fx.ctx), FilterStatus::Continue);
  EXPECT_TRUE(fx.ctx.tokenLimits.insert);  // no max_tokens in the body: the cap is added
  EXPECT_EQ(fx.ctx.tokenLimits.cap, 100u);
}

TEST(ValidationFilter, CountsNothingWhenMetricsAreOff) {
  FilterFixture fx;
  fx.build({validation(false)});
  fx.request("/v1/chat/completions", testing::chat("m-1", 3)).onRequest(fx.ctx);
  EXPECT_EQ(fx.rejected(1, InputViolation::TooManyMessages), 0u);
  EXPECT_EQ(fx.ctx.reply.error.status, 400u);
}

TEST(ValidationFilter, IgnoresPathsThatAreNotJsonApis) {
  FilterFixture fx;
  fx.build({validation()});
  const auto& chain = fx.request("/v1/models", "not json");
  EXPECT_EQ(chain.onRequest(fx.ctx), FilterStatus::Continue);
}

}  // namespace
}  // namespace infergate
