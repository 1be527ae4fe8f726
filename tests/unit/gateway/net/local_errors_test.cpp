#include "gateway/net/local_errors.hpp"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>

#include "filters/core/errors.hpp"
#include "gateway/server/file_limits.hpp"

namespace infergate {
namespace {

TEST(LocalErrors, OnlyThisHostRunningOutCounts) {
  using boost::system::error_code;
  using boost::system::system_category;
  for (int e : {EMFILE, ENFILE, ENOBUFS, ENOMEM, EADDRNOTAVAIL})
    EXPECT_TRUE(isLocalResourceError(error_code(e, system_category()))) << e;
  EXPECT_TRUE(isLocalResourceError(boost::asio::error::no_descriptors));
  for (int e : {ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH})
    EXPECT_FALSE(isLocalResourceError(error_code(e, system_category()))) << e;
  EXPECT_FALSE(isLocalResourceError(boost::asio::error::eof));  // another category
}

TEST(LocalErrors, TheGatewaysOwnOverloadIsAnsweredAsOverloaded) {
  const auto reply = errorFor(FailureCause::GatewayResources);
  EXPECT_EQ(reply.status, 503u);
  EXPECT_EQ(reply.code, "overloaded");
  EXPECT_EQ(causeName(FailureCause::GatewayResources), "gateway_resources_exhausted");
}

TEST(FileLimits, TheSoftLimitIsRaisedToTheHardOneAndStreamsNeedTwoEach) {
  EXPECT_GT(raiseOpenFilesLimit(), 0u);
  EXPECT_EQ(streamsAllowedBy(20'000), (20'000u - 64) / 2);
  EXPECT_EQ(streamsAllowedBy(10), 0u);
}

}  // namespace
}  // namespace infergate
