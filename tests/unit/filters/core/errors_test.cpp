#include "filters/core/errors.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

using namespace infergate;

TEST(Errors, OpenAiShapeWithStatusPerCause) {
  struct Case {
    FailureCause cause;
    unsigned status;
  };
  for (auto [cause, status] : {Case{FailureCause::ClientInvalidRequest, 400}, Case{FailureCause::NoRoute, 404},
                               Case{FailureCause::HeaderTimeout, 408}, Case{FailureCause::RequestTooLarge, 413},
                               Case{FailureCause::HeaderTooLarge, 431}, Case{FailureCause::UpstreamConnectError, 502},
                               Case{FailureCause::UpstreamReset, 502}, Case{FailureCause::CircuitOpen, 503},
                               Case{FailureCause::Overloaded, 503},
                               Case{FailureCause::UpstreamFirstTokenTimeout, 504},
                               Case{FailureCause::UpstreamIdleTimeout, 504}}) {
    auto reply = errorFor(cause);
    EXPECT_EQ(reply.status, status) << causeName(cause);
    auto json = boost::json::parse(openaiErrorBody(reply)).as_object();
    const auto& error = json.at("error").as_object();
    EXPECT_FALSE(error.at("message").as_string().empty());
    EXPECT_FALSE(error.at("type").as_string().empty());
    EXPECT_TRUE(error.at("param").is_null());
    EXPECT_FALSE(error.at("code").as_string().empty());
  }
}

TEST(Errors, MessagesAreEscaped) {
  auto reply = errorFor(FailureCause::ClientInvalidRequest, "bad \"quote\" \\ and\nnewline\x01");
  reply.param = "model";
  auto json = boost::json::parse(openaiErrorBody(reply)).as_object();
  EXPECT_EQ(json.at("error").at("message").as_string(), "bad \"quote\" \\ and\nnewline\x01");
  EXPECT_EQ(json.at("error").at("param").as_string(), "model");
}
