#include "filters/validation/validation_filter.hpp"

#include <gtest/gtest.h>

#include "tests/unit/filters/filter_fixture.hpp"

namespace infergate {
namespace {

using testing::FilterFixture;

// The filter of every route, its family declared on the fixture's registry
// (`counted` false: metrics off, nothing counted).
struct Validation {
  explicit Validation(FilterFixture& fx, bool counted = true)
      : stats(std::make_shared<ValidationStats>(*fx.stats, *fx.labels)) {
    auto shared = counted ? stats : nullptr;
    fx.build({testing::only("validation", [shared](const FilterDependencies&, const RouteScope& s) {
      const auto label = s.route ? metrics::LabelSpace::routeIndex(s.index) : 0u;
      return std::make_unique<ValidationFilter>(s.route, label, shared);
    })});
  }
  std::uint64_t rejected(std::uint32_t routeLabel, InputViolation why) const {
    return stats->rejected.total({routeLabel, static_cast<std::uint32_t>(why)});
  }
  std::shared_ptr<ValidationStats> stats;
};

TEST(ValidationFilter, EnforceModeAnswers400NamingTheParam) {
  FilterFixture fx;
  Validation v(fx);
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1", 3));
  ASSERT_EQ(chain.onRequest(fx.ctx), FilterStatus::LocalReply);
  EXPECT_EQ(fx.ctx.reply->error.status, 400u);
  EXPECT_EQ(fx.ctx.reply->error.param, "messages");
  EXPECT_TRUE(fx.ctx.reply->body.empty());
  EXPECT_EQ(v.rejected(1, InputViolation::TooManyMessages), 1u);
}

TEST(ValidationFilter, ObserveModeCountsAndForwards) {
  FilterFixture fx;
  Validation v(fx);
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("o-1", 3), 1);
  EXPECT_EQ(chain.onRequest(fx.ctx), FilterStatus::Continue);
  EXPECT_EQ(v.rejected(2, InputViolation::TooManyMessages), 1u);
}

TEST(ValidationFilter, UnreadableBodiesAreRefusedUnderNoRoute) {
  FilterFixture fx;
  Validation v(fx);
  for (int route : {0, -1}) {
    const auto& chain = fx.request("/v1/chat/completions", "{\"model\":", route);
    ASSERT_EQ(chain.onRequest(fx.ctx), FilterStatus::LocalReply);
    EXPECT_EQ(fx.ctx.reply->error.status, 400u);
  }
  EXPECT_EQ(v.rejected(0, InputViolation::InvalidJson), 2u);
}

TEST(ValidationFilter, UnroutedRequestWithAFieldErrorSaysWhatIsWrong) {
  FilterFixture fx;
  Validation v(fx);
  const auto& chain = fx.request("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}]})", -1);
  ASSERT_EQ(chain.onRequest(fx.ctx), FilterStatus::LocalReply);
  EXPECT_EQ(fx.ctx.reply->error.param, "model");
  // A well-formed request no route takes is the session's 404, not validation's.
  const auto& again = fx.request("/v1/chat/completions", testing::chat("zzz"), -1);
  EXPECT_EQ(again.onRequest(fx.ctx), FilterStatus::Continue);
}

TEST(ValidationFilter, TokenCapBecomesABodyRewrite) {
  FilterFixture fx;
  Validation v(fx);
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  EXPECT_EQ(chain.onRequest(fx.ctx), FilterStatus::Continue);
  EXPECT_TRUE(fx.ctx.tokenLimits.insert);  // no max_tokens in the body: the cap is added
  EXPECT_EQ(fx.ctx.tokenLimits.cap, 100u);
}

TEST(ValidationFilter, CountsNothingWhenMetricsAreOff) {
  FilterFixture fx;
  Validation v(fx, false);
  fx.request("/v1/chat/completions", testing::chat("m-1", 3)).onRequest(fx.ctx);
  EXPECT_EQ(v.rejected(1, InputViolation::TooManyMessages), 0u);
  EXPECT_EQ(fx.ctx.reply->error.status, 400u);
}

TEST(ValidationFilter, IgnoresPathsThatAreNotJsonApis) {
  FilterFixture fx;
  Validation v(fx);
  const auto& chain = fx.request("/v1/models", "not json");
  EXPECT_EQ(chain.onRequest(fx.ctx), FilterStatus::Continue);
}

}  // namespace
}  // namespace infergate
